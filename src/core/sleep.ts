/**
 * `sleep` and `yieldNow`: a future that resolves after a delay on the loop's clock. A
 * cancelled sleep takes its timer off the loop, so a virtual clock never jumps to it.
 * @module
 */
import { blocking, FULFILLED, Future, PENDING, type Waiter } from "./future.ts";
import type { Runnable, TimerHandle } from "./handles.ts";
import type { Loop } from "./loop.ts";
import { getRunningLoop } from "./running.ts";
import { checkMs, formatMs } from "./checks.ts";

/**
 * A future resolved by a timer, which cancelling the future removes (a zero sleep is a
 * `ZeroSleep`, below).
 */
class SleepFuture<T> extends Future<T> {
  /** @internal the timer, until it fires or is cancelled */ _timer: TimerHandle | null = null;
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
}

const YIELD_TO_LOOP: IteratorResult<Future<unknown>, never> = Object.freeze({ done: false, value: undefined as never });
const DONE_UNDEFINED: IteratorResult<Future<unknown>, never> = Object.freeze({ done: true, value: undefined as never });

/** What the first iterator of a zero sleep has done: none taken, taken, yielded. */
const NOT_TAKEN = 0;
const TAKEN = 1;
const YIELDED = 2;

/**
 * @internal `sleep(0)` and `yieldNow()`: no timer (and no handle to allocate, nor to cancel when a
 * task waits on it): the future itself waits in the loop's ready queue and resolves when its
 * turn comes, unless it is done by then.
 *
 * `yield* sleep(0)` resolves it at once and yields bare, as asyncio's `sleep(0)` does: the
 * task resumes on the next turn with the result, and a cancellation reaches it at that
 * `yield`. No waiter to register, no wake-up to schedule; the first iterator taken is the
 * future itself (no object per yield), and when nothing was queued after the future by the
 * time the task yields, the task takes the future's place in the queue (where it would have
 * been queued next anyway): the future, resolved already, has nothing left to do there.
 */
export class ZeroSleep<T> extends Future<T> implements Runnable, Iterator<Future<unknown>, T, unknown> {
  /** @internal what its own iterator did (NOT_TAKEN, TAKEN, YIELDED) */ _iter: number = NOT_TAKEN;

  /** @internal What a task waiting on this sleep waits for, for `taskTree()`. */
  _describeWait(): string {
    return "sleep(0): the next turn";
  }

  /**
   * @internal A task waiting on a zero sleep resumes on the next turn, as after a bare
   * `yield` (asyncio's `sleep(0)`), rather than one turn to resolve and one to wake.
   */
  override _addWaiter(waiter: Waiter): void {
    if (this._state === PENDING) this.setResult(this._value as T);
    super._addWaiter(waiter);
  }

  /** @internal Its turn in the ready queue came: it resolves, unless done already. */
  _run(): void {
    if (this._state === PENDING) this.setResult(this._value as T);
  }

  /** `yield* sleep(0)`: see the class. */
  override [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    if (this._state !== PENDING) return super[Symbol.iterator]();
    if (this._iter === NOT_TAKEN) {
      this._iter = TAKEN;
      return this;
    }
    return new ZeroSleepIterator(this);
  }

  /** @internal The first iterator's step: yield once, then return the result. */
  next(): IteratorResult<Future<unknown>, T> {
    if (this._iter !== TAKEN) return this._outcome();
    this._iter = YIELDED;
    return this._yieldOnce();
  }

  /** @internal */
  throw(e: unknown): IteratorResult<Future<unknown>, T> {
    throw e;
  }

  /** @internal */
  return(value?: T): IteratorResult<Future<unknown>, T> {
    return { done: true, value: value as T };
  }

  /** @internal An iterator's one yield: resolve, and offer this future to the task (see the class). */
  _yieldOnce(): IteratorResult<Future<unknown>, T> {
    if (this._state === PENDING) this.setResult(this._value as T);
    blocking.zero = this as ZeroSleep<unknown>;
    return YIELD_TO_LOOP;
  }

  /** @internal What `yield*` returns once resumed: the result (or the exception). */
  _outcome(): IteratorResult<Future<unknown>, T> {
    return this._value === undefined && this._state === FULFILLED ? DONE_UNDEFINED : { done: true, value: this.result() };
  }
}

/** An iterator of a zero sleep taken after its first (a rare case): yields once, then returns its result. */
class ZeroSleepIterator<T> implements Iterator<Future<unknown>, T, unknown> {
  constructor(private readonly fut: ZeroSleep<T>) {}
  private _yielded = false;
  next(): IteratorResult<Future<unknown>, T> {
    if (this._yielded) return this.fut._outcome();
    this._yielded = true;
    return this.fut._yieldOnce();
  }
  throw(e: unknown): IteratorResult<Future<unknown>, T> {
    return this.fut.throw(e);
  }
  return(value?: T): IteratorResult<Future<unknown>, T> {
    return this.fut.return(value);
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
  if (ms === 0) return zeroSleep(loop, value);
  const f = new SleepFuture<T>(loop);
  // The value waits in `_value` (unused while pending) so the timer needs no closure.
  f._value = value;
  f._timer = loop._callAt1(loop.time() + ms, wakeSleeper, f);
  return f;
}

function zeroSleep<T>(loop: Loop, value: T | undefined): Future<T> {
  const f = new ZeroSleep<T>(loop);
  f._value = value;
  loop._pushReady(f);
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
  return zeroSleep(getRunningLoop(), undefined);
}
