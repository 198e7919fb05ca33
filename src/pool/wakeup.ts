/**
 * `Wakeup`: one waiter woken by the next `wake()`, for the pool's loops that wait on host
 * events (port messages, settled calls) outside any loopwork loop: `map()`, `stream()` and a
 * worker's stream sender.
 * @module
 */

/** @internal `wait()` resolves at the next `wake()`; a `wake()` with nobody waiting is dropped. */
export class Wakeup {
  private _waiter: (() => void) | null = null;

  /** Resolves at the next `wake()`. The caller checks its condition first, and again after. */
  wait(): Promise<void> {
    return new Promise<void>((r) => (this._waiter = r));
  }

  /** Wakes the waiter, if any (a bound function, to pass as a listener). */
  readonly wake = (): void => {
    const w = this._waiter;
    this._waiter = null;
    w?.();
  };
}
