/**
 * loopwork/std: the jobs of Deno's @std/async — `delay`, `deadline`, `abortable`, `debounce`,
 * `throttle`, `retry`, `pooledMap`, `merge` (`MuxAsyncIterator`) and `tee` — loop-aware and
 * cancellable. It imports no worker pool and no npm package.
 *
 * @example
 * ```ts
 * import { delay, retry } from "loopwork/std";
 *
 * const answer = await retry(async () => {
 *   await delay(10);
 *   return 42;
 * });
 * console.log(answer); // 42
 * ```
 * @module
 */
export { delay, type DelayOptions } from "./src/util/delay.ts";
export { deadline, type DeadlineOptions } from "./src/util/deadline.ts";
export { abortable } from "./src/util/abortable.ts";
export { debounce, type DebouncedFunction, type DebounceOptions } from "./src/util/debounce.ts";
export { throttle, type ThrottledFunction, type ThrottleOptions } from "./src/util/throttle.ts";
export {
  retry,
  type RetryContext,
  RetryError,
  type RetryFunction,
  type RetryOptions,
} from "./src/util/retry.ts";
export { pooledMap, type PooledMapFunction, type PooledMapOptions } from "./src/util/pooled_map.ts";
export { merge, MuxAsyncIterator } from "./src/util/merge.ts";
export { tee, type Tuple } from "./src/util/tee.ts";
