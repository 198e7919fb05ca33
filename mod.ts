/**
 * loopwork: asyncio's model for TypeScript on Node and Deno. A single-threaded coroutine
 * loop for I/O-bound work (tasks, true cancellation, a virtual clock), structured concurrency
 * and a worker-pool bridge for CPU-bound work. Subpaths: `loopwork/std`, `loopwork/pool`, `loopwork/cluster`.
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
export { CancelledError, InvalidStateError, TimeoutError } from "./src/core/errors.ts";
export { type Coroutine, type DoneCallback, Future, isFuture, type Yieldable } from "./src/core/future.ts";
export { Task, type TaskBody, type TaskOptions } from "./src/core/task.ts";
export {
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  Loop,
  type LoopOptions,
} from "./src/core/loop.ts";
export { Handle, TimerHandle } from "./src/core/handles.ts";
export type { ClockKind } from "./src/core/clock.ts";
export { allTasks, currentTask, getRunningLoop, tryGetRunningLoop } from "./src/core/running.ts";
export { run, type RunOptions } from "./src/core/run.ts";
export { spawn } from "./src/core/spawn.ts";
export { sleep, yieldNow } from "./src/core/sleep.ts";
export { until } from "./src/core/until.ts";
export { dumpTasks, type TaskNode, type TaskState, taskTree, type TaskTreeOptions } from "./src/inspect/task-tree.ts";
export { type LagMonitor, type LagMonitorOptions, type LagReport, monitorLag } from "./src/inspect/lag.ts";

// ---- structured concurrency and combinators ----
export { type Awaitable, type AwaitedOf } from "./src/core/awaitable.ts";
export {
  taskGroup,
  TaskGroup,
  type TaskGroupBody,
  TaskGroupError,
  type TaskGroupOptions,
} from "./src/structured/group.ts";
export {
  moveOnAfter,
  moveOnAt,
  MoveOnScope,
  timeout,
  timeoutAt,
  type TimeoutBody,
  type TimeoutOptions,
  TimeoutScope,
} from "./src/structured/timeout.ts";
export { waitFor } from "./src/structured/wait-for.ts";
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
} from "./src/structured/combinators.ts";

// ---- synchronisation primitives and queues ----
export { type SignalOptions } from "./src/core/grant.ts";
export { type Held, Scoped, type ScopedBody } from "./src/sync/scope.ts";
export { Lock } from "./src/sync/lock.ts";
export { Event } from "./src/sync/event.ts";
export { Condition } from "./src/sync/condition.ts";
export { BoundedSemaphore, Semaphore } from "./src/sync/semaphore.ts";
export { CapacityLimiter, type CapacityLimiterStatistics } from "./src/sync/capacity-limiter.ts";
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
} from "./src/sync/queue.ts";
// ---- the @std/async jobs (loop-aware: loopwork/std has them in std's exact shapes), the
// worker-pool bridge and the cluster: also their own subpaths ----
export * from "./src/std/index.ts";
export * from "./pool.ts";
export * from "./cluster.ts";
