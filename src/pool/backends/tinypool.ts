/**
 * The tinypool backend: worker threads (`worker_threads`) or child processes
 * (`child_process`), on Node and on Deno. Every worker loads src/pool/worker/tinypool-worker, which imports
 * the task module lazily. The WorkerPool hands tinypool at most one call per worker, so a call
 * waits in tinypool's queue only while a worker starts; tinypool's job is to start, stop,
 * replace and talk to workers. A stopped worker never takes a waiting call (see `_stop`).
 * @module
 */
import { randomUUID } from "node:crypto";
import { clearTimeout, setImmediate, setTimeout } from "node:timers";
import { BroadcastChannel, type TransferListItem } from "node:worker_threads";
import type {
  TinypoolAbortHook,
  TinypoolModule,
  TinypoolPool as Tinypool,
  TinypoolTask,
  TinypoolTaskQueue as TaskQueue,
  TinypoolWorker,
} from "../package-types.ts";
import { isDeno, loadTinypool } from "../packages.ts";
import { workerEntryUrl } from "../worker/entry.ts";
import { POOL_PID_ENV } from "../worker/parent-watch.ts";
import { Graces, type PoolBackend } from "./backend.ts";
import type { PoolCall } from "../call.ts";
import { WorkerCrashedError } from "../errors.ts";
import { describeHeapLimits, type ResolvedPoolOptions, type ResourceLimits } from "../options.ts";
import {
  type AbortNotice,
  abortChannelName,
  type CallRequest,
  type CallResponse,
  decodeLarge,
  decodeValue,
  type EncodedAnswer,
  deserializeError,
  describeRequest,
  encodeValue,
  isLoadingNotice,
  isThreadFailure,
  OUT_OF_MEMORY_REASON,
  type ShortCall,
  unwrapResponse,
} from "../protocol.ts";


/** tinypool's pool class, once `loadTinypool()` has given it. */
let loadedTinypool: TinypoolModule["default"] | undefined;

/**
 * One call's way through tinypool, and the abort hook tinypool listens on for it (the
 * `once`/`off` shape it accepts). The pool's cancel or timeout reaches it through `stop`.
 */
class Run implements TinypoolAbortHook {
  /** Tinypool's abort listener for the current attempt; null once tinypool has let go. */
  listener: (() => void) | null = null;
  /** Tinypool's record of the call while it waits in tinypool's queue; null once a worker has it. */
  queued: TinypoolTask | null = null;
  /** Held back by the backend (not in tinypool) until no stopped worker can answer any more. */
  parked = false;
  /** Stopped while a worker ran it: that worker may still answer, until tinypool lets go. */
  stopping = false;
  /** Counts attempts: a call taken back from tinypool's queue is handed to it again. */
  attempt = 0;
  /** Cancelled while running: its worker was asked to stop it, and has until this timer. */
  grace: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Settle the caller's promise, for a call that waited in a queue (see `TinypoolBackend._follow`). */
  resolve: ((raw: unknown) => void) | null = null;
  reject: ((e: unknown) => void) | null = null;
  readonly options: { transferList: TransferListItem[] | undefined; signal: Run };
  readonly stop = (): void => this._backend._stop(this);

  constructor(
    private readonly _backend: TinypoolBackend,
    readonly message: unknown,
    transferList: TransferListItem[] | undefined,
    /** The call's number in AbortNotices (0: none). */
    readonly id = 0,
  ) {
    this.options = { transferList, signal: this };
  }

  once(_event: "abort", listener: () => void): void {
    this.listener = listener;
  }

  /** Tinypool is done with the call: it answered, or its (stopped) worker has exited. */
  off(_event: "abort", _listener: () => void): void {
    this.listener = null;
    this._backend._atWorker.delete(this.id);
    if (this.grace !== undefined) {
      clearTimeout(this.grace);
      this._backend._graces.end(this);
    }
    if (this.stopping) {
      this.stopping = false;
      this._backend._stopped();
    }
  }
}

/**
 * Tinypool's queue, one per pool (tinypool's default queue object is shared by all pools).
 * A call waits here only while tinypool starts a worker for it. Tinypool hands the oldest
 * call to whichever worker tells it it is free, even a worker it is stopping whose answer
 * arrives late, so while any stopped worker can still answer, the backend keeps the calls
 * itself (see `TinypoolBackend._stop`).
 */
class OwnQueue implements TaskQueue {
  private readonly runs: Run[] = [];
  /** The call being handed to tinypool's `run()`, which pushes it here if no worker is free. */
  current: Run | null = null;

  constructor(private readonly _backend: TinypoolBackend) {}

  get size(): number {
    return this.runs.length;
  }
  shift(): TinypoolTask | null {
    const run = this.runs.shift();
    if (run === undefined) return null;
    const task = run.queued;
    run.queued = null;
    // Tinypool hands it to a worker now.
    if (run.id !== 0) this._backend._atWorker.set(run.id, false);
    return task;
  }
  remove(task: TinypoolTask): void {
    const i = this.runs.findIndex((r) => r.queued === task);
    if (i >= 0) this.runs.splice(i, 1)[0]!.queued = null;
  }
  push(task: TinypoolTask): void {
    const run = this.current;
    if (run === null) throw new Error("loopwork: tinypool queued a call it was not handed");
    run.queued = task;
    if (this._backend._unsafe()) this._backend._park(run);
    else this.runs.push(run);
  }
  /** Takes every waiting call out of tinypool's sight, oldest first. */
  drain(): Run[] {
    return this.runs.splice(0);
  }
  /** Takes the `n` oldest waiting calls out of tinypool's sight. */
  take(n: number): Run[] {
    return this.runs.splice(0, n);
  }
  cancel(): void {
    for (const run of this.runs.splice(0)) {
      const task = run.queued!;
      run.queued = null;
      task.cancel();
    }
  }
}

/**
 * Deno's BroadcastChannel (ext/web/01_broadcast_channel.js): all channels of an isolate are in
 * one list, served by one subscription (`rid`) and its receive loop. Closing the last channel
 * unsubscribes, but `rid` is cleared only when the receive loop sees it (an op that completes
 * a turn or two of the event loop later). A channel made in between joins the list and keeps
 * the old `rid`: once it is cleared, every post throws ("expected i32": `rid` is null) and no
 * loop serves the list; the list is served again as soon as any channel is made (with `rid`
 * null, the constructor subscribes and starts a loop for the whole list).
 *
 * So, on Deno, the first tinypool thread pool opens the anchor: a channel kept (unref'd) for
 * the life of the isolate, so that the list is never empty again and no later close of a
 * pool's channel, or of a user's, drops the subscription. Nothing is opened before: a program
 * that makes no such pool keeps no channel and no timer. The anchor itself may come in such a
 * window (the program closed its last channel in the same turn): then it and the pool's
 * channel are dead once the drop is seen, and `checkSubscription` makes a new subscription
 * two event-loop turns after the anchor was opened (when Deno has seen the drop), and again
 * when a worker thread is ready, as it is handed its first call (see `_watchWorkers`);
 * `postOn` renews it for a post it refuses.
 */
let anchor: BroadcastChannel | null = null;

/** On Deno, opens the anchor (once per isolate; see above) and checks it once the drop, if any, is seen. */
function anchorSubscription(): void {
  if (!isDeno || anchor !== null) return;
  anchor = openChannel("loopwork:anchor");
  // The receive loop sees a drop when its op's completion is handed to JS, in the event
  // loop's next turn or the one after: a first immediate can still come before it, a second
  // came after it wherever the close was made (measured on Deno 2.9: at top level, in a
  // timer, an immediate, an fs or net callback).
  setImmediate(() => setImmediate(checkSubscription));
}

/**
 * On Deno, a post on the anchor throws once the isolate's subscription is dropped (`rid` is
 * null): then a new one is made, which serves every open channel (the anchor, each pool's).
 */
function checkSubscription(): void {
  if (anchor === null) return;
  try {
    anchor.postMessage(0);
  } catch {
    resubscribe();
  }
}

/** Makes a new subscription for the isolate's open channels (Deno; see `anchor`). */
function resubscribe(): void {
  new BroadcastChannel("loopwork:resubscribe").close();
}

/**
 * Opens a channel that keeps no process alive (`unref()`: the channel of node:worker_threads,
 * which Deno has as well; its global one has no `unref()`).
 */
function openChannel(name: string): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  channel.unref();
  return channel;
}

/**
 * Posts `message` on `channel`. On Deno, a post the isolate's dropped subscription refuses
 * (see `anchor`) makes a new subscription, and posts again.
 */
function postOn(channel: BroadcastChannel, message: unknown): void {
  try {
    channel.postMessage(message);
  } catch (e) {
    if (!isDeno) throw e;
    resubscribe();
    channel.postMessage(message);
  }
}

function abortError(): Error {
  const e = new Error("the call was aborted before a worker took it");
  e.name = "AbortError";
  return e;
}

/** What the backend knows of one worker tinypool started: how far it got, and how it ended. */
interface WorkerLife {
  /** It told tinypool it was ready (its entry loaded); before that, it is starting. */
  ready: boolean;
  /** It answered a call (seen on a child process only). */
  answered: boolean;
  /** Its exit code, or the signal that killed it (a child process), once it has exited. */
  code: number | null;
  signal: string | null;
  /** The error it died of (a thread's uncaught error, or its running out of memory). */
  error: unknown;
}

/**
 * The failure of a call that waited for a worker which died before it was ready: tinypool
 * neither fails such a call nor starts another worker for it (see `TinypoolBackend._startFailed`).
 */
class StartFailure {
  constructor(readonly life: WorkerLife) {}
}

/** How `life`'s worker ended: "exited with code 3", "was killed by SIGKILL". */
function describeDeath(life: WorkerLife): string {
  if (life.signal !== null) return `was killed by ${life.signal}`;
  return life.code !== null ? `exited with code ${life.code}` : "exited";
}

/** For a child process with a heap limit that died otherwise than by exit code 0: what it may have met. */
function memoryHint(life: WorkerLife, limits: Readonly<ResourceLimits> | null): string {
  if (limits?.maxOldGenerationSizeMb === undefined || life.code === 0) return "";
  return ` (it may have run out of memory: ${describeHeapLimits(limits)})`;
}

/** How tinypool prints a WorkerExitNotice carrying `token` (see protocol.ts). */
function exitNoticePattern(token: string): RegExp {
  return new RegExp(`loopworkWorkerExit: (-?\\d+),\\s*token: '${token}'(?:,\\s*reason: '((?:[^'\\\\]|\\\\.)*)')?`);
}

/** Turns tinypool's ways of reporting a dead worker into a WorkerCrashedError. */
function crashError(e: unknown, what: string, exitNotice: RegExp): unknown {
  if (!(e instanceof Error)) {
    // A worker thread that died of a non-Error (or of an error that lost its class on the way).
    const detail =
      e !== null && typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : String(e);
    return new WorkerCrashedError(`the worker running ${what} died: ${detail}`);
  }
  const m = exitNotice.exec(e.message);
  if (m !== null) {
    const code = Number(m[1]);
    const reason = m[2] !== undefined ? ` after an uncaught ${m[2].replace(/\\(.)/g, "$1")}` : "";
    return new WorkerCrashedError(`the worker running ${what} exited with code ${code}${reason}`, code);
  }
  if (e.message === "Worker exited unexpectedly") {
    return new WorkerCrashedError(`the worker process running ${what} exited unexpectedly`, undefined, { cause: e });
  }
  if (e.message.startsWith("Unexpected message on Worker")) {
    // Not the runtime's notice: the task posted on parentPort, and tinypool stopped its worker.
    return new Error(
      `the worker running ${what} posted a message on parentPort, which a pool does not read: a task ` +
        `answers by returning its result. The worker was stopped. (${e.message.slice(0, 200)})`,
      { cause: e },
    );
  }
  if (e.name === "AbortError" || e.name === "DataCloneError" || e.message === "Terminating worker thread") return e;
  // An uncaught error in a worker thread arrives as the error itself.
  return new WorkerCrashedError(
    `the worker running ${what} died of an uncaught ${e.name}: ${e.message}`,
    undefined,
    { cause: e },
  );
}

/**
 * The environment a process worker starts with: this process's, read when tinypool forks the
 * child (it spreads `options.env` then), so a variable set after the pool was made reaches
 * the children started after it, as with a bare `fork()`; plus this process's pid for the
 * child's watchdog, which the child removes before any task runs. Under Deno with
 * `--allow-env` for some variables only, this process may not list its environment: the
 * children then get none of it (as before they got any), not a failed start.
 */
function childEnvironment(): Record<string, string> {
  const pid = String(process.pid);
  const value = (k: string | symbol): string | undefined =>
    k === POOL_PID_ENV ? pid : typeof k === "string" ? process.env[k] : undefined;
  const names = (): string[] => {
    try {
      return Object.keys(process.env).filter((k) => k !== POOL_PID_ENV);
    } catch {
      return []; // Deno's NotCapable: not granted the whole environment
    }
  };
  return new Proxy({} as Record<string, string>, {
    ownKeys: () => [...names(), POOL_PID_ENV],
    get: (_, k) => value(k),
    has: (_, k) => value(k) !== undefined,
    getOwnPropertyDescriptor: (_, k) => {
      const v = value(k);
      return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: false };
    },
  });
}

/**
 * Tinypool's options for `limits`: a thread takes them as they are; a child process takes
 * its heap limit as `--max-old-space-size` (after the host's own flags, which it inherits).
 */
function limitOptions(
  process_: boolean,
  limits: Readonly<ResourceLimits> | null,
): { resourceLimits?: ResourceLimits; execArgv?: string[] } {
  if (limits === null) return {};
  if (!process_) return { resourceLimits: { ...limits } };
  const old = limits.maxOldGenerationSizeMb;
  return old === undefined ? {} : { execArgv: [...process.execArgv, `--max-old-space-size=${old}`] };
}

/**
 * The WorkerCrashedError of a worker that ran out of memory under `limits`: a thread says so
 * itself (ERR_WORKER_OUT_OF_MEMORY, or, stopped and left alive under Deno, in its exit
 * notice: see src/pool/worker/heap-watch.ts); a child process only dies (tinypool does not tell how),
 * so with a heap limit its error says what it may have met. Else undefined.
 */
function outOfMemory(
  e: unknown,
  process_: boolean,
  limits: Readonly<ResourceLimits> | null,
  what: string,
  exitNotice: RegExp,
): WorkerCrashedError | undefined {
  if (!(e instanceof Error)) return undefined;
  if ((e as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY" || exitNotice.exec(e.message)?.[2] === OUT_OF_MEMORY_REASON) {
    return new WorkerCrashedError(`the worker running ${what} ran out of memory (${describeHeapLimits(limits)}) and was stopped`, undefined, {
      cause: e,
    });
  }
  if (process_ && limits?.maxOldGenerationSizeMb !== undefined && e.message === "Worker exited unexpectedly") {
    return new WorkerCrashedError(
      `the worker process running ${what} exited unexpectedly (it may have run out of memory: ${describeHeapLimits(limits)})`,
      undefined,
      { cause: e },
    );
  }
  return undefined;
}

/** @internal */
export class TinypoolBackend implements PoolBackend {
  /** Tinypool's pool, once the tinypool package has loaded (see `_loading`). */
  private _pool: Tinypool | null = null;
  /** Loads tinypool (once per process) and makes `_pool`; calls made meanwhile wait for it. */
  private readonly _loading: Promise<void>;
  private readonly _process: boolean;
  /** Deno's child processes carry JSON only: requests travel V8-encoded inside a string. */
  private readonly _encode: boolean;

  /** The pool's task module, which its worker threads know from `workerData`. */
  private readonly _module: string | null;
  /** Tells the runtime's exit notice from a look-alike a task posts (see WorkerExitNotice). */
  private readonly _exitToken = randomUUID();
  private readonly _exitNotice = exitNoticePattern(this._exitToken);
  private readonly _limits: Readonly<ResourceLimits> | null;
  private readonly _grace: number;
  private readonly _minWorkers: number;
  private readonly _queue = new OwnQueue(this);
  private _destroyed = false;
  /** @internal Cancelled calls within their grace (see `graces`). */
  readonly _graces: Graces<Run> = new Graces<Run>();
  /** Every worker tinypool started, until it has exited (tinypool forgets those it stops). */
  private readonly _seen = new WeakSet<TinypoolWorker>();
  /** The exit of each worker tinypool started that has not exited yet. */
  private readonly _exits = new Map<TinypoolWorker, Promise<void>>();
  /** The worker each "Worker exited unexpectedly" error of tinypool's came from (a child process). */
  private readonly _deaths = new WeakMap<object, WorkerLife>();

  constructor(options: ResolvedPoolOptions, module: string | null) {
    this._process = options.kind === "process";
    this._encode = this._process && isDeno;
    this._module = module;
    // The channel with its threads keeps no process alive: the workers and the calls do.
    if (!this._process) {
      anchorSubscription();
      const channel = (this._abortChannel = openChannel(abortChannelName(this._exitToken)));
      channel.onmessage = (e: unknown) => this._heard((e as MessageEvent).data);
    }
    this._limits = options.resourceLimits;
    this._grace = options.cancelGraceMs;
    this._minWorkers = options.minWorkers;
    const make = (TinypoolClass: TinypoolModule["default"]): void => {
      const pool = new TinypoolClass({
        filename: workerEntryUrl("tinypool"),
        runtime: this._process ? "child_process" : "worker_threads",
        minThreads: options.minWorkers,
        maxThreads: options.maxWorkers,
        concurrentTasksPerWorker: options.concurrentTasksPerWorker,
        idleTimeout: options.idleTimeoutMs,
        maxQueue: Infinity,
        // Tinypool's Atomics fast path hangs under Deno.
        useAtomics: !isDeno,
        taskQueue: this._queue,
        ...(this._process && !isDeno ? { serialization: "advanced" as const } : {}),
        // Threads speak the short wire (see ShortCall); processes get no workerData from tinypool.
        ...(this._process
          ? {}
          : {
            workerData: {
              loopworkModule: module,
              loopworkExitToken: this._exitToken,
              loopworkWatchMemory: options.resourceLimits !== null,
            },
          }),
        ...limitOptions(this._process, options.resourceLimits),
        // A child inherits this process's environment as it is when the child starts (what
        // fork() does when given none: tinypool gives each child only `options.env` and its
        // id), and its watchdog learns this process's pid (see src/pool/worker/parent-watch.ts).
        ...(this._process ? { env: childEnvironment() } : {}),
      });
      this._pool = pool;
      // A worker that dies with no call running is replaced; there is nobody to tell.
      // (It may have been started after a call it crashed, or to keep minWorkers.)
      pool.on("error", () => this._watchWorkers());
      this._watchWorkers();
    };
    // Once tinypool has loaded, a new pool is made at once; the first pool waits for it.
    this._loading = loadedTinypool !== undefined
      ? Promise.resolve(make(loadedTinypool))
      : loadTinypool().then((m) => make((loadedTinypool = m.default)));
    // A failed load fails each call (see `_afterLoading`), never as an unhandled rejection.
    this._loading.catch(() => {});
  }

  stop(call: PoolCall): void {
    const run = call.takeJob<{ stop(): void }>();
    run?.stop();
  }

  call(req: CallRequest, transfer: readonly TransferListItem[], call: PoolCall): Promise<unknown> {
    if (this._pool === null) return this._afterLoading(req, transfer, call);
    // Numbered, so that a cancel can name it to its worker (see AbortNotice), and its worker
    // can say while it waits for its task module to load (see LoadingNotice).
    const id = req.op !== "encoded" ? ++this._lastId : 0;
    let message: CallRequest | ShortCall = req;
    if (!this._process && req.op === "call" && req.module === this._module) {
      message = id !== 0 ? [id, req.task, ...req.args] : req.args.length === 0 ? req.task : [req.task, ...req.args];
    } else if (id !== 0) {
      message = req = { ...req, id } as CallRequest;
    }
    if (this._encode) {
      try {
        message = { op: "encoded", data: encodeValue(req) };
      } catch (e) {
        // V8's serialiser says "could not be cloned" with a plain Error: name it as postMessage does.
        const clone = new Error(e instanceof Error ? e.message : String(e), { cause: e });
        clone.name = "DataCloneError";
        return Promise.reject(clone);
      }
    }
    // Child processes copy everything; only threads can move buffers.
    const transferList = this._process || transfer.length === 0 ? undefined : (transfer as TransferListItem[]);
    const run = new Run(this, message, transferList, id);
    call.job = run;
    const pending = this._run(run);
    // A worker has it (the usual case): tinypool's promise is the answer.
    const answer = run.queued === null && !run.parked ? pending : new Promise((resolve, reject) => {
      // It waits for a worker: it may be taken back and handed over again (see _stop).
      run.resolve = resolve;
      run.reject = reject;
      this._follow(run, pending, 0);
    });
    return answer;
  }

  /** A call made while tinypool loads: it goes once the pool exists, unless aborted meanwhile. */
  private async _afterLoading(req: CallRequest, transfer: readonly TransferListItem[], call: PoolCall): Promise<unknown> {
    let aborted = false;
    const loading = { stop: (): void => void (aborted = true) };
    call.job = loading;
    try {
      await this._loading;
    } finally {
      if (call.job === loading) call.job = undefined;
    }
    if (aborted) throw abortError();
    if (this._destroyed) throw new Error("the pool's workers have been stopped");
    return this.call(req, transfer, call);
  }

  /** Hands `run` to tinypool; a worker takes it, or it waits in the queue. */
  private _run(run: Run): Promise<unknown> {
    // At a worker before tinypool posts it: a post that fails ends it there and then (`Run.off`).
    if (run.id !== 0) this._atWorker.set(run.id, false);
    this._queue.current = run;
    let pending: Promise<unknown>;
    try {
      pending = this._pool!.run(run.message, run.options) as Promise<unknown>;
    } catch (e) {
      this._atWorker.delete(run.id);
      throw e;
    } finally {
      this._queue.current = null;
    }
    if (run.queued !== null || run.parked) {
      // It waits for a worker (see `OwnQueue.shift`). Tinypool starts a worker only for a
      // call it queues: watch the new one's exit.
      this._atWorker.delete(run.id);
      this._watchWorkers();
    }
    return pending;
  }

  /** Settles `run`'s promise with attempt `attempt`, unless the call was taken back meanwhile. */
  private _follow(run: Run, pending: Promise<unknown>, attempt: number): void {
    pending.then(
      (raw) => {
        if (run.attempt === attempt) run.resolve!(raw);
      },
      (e: unknown) => {
        if (run.attempt === attempt) run.reject!(e);
      },
    );
  }

  /** Stopped workers that can still answer (each makes tinypool hand out its queue). */
  private _stopping = 0;
  /** Calls the backend holds meanwhile, oldest first. */
  private readonly _parked: Run[] = [];

  /** @internal Is a stopped worker still able to answer? Then no call may wait in tinypool's queue. */
  _unsafe(): boolean {
    return this._stopping > 0;
  }

  /** @internal Takes `run` back from tinypool's queue (it never reached a worker); it waits here. */
  _park(run: Run): void {
    const task = run.queued!;
    run.queued = null;
    run.parked = true;
    run.attempt++;
    run.listener = null;
    this._parked.push(run);
    // Tinypool forgets it (its promise rejects, which the attempt count ignores).
    task.cancel();
  }

  /**
   * @internal The pool stops `run` (a cancel, a timeout, destroy). A waiting call just leaves.
   * A running call's worker is stopped by tinypool; until tinypool lets go of the call (its
   * late answer arrived, or the worker has exited), that worker could still tell tinypool it
   * is free and be handed a waiting call, which would then die with it. So the waiting calls
   * leave tinypool's queue, and wait here until then.
   */
  _stop(run: Run): void {
    if (this._grace > 0 && run.id !== 0 && run.grace === undefined && run.listener !== null && run.queued === null && !run.parked) {
      // Running: it is aborted in its worker first, which is stopped after the grace.
      this._sendAbort(run.id);
      this._graces.add(run);
      run.grace = setTimeout(() => {
        this._graces.end(run);
        this._stop(run);
      }, this._grace);
      // The busy worker keeps the process alive meanwhile; a destroyed pool needs no wait.
      run.grace.unref();
      return;
    }
    if (run.parked) {
      run.parked = false;
      run.attempt++;
      const i = this._parked.indexOf(run);
      if (i >= 0) this._parked.splice(i, 1);
      run.reject?.(abortError());
      return;
    }
    const listener = run.listener;
    if (listener === null) return;
    if (run.queued === null) {
      run.stopping = true;
      this._holdWaiting();
    }
    listener();
    // Tinypool may start a worker to keep minWorkers.
    this._watchWorkers();
  }

  /** The last call number given (see AbortNotice). */
  private _lastId = 0;
  /** The channel on which this pool's threads hear of aborts, and tell of module loads. */
  private _abortChannel: BroadcastChannel | null = null;
  /**
   * @internal The numbered calls a worker has, each with whether the worker said it waits for
   * the call's task module to load (see LoadingNotice). A call leaves when tinypool lets go of
   * it (`Run.off`): a notice that comes later (its worker posted it, then was stopped) finds
   * no call to mark, so no number of an ended call is kept.
   */
  readonly _atWorker: Map<number, boolean> = new Map();

  /** Notes what a LoadingNotice says, of a call a worker still has. */
  private _heard(m: unknown): void {
    if (isLoadingNotice(m) && this._atWorker.has(m.loopworkLoading)) this._atWorker.set(m.loopworkLoading, m.loading);
  }

  /** Does the worker that runs `call` wait for the call's task module to load? */
  loading(call: PoolCall): boolean {
    const run = call.job;
    return run instanceof Run && run.id !== 0 && this._atWorker.get(run.id) === true;
  }

  /** Tells the worker running call `id` to abort it: threads by broadcast, processes each on its IPC. */
  private _sendAbort(id: number): void {
    const notice: AbortNotice = { loopworkAbort: id };
    if (!this._process) {
      try {
        if (this._abortChannel !== null) postOn(this._abortChannel, notice);
      } catch {
        // Not expected (a dropped subscription on Deno is renewed by `postOn`): the thread
        // does not hear the abort, and the grace timer the caller arms next stops the call
        // instead. Never an exception out of cancel().
      }
      return;
    }
    for (const worker of this._pool?.threads ?? []) {
      const child = worker.process;
      try {
        if (child?.connected === true) child.send!(notice);
      } catch {
        // It is exiting: nothing to abort there.
      }
    }
  }

  /** One more worker that can still answer: the waiting calls leave tinypool's queue (see `_stop`). */
  private _holdWaiting(): void {
    this._stopping++;
    for (const waiting of this._queue.drain()) this._park(waiting);
  }

  /** @internal A stopped worker can answer no more: once none can, the held calls go to tinypool. */
  _stopped(): void {
    if (--this._stopping > 0 || this._destroyed) return;
    for (const run of this._parked.splice(0)) {
      run.parked = false;
      const attempt = run.attempt;
      this._follow(run, this._run(run), attempt);
    }
  }

  result(raw: unknown, req: CallRequest): unknown {
    if (!this._process) {
      // A thread answers with the bare result (and fails by throwing: see `failure`), or a
      // large one encoded (see `encodeLarge`).
      if (raw !== null && typeof raw === "object" && (raw as Partial<EncodedAnswer>).loopworkEncoded === this._exitToken) {
        return decodeLarge(raw as EncodedAnswer, describeRequest(req));
      }
      return raw;
    }
    if (this._encode) return unwrapResponse(decodeValue((raw as { op: "encoded"; data: string }).data) as CallResponse);
    return unwrapResponse(raw as CallResponse, describeRequest(req));
  }

  failure(error: unknown, req: CallRequest): unknown {
    if (isThreadFailure(error)) return deserializeError(error.loopworkError);
    if (error instanceof StartFailure) return this._startError(error.life, describeRequest(req));
    // A worker died, or tinypool dropped it (a message it did not expect): until it has
    // exited, a late answer from it would still make tinypool hand it a waiting call, as
    // with a stopped worker (see `_stop`).
    this._holdWhileDying();
    // Tinypool may have started another to keep minWorkers.
    this._watchWorkers();
    const life = error !== null && typeof error === "object" ? this._deaths.get(error) : undefined;
    if (life !== undefined) {
      // A child process that exited while it ran the call: say how, and whether it had ever answered.
      const starting = life.answered ? "" : " while starting (before it answered any call)";
      return new WorkerCrashedError(
        `the worker process running ${describeRequest(req)} ${describeDeath(life)}${starting}${memoryHint(life, this._limits)}`,
        life.code ?? undefined,
        { cause: error },
      );
    }
    const limits = outOfMemory(error, this._process, this._limits, describeRequest(req), this._exitNotice);
    if (limits !== undefined) return limits;
    return crashError(error, describeRequest(req), this._exitNotice);
  }

  /** The WorkerCrashedError of a call whose worker died before it was ready (see `_startFailed`). */
  private _startError(life: WorkerLife, what: string): WorkerCrashedError {
    const e = life.error;
    if (e instanceof Error && (e as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY") {
      return new WorkerCrashedError(
        `the worker thread started for ${what} ran out of memory while starting (${describeHeapLimits(this._limits)})`,
        life.code ?? undefined,
        { cause: e },
      );
    }
    const noun = this._process ? "process" : "thread";
    const of = e instanceof Error && !this._process ? ` of an uncaught ${e.name}: ${e.message}` : "";
    return new WorkerCrashedError(
      `the worker ${noun} started for ${what} died while starting: it ${describeDeath(life)}${of}${memoryHint(life, this._limits)}`,
      life.code ?? undefined,
      e instanceof Error ? { cause: e } : undefined,
    );
  }

  /**
   * A worker died before it was ready. Tinypool hands a waiting call only to a worker that is
   * ready, fails nothing when one dies before, and, after such a death, starts no worker
   * until a new call comes: the calls it then holds beyond the workers still starting would
   * wait forever. The oldest of them fail, as the own thread backend blames a worker that
   * never answered for its first call; a worker that cannot start thus fails each call once,
   * and the next call starts a worker again (never a loop with no call asking).
   */
  private _startFailed(life: WorkerLife): void {
    const orphans = this._pool?.queueSize ?? 0;
    if (orphans <= 0 || this._destroyed) return;
    for (const run of this._queue.take(orphans)) {
      const task = run.queued!;
      run.queued = null;
      run.attempt++;
      run.listener = null;
      // Tinypool forgets it (its promise rejects, which the attempt count ignores).
      task.cancel();
      run.reject!(new StartFailure(life));
    }
  }

  /** @internal How many workers' channels the backend still listens to (see `_watchWorkers`; for tests). */
  _listening = 0;

  /**
   * Starts workers up to `minWorkers` after a worker got ready or a ready one exited. Tinypool
   * refills only until a worker dies while starting, and then never again; it starts a
   * worker only for a call that finds none free, so the backend hands it a call that does
   * nothing (a warm-up) per missing worker. Only a worker that started (or had started) asks
   * for this: a module that can never start fails its calls and starts nothing by itself.
   */
  private _refill(): void {
    const pool = this._pool;
    if (pool === null || this._destroyed) return;
    const min = this._minWorkers;
    // Each warm-up lands on a free worker (a cheap no-op) or makes tinypool start one.
    for (let tries = 0; pool.threads.length < min && tries < 2 * min; tries++) {
      const run = new Run(this, this._warmUp(), undefined);
      run.resolve = run.reject = () => {};
      this._follow(run, this._run(run), run.attempt);
    }
  }

  /** A request that does nothing, in the form this backend's workers take. */
  private _warmUp(): unknown {
    const req: CallRequest = { op: "function", source: "() => undefined", args: [] };
    return this._encode ? { op: "encoded", data: encodeValue(req) } : req;
  }

  workers(): number {
    return this._pool?.threads.length ?? 0;
  }

  /** Resolves once no cancelled call is within its grace: its task answered, or its worker was stopped. */
  graces(): Promise<void> {
    return this._graces.wait();
  }

  /** Stops every worker; resolves once each one tinypool ever started has exited. */
  async destroy(): Promise<void> {
    this._destroyed = true;
    this._graces.endAll();
    // Tinypool tops its workers up to minThreads whenever it drops one (a stopped call's, one
    // that errs as it is terminated), even while and after it is destroyed: a worker started
    // then would outlive the pool, and its exit never come. It keeps none from now on.
    if (this._pool?.options !== undefined) this._pool.options.minThreads = 0;
    this._watchWorkers();
    for (const run of this._parked.splice(0)) {
      run.parked = false;
      run.attempt++;
      run.reject!(new Error("the pool's workers have been stopped"));
    }
    await this._loading.catch(() => {});
    this._abortChannel?.close();
    this._abortChannel = null;
    await this._pool?.destroy();
    // Tinypool waits for the workers it still had, not for those it stopped before.
    await Promise.all(this._exits.values());
  }

  /**
   * Workers tinypool has let go of but that have not exited can still answer: the waiting
   * calls leave tinypool's queue until every such worker has exited.
   */
  private _holdWhileDying(): void {
    const live = new Set(this._pool?.threads);
    const dying: Promise<void>[] = [];
    for (const [worker, exited] of this._exits) if (!live.has(worker)) dying.push(exited);
    if (dying.length === 0) return;
    this._holdWaiting();
    void Promise.all(dying).then(() => this._stopped());
  }

  /**
   * Watches each worker not seen yet: whether it gets ready, answers, and how it exits (its
   * exit listener runs after tinypool's, which has let go of it by then).
   */
  private _watchWorkers(): void {
    for (const worker of this._pool?.threads ?? []) {
      if (this._seen.has(worker)) continue;
      this._seen.add(worker);
      const life: WorkerLife = { ready: false, answered: false, code: null, signal: null, error: undefined };
      // Tinypool's ready message and a child's answers come on the runtime's own channel;
      // once it is ready (and a child has answered), nothing more is to be learnt there.
      const channel = worker.process ?? worker.thread;
      const learn = (m: unknown): void => {
        if (m === null || typeof m !== "object") return;
        if ((m as { ready?: unknown }).ready === true) {
          life.ready = true;
          // As the thread is handed its first call (tinypool's listener ran first), after which
          // it may tell of a module load.
          if (!this._process) checkSubscription();
          this._refill();
        } else if ((m as { taskId?: unknown }).taskId !== undefined) {
          life.answered = true;
        }
        if (life.ready && (life.answered || !this._process)) {
          channel?.off("message", learn);
          this._listening--;
        }
      };
      channel?.on("message", learn);
      if (channel !== undefined) this._listening++;
      // A child tells of its module loads on its IPC channel (threads on the broadcast one).
      if (this._process) worker.process?.on("message", (m: unknown) => this._heard(m));
      channel?.on("error", (e: unknown) => {
        life.error ??= e;
        // Tinypool fails a running call with this very error: `failure` finds the worker by it.
        if (this._process && e !== null && typeof e === "object") this._deaths.set(e, life);
      });
      const exited = new Promise<void>((resolve) =>
        worker.once("exit", (code, signal) => {
          life.code = code;
          life.signal = signal ?? null;
          resolve();
          if (!life.ready) this._startFailed(life);
          else this._refill();
        })
      );
      this._exits.set(worker, exited);
      void exited.then(() => this._exits.delete(worker));
    }
  }
}
