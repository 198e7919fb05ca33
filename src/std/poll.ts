/**
 * `poll`: @std/async's poll, on the running loop's clock.
 * @module
 */
import { checkOptions } from "../core/index.ts";
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
 * with a `RangeError` (@std/async's message).
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
export async function poll<T>(
  fn: () => T,
  isDone: (result: Awaited<T>) => boolean,
  options: PollOptions = {},
): Promise<Awaited<T>> {
  checkOptions("poll()", options, ["signal", "interval"]);
  const { signal, interval = 1000 } = options;
  if (!Number.isFinite(interval) || interval < 0) {
    throw new RangeError(`Cannot poll as 'interval' must be a non-negative finite number: current value is ${interval}`);
  }
  const delayOptions = signal ? { signal } : undefined;
  for (;;) {
    signal?.throwIfAborted();
    const result = await fn();
    if (isDone(result)) return result;
    // The delay's own promise: one hop from its timer to the next call, as @std/async's.
    await delay(interval, delayOptions)._toPromise();
  }
}
