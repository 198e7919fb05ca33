/**
 * `SignalFuture`: a future settled from outside by a timer, an `AbortSignal` or a promise,
 * which lets go of its timer and abort listener however it ends. The grants of the
 * synchronisation primitives and the futures of loopwork/std are built on it.
 * @module
 */
import { abortMessage, isCancelledError } from "./errors.ts";
import { Future, PENDING } from "./future.ts";

/** @internal A timer a `SignalFuture` cancels when it settles. */
export interface CancelTimer {
  cancel(): void;
}

/**
 * @internal A future settled from outside by a timer, a signal or a promise; whichever way
 * it settles (or is cancelled), its timer and abort listener go.
 */
export class SignalFuture<T> extends Future<T> {
  /** @internal */ _timer: CancelTimer | null = null;
  /** @internal */ _signal: AbortSignal | null = null;

  /** @internal Settles with the abort reason when `signal` aborts (at once if it has). */
  _watch(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) {
      this._abortWith(signal.reason);
      return;
    }
    this._signal = signal;
    signal.addEventListener("abort", this);
  }

  /** @internal The abort listener. */
  handleEvent(): void {
    const s = this._signal;
    if (s !== null) this._abortWith(s.reason);
  }

  /** @internal An abort whose reason is a `CancelledError` cancels; any other rejects. */
  _abortWith(reason: unknown): void {
    if (this._state !== PENDING) return;
    if (isCancelledError(reason)) this.cancel(abortMessage(reason));
    else this._rejectWith(reason);
  }

  /** @internal How an abort with a reason other than a cancellation settles this future. */
  _rejectWith(reason: unknown): void {
    this.setException(reason);
  }

  /** @internal Every settlement passes here: the timer and the abort listener go. */
  override _scheduleCallbacks(): void {
    const t = this._timer;
    if (t !== null) {
      this._timer = null;
      t.cancel();
    }
    const s = this._signal;
    if (s !== null) {
      this._signal = null;
      s.removeEventListener("abort", this);
    }
    super._scheduleCallbacks();
  }
}

