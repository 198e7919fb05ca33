/**
 * `sleep` and `yieldNow`: a future that resolves after a delay on the loop's clock. A
 * cancelled sleep takes its timer off the loop, so a virtual clock never jumps to it.
 * @module
 */
import { Future, PENDING, type Waiter } from "./future.ts";
import type { Runnable, TimerHandle } from "./handles.ts";
import { getRunningLoop } from "./running.ts";
import { checkMs, formatMs } from "./checks.ts";

/**
 * A future resolved by a timer, which cancelling the future removes. A zero sleep has no
 * timer: the future itself waits in the loop's ready queue (no handle to allocate, nor to
 * cancel when a task waits on it).
 */
class SleepFuture<T> extends Future<T> implements Runnable {
  /** @internal the timer of a sleep longer than 0 */ _timer: TimerHandle | null = null;
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._timer?.cancel();
    this._timer = null;
    return true;
  }
  /** @internal What a task waiting on this sleep waits for, for `taskTree()`. */
  _describeWait(): string {
    const timer = this._timer;
    if (timer === null) return "sleep(0): the next turn";
    const left = timer._when - this._loop!.time();
    return `sleep until ${formatMs(timer._when)} ms (${formatMs(Math.max(0, left))} ms left)`;
  }
  /**
   * @internal A task waiting on a zero sleep resumes on the next turn, as after a bare
   * `yield` (asyncio's `sleep(0)`), rather than one turn to resolve and one to wake.
   */
  override _addWaiter(waiter: Waiter): void {
    if (this._state === PENDING && this._timer === null) this.setResult(this._value as T);
    super._addWaiter(waiter);
  }
  /** @internal A zero sleep's turn in the ready queue came: it resolves (unless done already). */
  _run(): void {
    if (this._state === PENDING) this.setResult(this._value as T);
  }

  /**
   * `yield* sleep(0)`: the future resolves at once (as when a task waits on it, above) and
   * the task yields bare, as asyncio's `sleep(0)` does: it resumes on the next turn with the
   * result, and a cancellation reaches it at that `yield`. No waiter to register, no wake-up
   * to schedule.
   */
  override [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    if (this._state === PENDING && this._timer === null) return new ZeroSleepIterator(this);
    return super[Symbol.iterator]();
  }
}

const YIELD_TO_LOOP: IteratorResult<Future<unknown>, never> = Object.freeze({ done: false, value: undefined as never });

/** The iterator of a zero sleep: resolves it, yields nothing once (a bare `yield`), then returns its result. */
class ZeroSleepIterator<T> implements Iterator<Future<unknown>, T, unknown> {
  constructor(private readonly fut: SleepFuture<T>) {}
  private _yielded = false;
  next(): IteratorResult<Future<unknown>, T> {
    const f = this.fut;
    if (!this._yielded) {
      this._yielded = true;
      if (f._state === PENDING) f.setResult(f._value as T);
      return YIELD_TO_LOOP;
    }
    return { done: true, value: f.result() };
  }
  throw(e: unknown): IteratorResult<Future<unknown>, T> {
    throw e;
  }
  return(value?: T): IteratorResult<Future<unknown>, T> {
    return { done: true, value: value as T };
  }
}

function wakeSleeper(arg: unknown): void {
  const f = arg as SleepFuture<unknown>;
  f._timer = null;
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
  if (ms === 0) loop._pushReady(f); else f._timer = loop._callAt1(loop.time() + ms, wakeSleeper, f);
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
