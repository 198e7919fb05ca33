/**
 * One pool call from submission to outcome. It is the future the call's task waits on, so
 * cancelling the task cancels it (asyncio's rule), and it tells the pool at once, which
 * handles every stop in one place (`WorkerPool._callCancelled`/`_stopRunning`): a queued
 * call leaves the queue, a running one is stopped through its backend's `stop(call)`.
 * @module
 */
import { Future } from "../core/index.ts";
import type { PoolKind } from "./options.ts";
import type { CallRequest } from "./protocol.ts";

/** @internal */
export const QUEUED = 0;
/** @internal */
export const RUNNING = 1;
/** @internal */
export const SETTLED = 2;

/** @internal What a pool does when one of its calls is cancelled. */
export interface CancelSink {
  /** The pool's kind, for `_describeWait`. */
  readonly kind: PoolKind;
  _callCancelled(call: PoolCall): void;
  /** A backend that posts calls ahead (`PoolBackend.startsLater`) says that `call` started at `now`. */
  _callStarted(call: PoolCall, now: number): void;
  /** ... or that it had not started after all, and waits again (its worker died first). */
  _callRequeued(call: PoolCall): void;
}

/** @internal */
export class PoolCall extends Future<unknown> {
  /** QUEUED, RUNNING or SETTLED, as the pool sees it. */
  phase: number = QUEUED;
  startedAt = 0;
  /** Handed to the backend and started on a worker (not only posted ahead to it). */
  started = false;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The backend's own record of this call while it has it: what its `stop(call)` stops. */
  job: unknown = undefined;

  /** The backend's record of this call, taken: a call is stopped at most once. */
  takeJob<J>(): J | undefined {
    const job = this.job as J | undefined;
    this.job = undefined;
    return job;
  }

  constructor(
    readonly req: CallRequest,
    readonly label: string,
    private readonly _pool: CancelSink,
    readonly enqueuedAt: number,
  ) {
    super();
  }

  /** Its backend started it at `now` (see `CancelSink._callStarted`). */
  begin(now: number): void {
    if (this.phase === RUNNING) this._pool._callStarted(this, now);
  }

  /** Its backend took it back unstarted: it waits again (see `CancelSink._callRequeued`). */
  requeued(): void {
    if (this.phase === RUNNING) this._pool._callRequeued(this);
  }

  /** Cancelling the future (directly, or by cancelling the task waiting on it) cancels the call. */
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._pool._callCancelled(this);
    return true;
  }


  /** @internal What a task waiting on this call waits for, for `taskTree()`. */
  _describeWait(): string {
    const kind = this._pool.kind;
    const where = kind === "inline" ? " (inline, on the loop's thread)" : kind === "bullmq" ? " on the cluster" : ` on a ${kind} worker`;
    const now = performance.now();
    if (this.phase === QUEUED || !this.started) return `pool call ${this.label}, queued for ${Math.round(now - this.enqueuedAt)} ms`;
    return `pool call ${this.label}${where}, running for ${Math.round(now - this.startedAt)} ms`;
  }

}
