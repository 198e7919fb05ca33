/**
 * `poll`: @std/async's poll, on the running loop's clock.
 * @module
 */
import { checkOptions, checkSignal, failedWith, type Future } from "../core/index.ts";
import { runCancellable } from "./cancellable.ts";
import { delay } from "./delay.ts";

/**
 * Options of `poll()`, as @std/async's.
 *
 * @example
 * ```ts
 * import { poll, type PollOptions } from "loopwork";
 *
 * const options: PollOptions = { interval: 10 };
 * console.log(await poll(() => 42, (n) => n === 42, options)); // 42
 * ```
 */
export interface PollOptions {
  /** Aborting it stops the polling: the promise rejects with the reason. */
  signal?: AbortSignal;
  /** Milliseconds between calls, a finite number >= 0. Default 1 000. */
  interval?: number;
}

/**
 * Calls `fn` (awaiting what it returns) until `isDone` accepts the result, waiting
 * `interval` ms between calls, and resolves to that result. Errors of `fn` and `isDone`
 * reject at once; so does an abort of `signal`, with its reason. A bad `interval` rejects
 * with a `RangeError` (@std/async's message). On a running loop it is a task: cancelling it
 * (or the task waiting on it with `yield*`) stops the calls.
 *
 * @example
 * ```ts
 * import { poll } from "loopwork";
 *
 * let n = 0;
 * const result = await poll(() => ++n, (x) => x >= 3, { interval: 10 });
 * console.log(result); // 3
 * ```
 */
export function poll<T>(
  fn: () => T,
  isDone: (result: Awaited<T>) => boolean,
  options: PollOptions = {},
): Future<Awaited<T>> {
  let outer: AbortSignal | undefined;
  let interval: number;
  try {
    checkOptions("poll()", options, ["signal", "interval"]);
    outer = checkSignal("poll()", options.signal);
    interval = options.interval ?? 1000;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new RangeError(`Cannot poll as 'interval' must be a non-negative finite number: current value is ${interval}`);
    }
  } catch (e) {
    return failedWith(e); // rejects, as @std/async's async function does
  }
  // A task of the running loop (outside one, a future with its own signal): cancelling what
  // waits on it stops the calls, instead of polling on unseen until the process ends.
  return runCancellable("poll", async (signal: AbortSignal): Promise<Awaited<T>> => {
    const delayOptions = { signal };
    for (;;) {
      signal.throwIfAborted();
      const result = await fn();
      if (isDone(result)) return result;
      // The delay's own promise: one hop from its timer to the next call, as @std/async's.
      await delay(interval, delayOptions)._toPromise();
    }
  }, outer);
}
