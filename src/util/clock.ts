/**
 * The time source of the utilities: the running loop's clock and timers when a loop runs
 * (so a virtual clock drives them), the host's otherwise. Plus `SignalFuture`, the future
 * the utilities return: settled by a timer or an `AbortSignal`, and cleaning both up
 * however it ends.
 * @module
 */
import { CancelledError } from "../errors.ts";
import { describeValue, Future, PENDING } from "../future.ts";
import { tryGetRunningLoop } from "../loop/running.ts";

/** @internal A scheduled callback that can be called off. */
export interface Timer {
  cancel(): void;
}

/** @internal Milliseconds on the running loop's clock, or on the host's monotonic clock. */
export function now(): number {
  const loop = tryGetRunningLoop();
  return loop !== undefined ? loop.time() : performance.now();
}

interface Unrefable {
  unref?(): void;
}
declare const Deno: { unrefTimer(id: number): void } | undefined;

/**
 * @internal Runs `cb` after `ms`: on the running loop's clock when a loop runs, else with a
 * host timer (which `persistent: false` unrefs, so it does not keep the process alive).
 */
export function setTimer(ms: number, cb: () => void, persistent: boolean = true): Timer {
  const loop = tryGetRunningLoop();
  if (loop !== undefined) return loop.callLater(ms, cb);
  const id = setTimeout(cb, Math.min(ms, 2 ** 31 - 1));
  if (!persistent) {
    if (typeof (id as Unrefable).unref === "function") (id as Unrefable).unref!();
    else if (typeof Deno !== "undefined") Deno.unrefTimer(id as unknown as number);
  }
  return { cancel: () => clearTimeout(id) };
}

/** @internal Checks a delay in ms: a number >= 0 (Infinity allowed when `infinite`). */
export function checkMs(what: string, name: string, ms: unknown, infinite: boolean): number {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0 || (!infinite && ms === Infinity)) {
    throw new RangeError(`${what}: ${name} must be a number of milliseconds >= 0, got ${describeValue(ms)}`);
  }
  return ms;
}

/** @internal Checks an optional `AbortSignal` option. */
export function checkSignal(what: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (signal === null || typeof signal !== "object" || typeof (signal as AbortSignal).addEventListener !== "function") {
    throw new TypeError(`${what}: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal as AbortSignal;
}

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
    else this.setException(reason);
  }

  /** @internal Every settlement passes here. */
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
    if (f.cancelled()) ac.abort(new CancelledError(f._cancelMessage));
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
