/**
 * The own thread backend: worker threads (`node:worker_threads`) started, stopped, replaced
 * and spoken to directly, without tinypool. `kind: "thread"` uses it under Deno, where
 * tinypool cannot use its Atomics fast path and pays per call for bookkeeping that Deno
 * makes slow: an `AsyncResource` per task on the main thread, and a `process.memoryUsage()`
 * after every task in the worker (a file read under Deno, a third of a worker's time on
 * no-op calls). Measured under Deno 2.9 on no-op calls, bare worker threads managed this way
 * do 1.2× the round trips of raw tinypool. Under Node tinypool stays: its Atomics path
 * answers a lone call in about a third of the time a message port takes to wake a thread.
 *
 * The WorkerPool hands this backend at most one call per worker (it keeps the queue), so a
 * worker runs one call at a time and stopping it (a cancel, a timeout) stops only that call.
 * A worker that exits (`process.exit`, `Deno.exit`, an uncaught error) fails the call it was
 * running with a WorkerCrashedError and is replaced; idle workers do not keep the process
 * alive, busy ones do.
 * @module
 */
import { clearTimeout, setTimeout } from "node:timers";
import { type TransferListItem, Worker } from "node:worker_threads";
import type { PoolBackend } from "./backend.ts";
import type { AbortHook } from "./call.ts";
import { WorkerCrashedError } from "./errors.ts";
import type { ResolvedPoolOptions } from "./options.ts";
import { type CallRequest, describeRequest, type ShortCall, threadResult } from "./protocol.ts";
import { workerEntryUrl } from "./tinypool-backend.ts";

const WAITING = 0;
const RUNNING = 1;
const DONE = 2;

/** A call handed to the backend. */
interface Job {
  readonly message: CallRequest | ShortCall;
  readonly req: CallRequest;
  readonly transfer: readonly TransferListItem[];
  readonly resolve: (raw: unknown) => void;
  readonly reject: (e: unknown) => void;
  state: number;
  slot: Slot | null;
}

/** One worker thread. */
interface Slot {
  readonly worker: Worker;
  /** The call it runs, if any. */
  job: Job | null;
  /** The uncaught error it reported; its "exit" follows. */
  error: unknown;
  /** When it last became idle (performance.now()). */
  idleSince: number;
  /** Stopped on purpose (a cancel, idleness, destroy): its exit fails nothing. */
  retired: boolean;
  /** Has it answered a call yet? A worker that dies before is not replaced at once. */
  answered: boolean;
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
    this._entry = new URL(workerEntryUrl());
    this._replenish();
  }

  call(req: CallRequest, transfer: readonly TransferListItem[], abort: AbortHook): Promise<unknown> {
    if (this._destroyed) return Promise.reject(new Error("the pool's workers have been stopped"));
    const message: CallRequest | ShortCall = req.op === "call" && req.module === this._module
      ? (req.args.length === 0 ? req.task : [req.task, ...req.args])
      : req;
    return new Promise((resolve, reject) => {
      const job: Job = { message, req, transfer, resolve, reject, state: WAITING, slot: null };
      abort.once("abort", () => this._abort(job));
      const slot = this._idle.pop() ?? (this._slots.size < this._options.maxWorkers ? this._startWorker() : undefined);
      if (slot === undefined) this._waiting.push(job);
      else this._post(slot, job);
    });
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
    const worker = new Worker(this._entry, {
      name: "loopwork",
      workerData: { loopworkThread: true, loopworkModule: this._module },
    });
    const slot: Slot = { worker, job: null, error: undefined, idleSince: 0, retired: false, answered: false };
    worker.on("message", (raw: unknown) => {
      const job = slot.job;
      if (job === null) return;
      slot.job = null;
      slot.answered = true;
      job.slot = null;
      job.state = DONE;
      // Hand the worker its next call before anything reacts to this answer.
      this._free(slot);
      job.resolve(raw);
    });
    worker.on("error", (e: unknown) => {
      slot.error ??= e;
    });
    worker.on("exit", (code: number) => this._exited(slot, code));
    this._slots.add(slot);
    return slot;
  }

  /** Sends `job` to the idle worker `slot`. */
  private _post(slot: Slot, job: Job): void {
    try {
      slot.worker.postMessage(job.message, job.transfer as TransferListItem[]);
    } catch (e) {
      // Nothing was sent (an argument cannot be cloned): the worker stays free.
      job.state = DONE;
      this._free(slot);
      job.reject(e);
      return;
    }
    if (slot.idleSince !== 0) {
      slot.idleSince = 0;
      slot.worker.ref();
    }
    slot.job = job;
    job.slot = slot;
    job.state = RUNNING;
  }

  /** `slot` has no call: it takes the next waiting one, or becomes idle. */
  private _free(slot: Slot): void {
    const next = this._waiting.shift();
    if (next !== undefined) {
      this._post(slot, next);
      return;
    }
    this._idle.push(slot);
    // An idle worker does not keep the process alive.
    slot.worker.unref();
    slot.idleSince = performance.now();
    if (this._sweep === undefined && this._slots.size > this._options.minWorkers) this._scheduleSweep(this._options.idleTimeoutMs);
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
    const stopping = slot.worker.terminate().then(() => {}, () => {});
    this._stopping.add(stopping);
    void stopping.then(() => this._stopping.delete(stopping));
  }

  /** A cancel or a timeout of the pool: a waiting call leaves, a running one's worker stops. */
  private _abort(job: Job): void {
    if (job.state === WAITING) {
      const i = this._waiting.indexOf(job);
      if (i >= 0) this._waiting.splice(i, 1);
    } else if (job.state === RUNNING) {
      this._retire(job.slot!);
      job.slot = null;
    } else {
      return;
    }
    job.state = DONE;
    job.reject(abortError());
    this._replenish();
  }

  private _exited(slot: Slot, code: number): void {
    if (slot.retired) return;
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
