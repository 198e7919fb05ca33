/**
 * `until`: the door through which foreign promises enter a coroutine.
 * @module
 */
import { Future, isFuture } from "./future.ts";
import { describeValue } from "./checks.ts";

/**
 * A future that settles as `promise` does, so a generator coroutine can wait on it:
 * `const res = yield* until(fetch(url))`. Cancelling the future (for instance by
 * cancelling the task waiting on it) stops the wait, not the promise: to stop the work
 * itself, pass the task's `signal` to it.
 *
 * A loopwork `Future` is returned as it is. As with a promise resolved with `promise`, its
 * `then` is read once: a read or a call that throws before it settled fails the future with
 * that error, and what it does after it settled is ignored.
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
  if (isFuture(promise)) return promise;
  if (promise === null || (typeof promise !== "object" && typeof promise !== "function")) throw notThenable(promise);
  const f = new Future<T>();
  // As the promise rules resolve with a thenable: `then` is read once, a read or a call
  // that throws before the thenable settled fails the future, and what it does once
  // settled (settle again, throw) is ignored.
  let then: unknown;
  try {
    then = (promise as PromiseLike<T>).then;
  } catch (e) {
    f.setException(e);
    return f;
  }
  if (typeof then !== "function") throw notThenable(promise);
  // While pending, `_value` (unused until settled) holds the promise: `taskTree()` reads it
  // to tell a task waiting on a foreign promise, at no cost to the wait.
  f._value = promise;
  try {
    (then as PromiseLike<T>["then"]).call(
      promise,
      (v) => {
        if (!f.done()) f.setResult(v);
      },
      (e) => {
        if (!f.done()) f.setException(e);
      },
    );
  } catch (e) {
    if (!f.done()) f.setException(e);
  }
  return f;
}

function notThenable(x: unknown): TypeError {
  return new TypeError(`until() expects a promise or thenable, got ${describeValue(x)}`);
}
