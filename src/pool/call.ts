/**
 * One pool call from submission to outcome. It is the future the call's task waits on, so
 * cancelling the task cancels it (asyncio's rule), and it tells the pool at once: a queued
 * call leaves the queue, a running one has its worker stopped. It also serves as the
 * abort hook tinypool listens on (the `once`/`off` shape it accepts), which is much
 * cheaper than an AbortController per call.
 * @module
 */
import { Future } from "../core/index.ts";
import type { CallRequest } from "./protocol.ts";

/** @internal */
export const QUEUED = 0;
/** @internal */
export const RUNNING = 1;
/** @internal */
export const SETTLED = 2;

/** @internal What a pool does when one of its calls is cancelled. */
export interface CancelSink {
  _callCancelled(call: PoolCall): void;
}

/** @internal What a backend listens on to learn that a running call must be stopped. */
export interface AbortHook {
  once(event: "abort", listener: () => void): void;
  off(event: "abort", listener: () => void): void;
}

/** @internal */
export class PoolCall extends Future<unknown> implements AbortHook {
  /** QUEUED, RUNNING or SETTLED, as the pool sees it. */
  phase: number = QUEUED;
  startedAt = 0;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _abortListener: (() => void) | null = null;

  constructor(
    readonly req: CallRequest,
    readonly label: string,
    private readonly _pool: CancelSink,
    readonly enqueuedAt: number,
  ) {
    super();
  }

  /** Cancelling the future (directly, or by cancelling the task waiting on it) cancels the call. */
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._pool._callCancelled(this);
    return true;
  }

  once(_event: "abort", listener: () => void): void {
    this._abortListener = listener;
  }

  off(_event: "abort", _listener: () => void): void {
    this._abortListener = null;
  }

  /** @internal What a task waiting on this call waits for, for `taskTree()`. */
  _describeWait(): string {
    const kind = (this._pool as { kind?: string }).kind;
    const where = kind === "inline" ? " (inline, on the loop's thread)" : kind === "bullmq" ? " on the cluster" : kind !== undefined ? ` on a ${kind} worker` : "";
    const now = performance.now();
    if (this.phase === QUEUED) return `pool call ${this.label}, queued for ${Math.round(now - this.enqueuedAt)} ms`;
    return `pool call ${this.label}${where}, running for ${Math.round(now - this.startedAt)} ms`;
  }

  /** Tells the backend to stop the worker running this call. */
  abortWorker(): void {
    const listener = this._abortListener;
    this._abortListener = null;
    listener?.();
  }
}
