/**
 * `sleep` and `yieldNow`: a future that resolves after a delay on the loop's clock. A
 * cancelled sleep takes its timer off the loop, so a virtual clock never jumps to it.
 * @module
 */
import { Future, type Waiter } from "./future.ts";
import { type Handle, TimerHandle } from "./handles.ts";
import { getRunningLoop } from "./running.ts";
import { checkMs } from "./checks.ts";

/** A future resolved by a timer, which cancelling the future removes. */
class SleepFuture<T> extends Future<T> {
  /** @internal the timer, or for a zero sleep the callSoon handle */ _timer: Handle | null = null;
  /** @internal */ _zero = false;
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._timer?.cancel();
    this._timer = null;
    return true;
  }
  /** @internal What a task waiting on this sleep waits for, for `taskTree()`. */
  _describeWait(): string {
    const timer = this._timer;
    if (this._zero || !(timer instanceof TimerHandle)) return "sleep(0): the next turn";
    const left = timer._when - this._loop!.time();
    return `sleep until ${formatMs(timer._when)} ms (${formatMs(Math.max(0, left))} ms left)`;
  }
  /**
   * @internal A task waiting on a zero sleep resumes on the next turn, as after a bare
   * `yield` (asyncio's `sleep(0)`), rather than one turn to resolve and one to wake.
   */
  override _addWaiter(waiter: Waiter): void {
    if (this._zero && !this.done()) {
      this._timer?.cancel();
      this._timer = null;
      this.setResult(this._value as T);
    }
    super._addWaiter(waiter);
  }
}

/** A time for a description: whole milliseconds when it is one, else one decimal. */
function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(1);
}

function wakeSleeper(arg: unknown): void {
  const f = arg as SleepFuture<unknown>;
  f._timer = null;
  if (!f.done()) f.setResult(f._value);
}

function wakeSleeperSoon(arg: unknown): void {
  const f = arg as SleepFuture<unknown>;
  if (!f.done()) f.setResult(f._value);
}

/**
 * A future that resolves to `value` after `ms` milliseconds of the running loop's clock.
 * `sleep(0)` resolves on the next turn of the loop, letting every other ready task run.
 *
 * @param ms delay in milliseconds, finite and >= 0
 * @param value what the future resolves to (default `undefined`)
 * @throws {RangeError} for a negative, NaN or infinite delay
 * @example
 * ```ts
 * import { run, sleep } from "loopwork";
 *
 * const n = await run(function* () {
 *   const x: number = yield* sleep(10, 5);
 *   return x + 1;
 * });
 * console.log(n); // 6
 * ```
 */
export function sleep<T = void>(ms: number, value?: T): Future<T> {
  checkMs("sleep()", "ms", ms);
  const loop = getRunningLoop();
  const f = new SleepFuture<T>(loop);
  // The value waits in `_value` (unused while pending) so the timer needs no closure.
  f._value = value;
  if (ms === 0) {
    f._zero = true;
    f._timer = loop._callSoon1(wakeSleeperSoon, f);
  }
  else f._timer = loop._callAt1(loop.time() + ms, wakeSleeper, f);
  return f;
}

/**
 * Yields to the loop once: every other ready task and callback runs before this resolves.
 * In a loop that computes for long, `yield* yieldNow()` per iteration keeps the loop
 * responsive. Same as `sleep(0)`; in a generator a bare `yield` does the same.
 *
 * @example
 * ```ts
 * import { run, yieldNow } from "loopwork";
 *
 * await run(function* () {
 *   for (let i = 0; i < 1_000; i++) {
 *     // ... a slice of CPU work ...
 *     yield* yieldNow();
 *   }
 * });
 * ```
 */
export function yieldNow(): Future<void> {
  return sleep(0);
}
