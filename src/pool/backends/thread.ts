/**
 * The own thread backend: worker threads (`node:worker_threads`) started, stopped, replaced
 * and spoken to directly, without tinypool. `kind: "thread"` uses it by default, on Node and
 * Deno (the option `backend: "tinypool"` puts threads on tinypool instead). Chosen by
 * measurement (bench/suites/roundtrip.ts): on no-op calls, 2 workers, the same pool does
 * 2–2.4× the round trips it does on tinypool on Node and about 6× under Deno, at a lower
 * lone-call latency and CPU time per call. tinypool pays per call for bookkeeping (an `AsyncResource` per task, a
 * `process.memoryUsage()` after every task in the worker, a file read under Deno) and, on
 * Node, an Atomics wait loop on the main thread.
 *
 * A worker runs one call at a time (or up to `concurrentTasksPerWorker`), and may hold up to
 * `pipelineDepth` more, posted ahead so that it never waits for a round trip: it starts the
 * next as soon as the running one ends. Each posted call owns a cell of a shared Int32Array
 * (`claims`): the worker starts a call only by claiming its cell, and the backend takes back
 * a call that has not started by claiming it first (one compare-and-swap each side, with no
 * round trip, even while the worker is deep in a CPU-bound call). So whatever happens, a call
 * posted ahead has either started, and is blamed for what befalls its worker, or never will:
 * - a worker that exits (`process.exit`, `Deno.exit`, an uncaught error, out of memory) fails
 *   the calls it had started with a WorkerCrashedError and is replaced; those it had not
 *   started go back to the head of the queue and run elsewhere, once;
 * - cancelling (or timing out) a call not started yet takes it back: it never runs; a
 *   running one is aborted in its worker, which is stopped after `cancelGraceMs` if still
 *   busy with it (its calls not started go back to the queue);
 * - a worker whose running call has run for `stallMs` gets no more calls posted ahead, and
 *   those it holds are taken back and go to another worker: a long call never holds short
 *   ones hostage while another worker could run them;
 * - a call moving buffers (a transfer list, a stream's port) is posted only to a worker that
 *   starts it at once: what it moved could not be taken back.
 * The pool arms `taskTimeoutMs` when the backend says a call started (`PoolCall.begin`): at
 * its post to a worker with room, or when the answer before it in that worker arrives (the
 * worker starts it in that same turn). Idle workers do not keep the process alive, busy ones do. Requests and answers travel on a private MessageChannel, so what a
 * task itself posts on `parentPort` can never pass for an answer: the call fails instead.
 * Every message that holds an object travels sealed in a Map (see `seal` in protocol.ts):
 * Deno's MessagePort walks each message property by property, a typed array byte by byte.
 * @module
 */
import { clearTimeout, setTimeout } from "node:timers";
import { MessageChannel, type MessagePort, receiveMessageOnPort, type TransferListItem, Worker } from "node:worker_threads";
import { describeValue } from "../../core/index.ts";
import { Graces, type Pending, type PoolBackend } from "./backend.ts";
import type { PoolCall } from "../call.ts";
import { WorkerCrashedError } from "../errors.ts";
import { describeHeapLimits, type ResolvedPoolOptions } from "../options.ts";
import {
  type AbortNotice,
  type CallRequest,
  describeRequest,
  seal,
  type ShortCall,
  type StopNotice,
  threadResult,
} from "../protocol.ts";
import { isDeno } from "../packages.ts";
import { workerEntryUrl } from "../worker/entry.ts";

/**
 * Under Deno, how long a worker asked to end itself (see `_stopSelf`) has before it is
 * terminated. A worker in its event loop ends at once; only one stuck in JavaScript, which
 * never reads the request (and which Deno cannot stop either), waits it out.
 */
const SELF_STOP_MS = 2_000;

const WAITING = 0;
const POSTED = 1;
const RUNNING = 2;
const DONE = 3;

/** A claim cell taken back by the backend holds its call's number with this bit flipped. */
const REVOKED_BIT = 1 << 30;

/**
 * A call handed to the backend, and what `call` returns for it: the pool's `then` gets the
 * answer straight from the port's message, in the same turn (no promise, no extra
 * microtask per call: the freed worker gets its next call sooner). A failure reaches the
 * pool a microtask later, as a promise's would: the pool may be stopping that very call
 * (a cancel, a timeout) and settles it itself first.
 */
class Job {
  state = WAITING;
  slot: Slot | null = null;
  /** Its number on its worker's port, once posted. */
  seq = 0;
  private _onAnswer: ((raw: unknown) => void) | null = null;
  private _onFailure: ((e: unknown) => void) | null = null;
  /** Settled before the pool listened: 1 answered, 2 failed. */
  private _early = 0;
  private _earlyValue: unknown = undefined;
  /** Cancelled while it ran: its worker was asked to stop it, and has until this timer. */
  grace: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    /** What is posted: a ShortCall, or a sealed one or CallRequest (see `seal`). */
    readonly message: unknown,
    readonly req: CallRequest,
    readonly transfer: readonly TransferListItem[],
    readonly call: PoolCall,
  ) {}

  then(onAnswer: (raw: unknown) => void, onFailure: (e: unknown) => void): void {
    this._onAnswer = onAnswer;
    this._onFailure = onFailure;
    if (this._early !== 0) {
      const f = this._early === 1 ? onAnswer : onFailure;
      const v = this._earlyValue;
      queueMicrotask(() => f(v));
    }
  }

  resolve(raw: unknown): void {
    const f = this._onAnswer;
    if (f !== null) f(raw);
    else this._settleEarly(1, raw);
  }

  reject(e: unknown): void {
    const f = this._onFailure;
    if (f !== null) queueMicrotask(() => f(e));
    else this._settleEarly(2, e);
  }

  private _settleEarly(how: number, value: unknown): void {
    this._early = how;
    this._earlyValue = value;
  }
}

/** One worker thread. */
interface Slot {
  readonly worker: Worker;
  /** The main thread's end of the worker's private channel. */
  readonly port: MessagePort;
  /** The calls posted to it and not answered, in order: those started first. */
  jobs: Job[];
  /** How many of `jobs` have started. */
  running: number;
  /** One cell per call in flight (see the module's comment), shared with the worker. */
  readonly claims: Int32Array;
  /** How many task modules it is loading, shared with the worker (see `WorkerEntry.loading`). */
  readonly loading: Int32Array;
  /** The number of the last call posted. */
  seq: number;
  /** When its latest call started (performance.now()). */
  startedAt: number;
  /** Several calls at once: the call whose answer comes next (its number came first). */
  answerFor: Job | null;
  /** The uncaught error it reported; its "exit" follows. */
  error: unknown;
  /** When it last became idle (performance.now()). */
  idleSince: number;
  /** Does it keep the process alive (`worker.ref()`)? A busy worker does, an idle one not. */
  refd: boolean;
  /** Stopped on purpose (a cancel, idleness, destroy): its exit fails nothing. */
  retired: boolean;
  /** Has it answered a call yet? A worker that dies before is not replaced at once. */
  answered: boolean;
  /** It reported an uncaught error: it gets no further call, its exit follows. */
  dying: boolean;
  /** Its "exit" has fired. */
  exited: boolean;
}

/** Stands for an answer whose call the backend no longer has: the answer is dropped. */
const NO_JOB = {} as Job;

function abortError(): Error {
  const e = new Error("the call was aborted: its worker was stopped");
  e.name = "AbortError";
  return e;
}

/** @internal */
export class ThreadBackend implements PoolBackend {
  /**
   * How long a worker's running call may run before the calls posted behind it are taken back
   * (and no more are posted to it), ms. Pipelining only pays for short calls, whose round trip
   * weighs; a call this long hides a round trip a hundred times over. (Tests raise it to hold
   * calls behind a blocked one.)
   */
  static stallMs = 3;
  readonly startsLater = true;
  /** Every live worker, idle or busy (not those being stopped). */
  private readonly _slots = new Set<Slot>();
  /** Workers with no call; the most recently freed last (it is the warmest). */
  private readonly _idle: Slot[] = [];
  /** Calls no worker can take now (every one full, or running a long call), in order. */
  private readonly _waiting: Job[] = [];
  /** Workers being stopped, until they have exited. */
  private readonly _stopping = new Set<Promise<void>>();
  private _sweep: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Runs while calls wait in workers' queues: takes them back from workers that stall. */
  private _stallWatch: ReturnType<typeof setInterval> | undefined = undefined;
  private _destroyed = false;
  /** Cancelled calls within their grace (see `graces`). */
  private readonly _graces = new Graces<Job>();
  private readonly _entry: URL;
  /** Calls a worker runs at once (`concurrentTasksPerWorker`). */
  private readonly _concurrency: number;
  /** Calls a worker holds at most: those it runs and those posted ahead (`pipelineDepth`). */
  private readonly _hold: number;
  /** The size of each worker's claim cells: a power of two above `_hold`. */
  private readonly _cells: number;

  constructor(
    private readonly _options: ResolvedPoolOptions,
    /** The pool's task module, which its workers know from `workerData`. */
    private readonly _module: string | null,
  ) {
    this._entry = new URL(workerEntryUrl("thread"));
    this._concurrency = _options.concurrentTasksPerWorker;
    this._hold = this._concurrency + _options.pipelineDepth;
    let cells = 2;
    while (cells <= this._hold) cells *= 2;
    this._cells = cells;
    this._replenish();
  }

  /** @internal How many calls were ever posted to a worker ahead of their start (for tests). */
  postedAhead = 0;

  stop(call: PoolCall): void {
    const job = call.takeJob<Job>();
    if (job !== undefined) this._abort(job);
  }

  call(req: CallRequest, transfer: readonly TransferListItem[], call: PoolCall): Pending {
    if (this._destroyed) return Promise.reject(new Error("the pool's workers have been stopped"));
    const short: CallRequest | ShortCall = req.op === "call" && req.module === this._module
      ? (req.args.length === 0 ? req.task : [req.task, ...req.args])
      : req;
    // Sealed, so that Deno does not walk the arguments (see `seal`).
    const message = typeof short === "string" ? short : seal(short, transfer);
    const job = new Job(message, req, transfer, call);
    call.job = job;
    const slot = this._waiting.length > 0 ? undefined : this._slotFor(job);
    if (slot === undefined) this._waiting.push(job);
    else this._post(slot, job);
    return job;
  }

  result(raw: unknown): unknown {
    return threadResult(raw);
  }

  failure(error: unknown): unknown {
    // Crashes arrive as WorkerCrashedError already; a DataCloneError is named by the pool.
    return error;
  }

  workers(): number {
    return this._slots.size;
  }

  /** Resolves once no cancelled call is within its grace: its task answered, or its worker was stopped. */
  graces(): Promise<void> {
    return this._graces.wait();
  }

  /** `job` left its worker (it answered, or the worker died or was stopped): its grace, if any, is over. */
  private _endGrace(job: Job): void {
    if (job.grace === undefined) return;
    clearTimeout(job.grace);
    this._graces.end(job);
  }

  async destroy(): Promise<void> {
    this._destroyed = true;
    this._graces.endAll();
    if (this._sweep !== undefined) clearTimeout(this._sweep);
    this._sweep = undefined;
    this._stopStallWatch();
    const stopped = new Error("the pool's workers have been stopped");
    for (const job of this._waiting.splice(0)) {
      job.state = DONE;
      job.reject(stopped);
    }
    for (const slot of [...this._slots]) {
      const jobs = slot.jobs;
      this._retire(slot);
      for (const job of jobs) {
        job.state = DONE;
        job.slot = null;
        job.reject(stopped);
      }
    }
    await Promise.all(this._stopping);
  }

  /**
   * The worker `job` goes to now, if any: an idle one, a new one while there is room, one
   * with room to start it, or (a call that moves nothing) the least loaded of those that
   * run short calls, behind what it holds.
   */
  private _slotFor(job: Job): Slot | undefined {
    const idle = this._idle.pop();
    if (idle !== undefined) return idle;
    if (this._slots.size < this._options.maxWorkers) return this._startWorker();
    const concurrency = this._concurrency;
    const ahead = job.transfer.length === 0;
    if (concurrency === 1 && !ahead) return undefined;
    const now = ahead ? performance.now() : 0;
    let best: Slot | undefined;
    for (const slot of this._slots) {
      const n = slot.jobs.length;
      if (slot.dying || n >= this._hold || (best !== undefined && n >= best.jobs.length)) continue;
      if (slot.running < concurrency || (ahead && now - slot.startedAt < ThreadBackend.stallMs)) best = slot;
    }
    return best;
  }

  private _startWorker(): Slot {
    const { port1: port, port2 } = new MessageChannel();
    const claims = new Int32Array(new SharedArrayBuffer(4 * this._cells));
    const loading = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(this._entry, {
      name: "loopwork",
      workerData: {
        loopworkModule: this._module,
        loopworkPort: port2,
        loopworkWatchMemory: this._options.resourceLimits !== null,
        loopworkClaims: claims,
        loopworkConcurrency: this._concurrency,
        loopworkLoading: loading,
      },
      transferList: [port2],
      ...(this._options.resourceLimits !== null ? { resourceLimits: { ...this._options.resourceLimits } } : {}),
    });
    const slot: Slot = {
      worker,
      port,
      jobs: [],
      running: 0,
      claims,
      loading,
      seq: 0,
      startedAt: performance.now(),
      answerFor: null,
      error: undefined,
      idleSince: 0,
      refd: true,
      retired: false,
      answered: false,
      dying: false,
      exited: false,
    };
    port.on("message", (raw: unknown) => this._message(slot, raw));
    port.on("messageerror", (e: unknown) => {
      const job = this._concurrency > 1 ? slot.answerFor : slot.jobs[0];
      slot.answerFor = null;
      if (job === null || job === undefined || job === NO_JOB || job.slot !== slot) return;
      this._finish(slot, job);
      const reason = e instanceof Error ? e.message : String(e);
      job.reject(new TypeError(`the answer of ${describeRequest(job.req)} could not be received from its worker: ${reason}`));
      // Deno's port delivers nothing more after a message it could not read: the worker is
      // stopped, and what it had not started runs elsewhere.
      if (isDeno) this._deaf(slot);
    });
    // The worker's own channel carries nothing of the pool's: a message there is the task's.
    worker.on("message", (m: unknown) => this._stray(slot, m));
    worker.on("error", (e: unknown) => {
      slot.error ??= e;
      this._dying(slot);
    });
    worker.on("exit", (code: number) => {
      slot.exited = true;
      this._exited(slot, code);
    });
    // Only a busy worker keeps the process alive (see _post and _free); its port never does.
    // (Listening on a port refs it: unref it after.)
    port.unref();
    this._slots.add(slot);
    return slot;
  }

  /** A message from `slot`'s worker: an answer (after its call's number, when several run at once). */
  private _message(slot: Slot, raw: unknown): void {
    if (raw !== null && typeof raw === "object" && Object.hasOwn(raw, "loopworkOutOfMemory")) {
      // Under Deno the worker may report it itself (see src/pool/worker/heap-watch.ts); its exit follows.
      slot.error ??= Object.assign(new Error("Worker terminated due to reaching memory limit: JS heap out of memory"), {
        code: "ERR_WORKER_OUT_OF_MEMORY",
      });
      this._dying(slot);
      return;
    }
    let job: Job | undefined;
    if (this._concurrency > 1) {
      if (slot.answerFor === null) {
        slot.answerFor = slot.jobs.find((j) => j.seq === raw) ?? NO_JOB;
        return;
      }
      job = slot.answerFor;
      slot.answerFor = null;
      if (job === NO_JOB) return;
    } else {
      job = slot.jobs[0];
      if (job === undefined) return;
    }
    slot.answered = true;
    this._finish(slot, job, true);
    try {
      job.resolve(raw);
    } finally {
      // The pool has handed its next call, if it had one, to this warmest idle worker: only
      // a worker left idle stops keeping the process alive (ref and unref cost a few
      // tenths of a µs each under Deno; a busy pool then pays for neither).
      if (slot.jobs.length === 0 && slot.refd) this._unref(slot);
    }
  }

  /** `job`, which `slot` ran, has its answer: the calls posted behind it start, the worker takes more. */
  private _finish(slot: Slot, job: Job, keepRef = false): void {
    this._endGrace(job);
    const jobs = slot.jobs;
    if (jobs[0] === job) jobs.shift();
    else jobs.splice(jobs.indexOf(job), 1);
    slot.running--;
    job.slot = null;
    job.state = DONE;
    // The worker starts the next ones as this one ends (see `pump` in thread-worker.ts).
    for (let i = 0; i < jobs.length && slot.running < this._concurrency; i++) {
      if (jobs[i]!.state === POSTED) this._begin(slot, jobs[i]!, performance.now());
    }
    // Hand the worker its next call before anything reacts to this answer.
    this._free(slot, keepRef);
  }

  /** `job`, in `slot`, starts (or has started): the pool's `taskTimeoutMs` counts from now. */
  private _begin(slot: Slot, job: Job, now: number): void {
    job.state = RUNNING;
    slot.running++;
    slot.startedAt = now;
    job.call.begin(now);
  }

  /** `slot` reported an uncaught error: no call goes to it any more; its exit follows. */
  private _dying(slot: Slot): void {
    slot.dying = true;
    const i = this._idle.indexOf(slot);
    if (i >= 0) this._idle.splice(i, 1);
    this._requeue(this._takeBack(slot, true));
  }

  /** Task code posted `m` on `parentPort`, which the pool does not read: stop that worker. */
  private _stray(slot: Slot, m: unknown): void {
    this._stopFailing(slot, (what) =>
      new Error(
        `the worker running ${what} posted ${describeValue(m)} on parentPort, which a pool ` +
          "does not read: a task answers by returning its result. The worker was stopped.",
      ));
  }

  /** `slot`'s port can no longer receive (Deno, after a "messageerror"): stop its worker. */
  private _deaf(slot: Slot): void {
    this._stopFailing(slot, (what) =>
      new WorkerCrashedError(
        `the worker running ${what} was stopped: an answer of another call on it could not be ` +
          "received, and Deno's port delivers nothing after that",
      ));
  }

  /**
   * Stops `slot`'s worker: the calls it started fail with `error(what)` (`what` names each),
   * those it had not run elsewhere.
   */
  private _stopFailing(slot: Slot, error: (what: string) => Error): void {
    if (slot.retired) return;
    const back = this._takeBack(slot);
    const jobs = slot.jobs;
    this._retire(slot);
    for (const job of jobs) {
      this._endGrace(job);
      job.slot = null;
      job.state = DONE;
      job.reject(error(describeRequest(job.req)));
    }
    this._requeue(back);
    this._replenish();
  }

  loading(call: PoolCall): boolean {
    const slot = (call.job as Job | undefined)?.slot;
    return slot !== null && slot !== undefined && Atomics.load(slot.loading, 0) > 0;
  }

  /** Sends `job` to `slot`, which has room for it (see `_slotFor`). */
  private _post(slot: Slot, job: Job): void {
    const seq = (slot.seq + 1) | 0;
    // Its cell says "posted, not started" before the worker can read it.
    Atomics.store(slot.claims, seq & (this._cells - 1), seq);
    try {
      slot.port.postMessage(job.message, job.transfer as TransferListItem[]);
    } catch (e) {
      // Nothing was sent (an argument cannot be cloned): the worker's room is unchanged.
      // (Under Deno the buffers of the transfer list are detached all the same, as with tinypool.)
      job.state = DONE;
      if (slot.jobs.length === 0) this._free(slot);
      job.reject(e);
      return;
    }
    slot.seq = seq;
    job.seq = seq;
    job.slot = slot;
    slot.jobs.push(job);
    if (!slot.refd) {
      slot.refd = true;
      slot.worker.ref();
    }
    if (slot.running < this._concurrency) {
      this._begin(slot, job, performance.now());
    } else {
      job.state = POSTED;
      this.postedAhead++;
      this._watchStalls();
    }
  }

  /** `slot` has room: it takes the waiting calls it can, or becomes idle. */
  private _free(slot: Slot, keepRef = false): void {
    if (slot.dying) return;
    const waiting = this._waiting;
    while (waiting.length > 0 && slot.jobs.length < this._hold) {
      const next = waiting[0]!;
      if (slot.running >= this._concurrency) {
        // Only behind short calls, and only what can be taken back.
        if (next.transfer.length > 0 || performance.now() - slot.startedAt >= ThreadBackend.stallMs) break;
      }
      waiting.shift();
      this._post(slot, next);
    }
    if (slot.jobs.length > 0) return;
    this._idle.push(slot);
    // An idle worker does not keep the process alive (`keepRef`: the caller sees to it).
    if (!keepRef) this._unref(slot);
    slot.idleSince = performance.now();
    if (this._sweep === undefined && this._slots.size > this._options.minWorkers) this._scheduleSweep(this._options.idleTimeoutMs);
  }

  /**
   * Takes back what `slot` holds and has not started (see the module's comment), returning
   * it in order; a call the worker claimed first has started (the pool's timeout counts).
   * `dead`: the worker is dying, and what it never claimed goes back too, even a call the
   * backend counted as started (posted to it with room, or behind an answer) — unless it
   * never answered a call at all: then its first call is blamed, as a worker that cannot
   * start would otherwise take every call down with it, one replacement after another.
   */
  private _takeBack(slot: Slot, dead = false): Job[] {
    const back: Job[] = [];
    if (slot.jobs.length <= slot.running && !(dead && slot.answered)) return back;
    const now = performance.now();
    for (const job of [...slot.jobs]) {
      if (job.state !== POSTED && !(dead && slot.answered && job.state === RUNNING)) continue;
      if (this._claim(slot, job)) {
        slot.jobs.splice(slot.jobs.indexOf(job), 1);
        if (job.state === RUNNING) slot.running--;
        job.slot = null;
        if (job.grace !== undefined) {
          // Cancelled (it failed then) before its worker took it: it never runs now.
          this._endGrace(job);
          job.state = DONE;
          continue;
        }
        if (job.state === RUNNING) job.call.requeued();
        back.push(job);
      } else if (job.state === POSTED) {
        this._begin(slot, job, now);
      }
    }
    return back;
  }

  /** Claims `job`'s cell before its worker does: true when it has not started, and now never will. */
  private _claim(slot: Slot, job: Job): boolean {
    return Atomics.compareExchange(slot.claims, job.seq & (this._cells - 1), job.seq, job.seq ^ REVOKED_BIT) === job.seq;
  }

  /** Puts `jobs` (taken back, never started) at the head of the waiting calls, and hands them out. */
  private _requeue(jobs: Job[]): void {
    if (jobs.length === 0) return;
    for (const job of jobs) job.state = WAITING;
    this._waiting.unshift(...jobs);
    this._dispatch();
  }

  /** Hands the waiting calls, in order, to the workers that can take them now. */
  private _dispatch(): void {
    while (this._waiting.length > 0) {
      const slot = this._slotFor(this._waiting[0]!);
      if (slot === undefined) return;
      this._post(slot, this._waiting.shift()!);
    }
  }

  /** Takes calls back from workers whose running call has run `stallMs`, while any are posted ahead. */
  private _watchStalls(): void {
    if (this._stallWatch !== undefined) return;
    this._stallWatch = setInterval(() => this._stalls(), ThreadBackend.stallMs);
    this._stallWatch.unref();
  }

  private _stopStallWatch(): void {
    if (this._stallWatch !== undefined) clearInterval(this._stallWatch);
    this._stallWatch = undefined;
  }

  private _stalls(): void {
    const now = performance.now();
    let ahead = false;
    let back: Job[] = [];
    for (const slot of this._slots) {
      if (slot.jobs.length <= slot.running) continue;
      if (now - slot.startedAt < ThreadBackend.stallMs) ahead = true;
      else back = back.concat(this._takeBack(slot));
    }
    if (!ahead && back.length === 0) this._stopStallWatch();
    this._requeue(back);
  }

  private _unref(slot: Slot): void {
    slot.refd = false;
    slot.worker.unref();
  }

  private _scheduleSweep(ms: number): void {
    this._sweep = setTimeout(() => {
      this._sweep = undefined;
      this._retireIdle();
    }, ms);
    this._sweep.unref();
  }

  /** Stops the workers idle for `idleTimeoutMs`, oldest first, down to `minWorkers`. */
  private _retireIdle(): void {
    const limit = this._options.idleTimeoutMs;
    const now = performance.now();
    let next = Infinity;
    for (const slot of [...this._idle]) {
      if (this._slots.size <= this._options.minWorkers) return;
      const idle = now - slot.idleSince;
      if (idle >= limit) this._retire(slot);
      else next = Math.min(next, limit - idle);
    }
    if (next !== Infinity) this._scheduleSweep(next);
  }

  /** Stops `slot`'s worker on purpose; its calls, if any, are the caller's to settle. */
  private _retire(slot: Slot): void {
    slot.retired = true;
    slot.jobs = [];
    slot.running = 0;
    this._slots.delete(slot);
    const i = this._idle.indexOf(slot);
    if (i >= 0) this._idle.splice(i, 1);
    const stopping = isDeno ? this._stopSelf(slot) : this._terminate(slot);
    this._stopping.add(stopping);
    void stopping.then(() => this._stopping.delete(stopping));
  }

  private _terminate(slot: Slot): Promise<void> {
    slot.port.close();
    return slot.worker.terminate().then(() => {}, () => {});
  }

  /**
   * Under Deno: asks `slot`'s worker to end itself (see StopNotice), and settles once it has
   * exited. Deno's `terminate()` resolves, and "exit" fires, while the thread may still run a
   * callback, so a pool "destroyed" that way could still run task code. A worker that does
   * not end itself within `SELF_STOP_MS` (stuck in JavaScript: it never reads the notice) is
   * terminated then.
   */
  private _stopSelf(slot: Slot): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        slot.port.close();
        resolve();
      };
      if (slot.exited) {
        done();
        return;
      }
      slot.worker.once("exit", done);
      // A ref'd timer: the process waits for the worker it stops (within the bound).
      timer = setTimeout(() => void this._terminate(slot).then(done), SELF_STOP_MS);
      try {
        slot.port.postMessage({ loopworkStop: null } satisfies StopNotice);
      } catch {
        // The port is closed: the worker is past reading it; terminate() stops it.
        clearTimeout(timer);
        void this._terminate(slot).then(done);
      }
    });
  }

  /**
   * Stops `slot`'s worker, which still runs the cancelled `culprit`: what it had not started
   * goes back to the queue; the other calls it ran at once (`concurrentTasksPerWorker`) fail.
   */
  private _stopWorker(slot: Slot, culprit: Job): void {
    const back = this._takeBack(slot);
    const jobs = slot.jobs;
    this._retire(slot);
    culprit.slot = null;
    for (const job of jobs) {
      if (job === culprit) continue;
      this._endGrace(job);
      job.slot = null;
      job.state = DONE;
      job.reject(
        new WorkerCrashedError(
          `the worker running ${describeRequest(job.req)} was stopped: it also ran ${describeRequest(culprit.req)}, ` +
            "which was cancelled and did not stop within cancelGraceMs",
        ),
      );
    }
    this._requeue(back);
  }

  /**
   * A cancel or a timeout of the pool: a waiting call leaves; one posted ahead is taken back
   * (it never runs); a running one is aborted in its worker (see AbortNotice), which is
   * stopped if still busy with it after `cancelGraceMs`. The call fails at once either way;
   * an answer within the grace frees the worker (see `_finish`), whatever it says.
   */
  private _abort(job: Job): void {
    if (job.state === WAITING) {
      const i = this._waiting.indexOf(job);
      if (i >= 0) this._waiting.splice(i, 1);
    } else if (job.state === POSTED) {
      const slot = job.slot!;
      if (this._claim(slot, job)) {
        slot.jobs.splice(slot.jobs.indexOf(job), 1);
        job.slot = null;
        // It leaves room behind: the worker may take a waiting call.
        this._free(slot);
      } else {
        // Claimed by its worker: it runs.
        job.state = RUNNING;
        slot.running++;
        slot.startedAt = performance.now();
        this._abort(job);
        return;
      }
    } else if (job.state === RUNNING && job.grace === undefined && this._options.cancelGraceMs > 0) {
      const slot = job.slot!;
      slot.port.postMessage({ loopworkAbort: job.seq } satisfies AbortNotice);
      this._graces.add(job);
      job.grace = setTimeout(() => {
        this._graces.end(job);
        if (job.slot !== slot) return;
        this._stopWorker(slot, job);
        this._replenish();
      }, this._options.cancelGraceMs);
      // The busy worker keeps the process alive meanwhile; a destroyed pool needs no wait.
      job.grace.unref();
      job.reject(abortError());
      return;
    } else if (job.state === RUNNING) {
      if (job.grace !== undefined) return;
      this._stopWorker(job.slot!, job);
    } else {
      return;
    }
    job.state = DONE;
    job.reject(abortError());
    // A microtask later: a pool being destroyed first stops its other running calls.
    queueMicrotask(() => this._replenish());
  }

  private _exited(slot: Slot, code: number): void {
    if (slot.retired) return;
    slot.dying = true;
    // Answers it sent before it died are answers, not crashes.
    try {
      for (let m = receiveMessageOnPort(slot.port); m !== undefined; m = receiveMessageOnPort(slot.port)) {
        this._message(slot, m.message);
      }
    } catch {
      // (A runtime without it: what is still in flight counts as unanswered.)
    }
    slot.port.close();
    this._slots.delete(slot);
    const i = this._idle.indexOf(slot);
    if (i >= 0) this._idle.splice(i, 1);
    const back = this._takeBack(slot, true);
    const jobs = slot.jobs;
    slot.jobs = [];
    slot.running = 0;
    for (const job of jobs) {
      this._endGrace(job);
      job.slot = null;
      job.state = DONE;
      job.reject(this._crash(slot, code, job.req));
    }
    // A worker that dies before it ever answers (its runtime failed to load) is not
    // replaced until a call asks for one: starting it again would only fail again.
    if (slot.answered || jobs.length > 0) this._replenish();
    this._requeue(back);
  }

  private _crash(slot: Slot, code: number, req: CallRequest): WorkerCrashedError {
    const what = describeRequest(req);
    const e = slot.error;
    if (e === undefined) return new WorkerCrashedError(`the worker running ${what} exited with code ${code}`, code);
    if ((e as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY") {
      return new WorkerCrashedError(
        `the worker running ${what} ran out of memory (${describeHeapLimits(this._options.resourceLimits)}) and was stopped`,
        code,
        { cause: e },
      );
    }
    const name = e instanceof Error ? e.name : "error";
    const message = e instanceof Error ? e.message : String(e);
    return new WorkerCrashedError(`the worker running ${what} died of an uncaught ${name}: ${message}`, code, {
      cause: e,
    });
  }

  /** Starts workers up to `minWorkers`, and for calls waiting while there is room. */
  private _replenish(): void {
    if (this._destroyed) return;
    while (
      this._slots.size < this._options.minWorkers ||
      (this._waiting.length > 0 && this._slots.size < this._options.maxWorkers)
    ) {
      this._free(this._startWorker());
    }
  }
}
