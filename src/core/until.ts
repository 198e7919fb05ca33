/**
 * `until`: the door through which foreign promises enter a coroutine.
 * @module
 */
import { Future } from "./future.ts";
import { describeValue } from "./checks.ts";

/**
 * A future that settles as `promise` does, so a generator coroutine can wait on it:
 * `const res = yield* until(fetch(url))`. Cancelling the future (for instance by
 * cancelling the task waiting on it) stops the wait, not the promise: to stop the work
 * itself, pass the task's `signal` to it.
 *
 * A loopwork `Future` is returned as it is.
 *
 * @throws {TypeError} when `promise` is not a promise or thenable
 * @example
 * ```ts
 * import { currentTask, run, until } from "loopwork";
 *
 * const text = await run(function* () {
 *   const signal = currentTask()!.signal;
 *   const body = yield* until(Promise.resolve("hello"));
 *   return signal.aborted ? "" : body;
 * });
 * console.log(text); // "hello"
 * ```
 */
export function until<T>(promise: PromiseLike<T> | Future<T>): Future<T> {
  if (promise instanceof Future) return promise;
  if (
    promise === null ||
    (typeof promise !== "object" && typeof promise !== "function") ||
    typeof (promise as PromiseLike<T>).then !== "function"
  ) {
    throw new TypeError(`until() expects a promise or thenable, got ${describeValue(promise)}`);
  }
  const f = new Future<T>();
  // While pending, `_value` (unused until settled) holds the promise: `taskTree()` reads it
  // to tell a task waiting on a foreign promise, at no cost to the wait.
  f._value = promise;
  promise.then(
    (v) => {
      if (!f.done()) f.setResult(v);
    },
    (e) => {
      if (!f.done()) f.setException(e);
    },
  );
  return f;
}
