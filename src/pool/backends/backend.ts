/**
 * The executor interface every pool backend implements. The WorkerPool keeps the queue,
 * the concurrency limit, cancellation, timeouts and statistics; a backend runs what it is
 * handed (up to `concurrentTasksPerWorker` calls per worker at once, and the own thread
 * backend holds up to `pipelineDepth` more per worker) and says how many workers it has.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import type { PoolCall } from "../call.ts";
import type { CallRequest } from "../protocol.ts";

/**
 * @internal What `call` returns: a promise, or a lighter object with a promise's two-callback
 * `then` (the own thread backend's, see thread.ts), called once by the pool.
 */
export interface Pending {
  then(onAnswer: (raw: unknown) => void, onFailure: (e: unknown) => void): unknown;
}

/** @internal One way of running requests: tinypool (threads, processes) or inline. */
export interface PoolBackend {
  /**
   * Set when the backend may hold a call before it starts (the own thread backend posts
   * calls ahead, see thread.ts): it then says when each starts (`PoolCall.begin`), and the
   * pool counts `taskTimeoutMs` from there. Otherwise a call starts when it is handed over.
   */
  readonly startsLater?: boolean;
  /**
   * Runs `req` for `call`, keeping in `call.job` what `stop` needs. Resolves to the
   * worker's answer (a task's failure may be an answer), in the backend's wire form (see
   * `result`). Rejects when the request got no answer: it was stopped, an argument could
   * not be cloned (`DataCloneError`), or the worker died (`WorkerCrashedError`); or, where
   * the wire says so, when the task failed (see `failure`).
   */
  call(req: CallRequest, transfer: readonly TransferListItem[], call: PoolCall): Pending;
  /**
   * Stops `call` (a cancel, a timeout, `destroy()`): a waiting call leaves; a running task
   * is aborted in its worker, which is stopped and replaced if it still runs it after
   * `cancelGraceMs`. The pool has settled the call already and ignores how `call`'s
   * `Pending` settles afterwards. Nothing happens for a call the backend no longer has.
   */
  stop(call: PoolCall): void;
  /**
   * The task's result in what `call` resolved to, or its error, thrown. Kept apart from
   * `call` so the pool reacts to an answer one promise hop sooner (and hands the worker its
   * next call).
   */
  result(raw: unknown, req: CallRequest): unknown;
  /** Turns a rejection of `call` into the error the caller sees (a crash, a clone error). */
  failure(error: unknown, req: CallRequest): unknown;
  /**
   * Is the worker that runs `call` still loading a task module? (A call that times out then
   * says so.) Backends that cannot tell leave it out.
   */
  loading?(call: PoolCall): boolean;
  /** How many workers are alive (starting, idle or busy). */
  workers(): number;
  /**
   * Resolves once no cancelled call is within its `cancelGraceMs` (its task answered, or its
   * worker was stopped), or the backend was destroyed: `close()` waits for it, so a task
   * cancelled just before still runs its `finally`. Backends without a grace leave it out.
   */
  graces?(): Promise<void>;
  /** Stops every worker; resolves once they have exited. */
  destroy(): Promise<void>;
}

/**
 * @internal The cancelled calls still within their `cancelGraceMs`, and who waits for none to
 * be left: what a backend's `graces()` answers, so that `close()` lets a task cancelled just
 * before run its `finally`.
 *
 * @example
 * ```ts
 * const graces = new Graces<object>();
 * const call = {};
 * graces.add(call);
 * graces.wait().then(() => console.log("no call in its grace"));
 * graces.end(call);
 * ```
 */
export class Graces<T> {
  private readonly _calls = new Set<T>();
  private _waiting: (() => void)[] = [];

  /** `call` was cancelled while it ran: its grace begins. */
  add(call: T): void {
    this._calls.add(call);
  }

  /** `call` is out of its grace (it answered, its worker was stopped, or the grace ran out). */
  end(call: T): void {
    if (this._calls.delete(call) && this._calls.size === 0) for (const resolve of this._waiting.splice(0)) resolve();
  }

  /** Every grace is over (the backend is destroyed). */
  endAll(): void {
    for (const call of [...this._calls]) this.end(call);
  }

  /** Resolves once no call is within its grace. */
  wait(): Promise<void> {
    return this._calls.size === 0 ? Promise.resolve() : new Promise((resolve) => this._waiting.push(resolve));
  }
}
