/**
 * The @std/async jobs, loop-aware: they return loopwork futures (cancellable, `yield*`-able)
 * and run on the running loop's clock. `mod.ts` exports these; `std.ts` (loopwork/std)
 * wraps the same functions to @std/async's exact shapes.
 * @module
 */
export { delay, type DelayOptions } from "./delay.ts";
export { deadline, type DeadlineOptions } from "./deadline.ts";
export { abortable, type AbortableOptions } from "./abortable.ts";
export { debounce, type DebouncedFunction, type DebounceOptions } from "./debounce.ts";
export { throttle, type ThrottledFunction, type ThrottleOptions } from "./throttle.ts";
export { retry, type RetryContext, RetryError, type RetryFunction, type RetryOptions } from "./retry.ts";
export {
  pooledMap,
  type PooledMapFunction,
  type PooledMapOptions,
  pooledMapSettled,
  type PooledMapSettledOptions,
} from "./pooled_map.ts";
export { poll, type PollOptions } from "./poll.ts";
export { merge, MuxAsyncIterator } from "./merge.ts";
export { tee, type Tuple } from "./tee.ts";
