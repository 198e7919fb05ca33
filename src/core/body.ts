/**
 * How a scope (a task group, a timeout) runs its body inside its own task: a generator
 * body runs inline, so a cancellation of the task is thrown at the body's current
 * `yield*`; an async body is awaited to the end, its cancellation carried by the task's
 * `AbortSignal`, and a rejection after that signal was aborted counts as the cancellation
 * (that is how async code reports one: an `AbortError`, a `CancelledError`, ...).
 * @module
 */
import { CancelledError, abortMessage, asCancellation } from "./errors.ts";
import { type Coroutine, type Future } from "./future.ts";
import { describeValue, isGenerator, isThenable } from "./checks.ts";
import type { Task } from "./task.ts";
import { until } from "./until.ts";

/** @internal The body of a scope: a generator function or an async function of its scope. */
export type ScopeBody<S, R> = (scope: S) => Coroutine<R> | PromiseLike<R>;

/**
 * @internal Calls `body(scope)` and gives the coroutine the scope's task delegates to with
 * `yield*`: the body's own generator (no extra frame), or one that awaits an async body to
 * the end; see the module comment. Throws what the body throws synchronously.
 */
export function startBody<S, R>(what: string, body: ScopeBody<S, R>, scope: S): Coroutine<R> {
  const out = body(scope);
  if (isGenerator(out)) return out as Coroutine<R>;
  if (isThenable(out)) return awaitToTheEnd(out as PromiseLike<R>);
  throw new TypeError(
    `${what}: the body must be a generator function or an async function; it returned ` +
      `${describeValue(out)}`,
  );
}

/**
 * Waits for `promise` to settle even through cancellations of the waiting task: each one
 * only cancels the wrapper future, which is replaced, while the task's signal (aborted by
 * `Task.cancel`) asks the async body to stop.
 */
function* awaitToTheEnd<R>(promise: PromiseLike<R>): Coroutine<R> {
  let f: Future<R> = until(promise);
  let cancel: CancelledError | undefined;
  for (;;) {
    try {
      return yield* f;
    } catch (e) {
      if (f.cancelled() && f !== (promise as unknown)) {
        // Our wait was cancelled, not the body: note it and keep waiting for the body.
        // (When the body returned a loopwork future, `until` gave that very future, whose
        // cancellation is the body's own outcome: it ends here.)
        cancel ??= e as CancelledError;
        f = until(promise);
        continue;
      }
      if (cancel !== undefined && f.done() && !f.cancelled() && f.exception() === e) throw asCancellation(e, cancel.message);
      throw e;
    }
  }
}

/** @internal Cancels `task` when `signal` aborts; the listener goes when the task ends. */
export function linkSignal(task: Task<unknown>, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    task.cancel(abortMessage(signal.reason));
    return;
  }
  const onAbort = () => {
    task.cancel(abortMessage(signal.reason));
  };
  signal.addEventListener("abort", onAbort, { once: true });
  task.addDoneCallback(() => signal.removeEventListener("abort", onAbort));
}
