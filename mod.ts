/**
 * loopwork: asyncio's model for TypeScript on Node and Deno. A single-threaded coroutine
 * loop for I/O-bound work (tasks, true cancellation, a virtual clock) and, in later
 * modules, structured concurrency and a worker-pool bridge for CPU-bound work.
 *
 * @example
 * ```ts
 * import { run, sleep, spawn } from "loopwork";
 *
 * await run(function* () {
 *   const a = spawn(function* () { yield* sleep(1_000); return "a"; });
 *   const b = spawn(async () => { await sleep(1_000); return "b"; });
 *   console.log(yield* a, yield* b); // after ~1 s: a b
 * });
 * ```
 * @module
 */
export { CancelledError, InvalidStateError, TimeoutError } from "./src/errors.ts";
export { type Coroutine, type DoneCallback, Future, isFuture, type Yieldable } from "./src/future.ts";
export { Task, type TaskBody, type TaskOptions } from "./src/task.ts";
export {
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  Loop,
  type LoopOptions,
} from "./src/loop/loop.ts";
export { Handle, TimerHandle } from "./src/loop/handles.ts";
export type { ClockKind } from "./src/loop/clock.ts";
export { allTasks, currentTask, getRunningLoop, tryGetRunningLoop } from "./src/loop/running.ts";
export { run, type RunOptions, spawn } from "./src/run.ts";
export { sleep, yieldNow } from "./src/sleep.ts";
export { until } from "./src/until.ts";
export { type LagMonitor, type LagMonitorOptions, type LagReport, monitorLag } from "./src/lag.ts";

// ---- structured concurrency and combinators (issue 3) ----
export { type Awaitable, type AwaitedOf } from "./src/awaitable.ts";
export {
  taskGroup,
  TaskGroup,
  type TaskGroupBody,
  TaskGroupError,
  type TaskGroupOptions,
} from "./src/group.ts";
export {
  timeout,
  timeoutAt,
  type TimeoutBody,
  type TimeoutOptions,
  TimeoutScope,
  waitFor,
} from "./src/timeout.ts";
export {
  AsCompleted,
  asCompleted,
  type AsCompletedOptions,
  gather,
  type GatherOptions,
  type ReturnWhen,
  shield,
  wait,
  type WaitOptions,
  type WaitResult,
} from "./src/combinators.ts";

// ---- Synchronisation primitives, queues and the @std/async jobs (issue 4) ----
export { type SignalOptions } from "./src/sync/grant.ts";
export { type Held, Scoped, type ScopedBody } from "./src/sync/scope.ts";
export { Lock } from "./src/sync/lock.ts";
export { Event } from "./src/sync/event.ts";
export { Condition } from "./src/sync/condition.ts";
export { BoundedSemaphore, Semaphore } from "./src/sync/semaphore.ts";
export { Barrier, BrokenBarrierError } from "./src/sync/barrier.ts";
export {
  LifoQueue,
  PriorityQueue,
  type PriorityQueueOptions,
  Queue,
  QueueEmpty,
  QueueFull,
  type QueueOptions,
  QueueShutDown,
} from "./src/queue.ts";
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

// ---- worker-pool bridge (src/pool/) ----
export {
  type AnyTasks,
  type MapOptions,
  type PoolStats,
  type TaskArgs,
  type TaskName,
  type TaskResult,
  WorkerPool,
} from "./src/pool/worker-pool.ts";
export type { PoolKind, WorkerPoolOptions } from "./src/pool/options.ts";
export { PoolClosedError, PoolQueueFullError, WorkerCrashedError } from "./src/pool/errors.ts";
export { type MessagePortLike, transfer } from "./src/pool/transfer.ts";
export { toThread } from "./src/pool/to-thread.ts";

// ---- the pool on a BullMQ cluster (src/pool/bullmq-*.ts, src/cluster/) ----
export type { RedisConnection, ResourceLimits, RetryBackoff } from "./src/pool/options.ts";
export { PoolConnectionError } from "./src/pool/errors.ts";
