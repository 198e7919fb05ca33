/**
 * `waitFor`: asyncio's `wait_for`, a wait for one awaitable with a time limit, built on the
 * timeout scope of timeout.ts.
 * @module
 */
import { isCancelledError, TimeoutError, type Coroutine, type Future, currentTask, getRunningLoop, type Task, oneFuture, type Awaitable } from "../core/index.ts";
import { checkTime, startScope } from "./timeout.ts";

function* waitInner<T>(f: Future<T>): Coroutine<T> {
  return yield* f;
}

/**
 * Waits for `aw` for at most `ms` milliseconds (asyncio.wait_for). On expiry the awaitable
 * is cancelled, waited for, and a `TimeoutError` is raised; if it ignores the cancellation
 * and finishes anyway, its result is returned. A promise cannot be cancelled: only the wait
 * for it stops. `null` waits without a limit. A limit of 0 or less gives the outcome of an
 * awaitable already done, and otherwise cancels it at once (a generator object never
 * starts) and fails with `TimeoutError` (asyncio 3.12). Cancelling the wait cancels `aw`,
 * even in the loop turn `waitFor()` was called in.
 *
 * @param aw a future or task, a generator object (run as a task) or a promise
 * @param ms the limit in milliseconds, or `null`
 * @throws {RangeError} synchronously for NaN or a non-number limit
 * @throws {TypeError} synchronously when `aw` is not awaitable
 * @example
 * ```ts
 * import { run, sleep, TimeoutError, waitFor } from "loopwork";
 *
 * await run(function* () {
 *   console.log(yield* waitFor(sleep(10, "quick"), 100)); // "quick"
 *   try {
 *     yield* waitFor(sleep(1_000), 100);
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true: the sleep was cancelled
 *   }
 * });
 * ```
 */
export function waitFor<T>(aw: Awaitable<T>, ms: number | null): Task<T> {
  checkTime("waitFor()", ms, "ms");
  const f = oneFuture("waitFor()", aw) as Future<T>;
  const loop = getRunningLoop();
  let task: Task<T>;
  if (ms !== null && ms <= 0) {
    // asyncio 3.12: no time at all. What is done gives its outcome; anything else is
    // cancelled now (a coroutine never starts), waited for, and the wait fails with
    // TimeoutError, unless it finished anyway.
    task = loop.createTask(f.cancel() ? waitNoTime(f, ms) : waitInner(f));
  } else {
    task = startScope("waitFor()", ms === null ? null : loop.time() + ms, ms, () => waitInner(f), undefined);
  }
  task._cancelsFirst(f);
  return task;
}

function* waitNoTime<T>(f: Future<T>, ms: number): Coroutine<T> {
  try {
    return yield* f;
  } catch (e) {
    // The wait's own cancellation stays a cancellation.
    if (isCancelledError(e) && f.cancelled() && currentTask()!.cancelling() === 0) {
      throw new TimeoutError(`waitFor(${ms} ms) expired`, { cause: e });
    }
    throw e;
  }
}
