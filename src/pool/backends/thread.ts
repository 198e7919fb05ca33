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
 * The WorkerPool hands this backend at most one call per worker (it keeps the queue), so a
 * worker runs one call at a time and stopping it (a cancel, a timeout) stops only that call.
 * A worker that exits (`process.exit`, `Deno.exit`, an uncaught error) fails the call it was
 * running with a WorkerCrashedError and is replaced; idle workers do not keep the process
 * alive, busy ones do. Requests and answers travel on a private MessageChannel, so what a
 * task itself posts on `parentPort` can never pass for an answer: the call fails instead.
 * Every message that holds an object travels sealed in a Map (see `seal` in protocol.ts):
 * Deno's MessagePort walks each message property by property, a typed array byte by byte.
 * @module
 */
import { clearTimeout, setTimeout } from "node:timers";
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from "node:worker_threads";
import { describeValue } from "../../core/index.ts";
import type { Pending, PoolBackend } from "./backend.ts";
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
const RUNNING = 1;
const DONE = 2;

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
  /** The call it runs, if any. */
  job: Job | null;
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

function abortError(): Error {
  const e = new Error("the call was aborted: its worker was stopped");
  e.name = "AbortError";
  return e;
}

/** @internal */
export class ThreadBackend implements PoolBackend {
  /** Every live worker, idle or busy (not those being stopped). */
  private readonly _slots = new Set<Slot>();
  /** Idle workers; the most recently freed last (it is the warmest). */
  private readonly _idle: Slot[] = [];
  /** Calls handed in while every worker was busy (the pool normally prevents it). */
  private readonly _waiting: Job[] = [];
  /** Workers being stopped, until they have exited. */
  private readonly _stopping = new Set<Promise<void>>();
  private _sweep: ReturnType<typeof setTimeout> | undefined = undefined;
  private _destroyed = false;
  private readonly _entry: URL;

  constructor(
    private readonly _options: ResolvedPoolOptions,
    /** The pool's task module, which its workers know from `workerData`. */
    private readonly _module: string | null,
  ) {
    this._entry = new URL(workerEntryUrl("thread"));
    this._replenish();
  }

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
    const job = new Job(message, req, transfer);
    call.job = job;
    const slot = this._idle.pop() ?? (this._slots.size < this._options.maxWorkers ? this._startWorker() : undefined);
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

  async destroy(): Promise<void> {
    this._destroyed = true;
    if (this._sweep !== undefined) clearTimeout(this._sweep);
    this._sweep = undefined;
    const stopped = new Error("the pool's workers have been stopped");
    for (const job of this._waiting.splice(0)) {
      job.state = DONE;
      job.reject(stopped);
    }
    for (const slot of [...this._slots]) {
      const job = slot.job;
      this._retire(slot);
      if (job !== null) {
        job.state = DONE;
        job.reject(stopped);
      }
    }
    await Promise.all(this._stopping);
  }

  private _startWorker(): Slot {
    const { port1: port, port2 } = new MessageChannel();
    const worker = new Worker(this._entry, {
      name: "loopwork",
      workerData: {
        loopworkModule: this._module,
        loopworkPort: port2,
        loopworkWatchMemory: this._options.resourceLimits !== null,
      },
      transferList: [port2],
      ...(this._options.resourceLimits !== null ? { resourceLimits: { ...this._options.resourceLimits } } : {}),
    });
    const slot: Slot = {
      worker,
      port,
      job: null,
      error: undefined,
      idleSince: 0,
      refd: true,
      retired: false,
      answered: false,
      dying: false,
      exited: false,
    };
    port.on("message", (raw: unknown) => {
      if (raw !== null && typeof raw === "object" && Object.hasOwn(raw, "loopworkOutOfMemory")) {
        // Under Deno the worker reports it itself (see src/pool/worker/thread-worker.ts); its exit follows.
        slot.error ??= Object.assign(new Error("Worker terminated due to reaching memory limit: JS heap out of memory"), {
          code: "ERR_WORKER_OUT_OF_MEMORY",
        });
        this._dying(slot);
        return;
      }
      const job = slot.job;
      if (job === null) return;
      slot.answered = true;
      this._finish(slot, job, true);
      try {
        job.resolve(raw);
      } finally {
        // The pool has handed its next call, if it had one, to this warmest idle worker: only
        // a worker left idle stops keeping the process alive (ref and unref cost a few
        // tenths of a µs each under Deno; a busy pool then pays for neither).
        if (slot.job === null && slot.refd) this._unref(slot);
      }
    });
    port.on("messageerror", (e: unknown) => {
      const job = slot.job;
      if (job === null) return;
      this._finish(slot, job);
      const reason = e instanceof Error ? e.message : String(e);
      job.reject(new TypeError(`the answer of ${describeRequest(job.req)} could not be received from its worker: ${reason}`));
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

  /** `job`, which `slot` ran, has its answer: the worker takes its next call. */
  private _finish(slot: Slot, job: Job, keepRef = false): void {
    if (job.grace !== undefined) clearTimeout(job.grace);
    slot.job = null;
    job.slot = null;
    job.state = DONE;
    // Hand the worker its next call before anything reacts to this answer.
    this._free(slot, keepRef);
  }

  /** `slot` reported an uncaught error: no call goes to it any more; its exit follows. */
  private _dying(slot: Slot): void {
    slot.dying = true;
    const i = this._idle.indexOf(slot);
    if (i >= 0) this._idle.splice(i, 1);
  }

  /** Task code posted `m` on `parentPort`, which the pool does not read: stop that worker. */
  private _stray(slot: Slot, m: unknown): void {
    if (slot.retired) return;
    const job = slot.job;
    this._retire(slot);
    if (job !== null) {
      job.slot = null;
      job.state = DONE;
      job.reject(
        new Error(
          `the worker running ${describeRequest(job.req)} posted ${describeValue(m)} on parentPort, which a pool ` +
            "does not read: a task answers by returning its result. The worker was stopped.",
        ),
      );
    }
    this._replenish();
  }

  /** Sends `job` to the idle worker `slot`. */
  private _post(slot: Slot, job: Job): void {
    try {
      slot.port.postMessage(job.message, job.transfer as TransferListItem[]);
    } catch (e) {
      // Nothing was sent (an argument cannot be cloned): the worker stays free. (Under Deno
      // the buffers of the transfer list are detached all the same, as with tinypool.)
      job.state = DONE;
      this._free(slot);
      job.reject(e);
      return;
    }
    if (!slot.refd) {
      slot.refd = true;
      slot.worker.ref();
    }
    slot.job = job;
    job.slot = slot;
    job.state = RUNNING;
  }

  /** `slot` has no call: it takes the next waiting one, or becomes idle. */
  private _free(slot: Slot, keepRef = false): void {
    if (slot.dying) return;
    const next = this._waiting.shift();
    if (next !== undefined) {
      this._post(slot, next);
      return;
    }
    this._idle.push(slot);
    // An idle worker does not keep the process alive (`keepRef`: the caller sees to it).
    if (!keepRef) this._unref(slot);
    slot.idleSince = performance.now();
    if (this._sweep === undefined && this._slots.size > this._options.minWorkers) this._scheduleSweep(this._options.idleTimeoutMs);
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

  /** Stops `slot`'s worker on purpose; its call, if any, is the caller's to settle. */
  private _retire(slot: Slot): void {
    slot.retired = true;
    slot.job = null;
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
   * A cancel or a timeout of the pool: a waiting call leaves; a running one is aborted in its
   * worker (see AbortNotice), which is stopped if still busy with it after `cancelGraceMs`.
   * The call fails at once either way; an answer within the grace frees the worker (see
   * `_finish`), whatever it says.
   */
  private _abort(job: Job): void {
    if (job.state === WAITING) {
      const i = this._waiting.indexOf(job);
      if (i >= 0) this._waiting.splice(i, 1);
    } else if (job.state === RUNNING && job.grace === undefined && this._options.cancelGraceMs > 0) {
      const slot = job.slot!;
      slot.port.postMessage({ loopworkAbort: null } satisfies AbortNotice);
      job.grace = setTimeout(() => {
        if (slot.job !== job) return;
        this._retire(slot);
        job.slot = null;
        this._replenish();
      }, this._options.cancelGraceMs);
      // The busy worker keeps the process alive meanwhile; a destroyed pool needs no wait.
      job.grace.unref();
      job.reject(abortError());
      return;
    } else if (job.state === RUNNING) {
      if (job.grace !== undefined) return;
      this._retire(job.slot!);
      job.slot = null;
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
    slot.port.close();
    this._slots.delete(slot);
    const i = this._idle.indexOf(slot);
    if (i >= 0) this._idle.splice(i, 1);
    const job = slot.job;
    slot.job = null;
    if (job !== null) {
      job.slot = null;
      job.state = DONE;
      job.reject(this._crash(slot, code, job.req));
    }
    // A worker that dies before it ever answers (its runtime failed to load) is not
    // replaced until a call asks for one: starting it again would only fail again.
    if (slot.answered || job !== null) this._replenish();
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
