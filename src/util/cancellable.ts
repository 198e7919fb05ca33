/**
 * The futures the utilities return: `SignalFuture`, settled by a timer, an `AbortSignal`
 * or a promise and cleaning them up however it ends; and `runCancellable`, which runs
 * async work as a task of the running loop (or a cancellable future outside one).
 * @module
 */
import { CancelledError } from "../errors.ts";
import { Future, PENDING } from "../future.ts";
import { tryGetRunningLoop } from "../loop/running.ts";
import type { Timer } from "./clock.ts";

/**
 * @internal A future settled from outside by a timer, a signal or a promise; whichever way
 * it settles (or is cancelled), its timer and abort listener go.
 */
export class SignalFuture<T> extends Future<T> {
  /** @internal */ _timer: Timer | null = null;
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
    if (reason instanceof CancelledError) this.cancel(reason.message);
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

/**
 * @internal Runs `body(signal)` as cancellable work: a task of the running loop (so
 * cancelling it, or the task waiting on it, aborts `signal`), or, with no loop, a future
 * whose cancellation aborts the signal. `outer` aborting aborts the signal too, and the
 * result then rejects with `outer.reason`.
 */
export function runCancellable<T>(
  name: string,
  body: (signal: AbortSignal) => PromiseLike<T>,
  outer: AbortSignal | undefined,
): Future<T> {
  const loop = tryGetRunningLoop();
  if (loop !== undefined) {
    return loop.createTask(
      (signal: AbortSignal) => body(outer === undefined ? signal : AbortSignal.any([signal, outer])),
      { name },
    );
  }
  const ac = new AbortController();
  const f = new SignalFuture<T>();
  f.addDoneCallback(() => {
    if (f.cancelled()) ac.abort(new CancelledError(f._cancelMessageOf()));
  });
  f._watch(outer);
  if (f.done()) return f;
  body(outer === undefined ? ac.signal : AbortSignal.any([ac.signal, outer])).then(
    (v) => {
      if (!f.done()) f.setResult(v);
    },
    (e) => {
      if (!f.done()) f.setException(e);
    },
  );
  return f;
}
