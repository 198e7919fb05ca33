/**
 * loopwork/pool: the worker-pool bridge — `WorkerPool` (threads, processes, inline, and the
 * `"bullmq"` kind), `toThread`, `transfer` and the pool's errors. Its backends load lazily:
 * tinypool when a pool first needs it, bullmq only for the `"bullmq"` kind.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "loopwork/pool";
 *
 * const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
 * try {
 *   console.log(await pool.run("fib", 30)); // 832040
 * } finally {
 *   await pool.destroy();
 * }
 * ```
 * @module
 */
export {
  type AnyTasks,
  type MapOptions,
  type PoolStats,
  type TaskArgs,
  type TaskName,
  type TaskResult,
  type TaskYield,
  WorkerPool,
} from "./src/pool/worker-pool.ts";
export { taskSignal } from "./src/pool/task-context.ts";
export type { PoolBackendName, PoolKind, ResourceLimits, WorkerPoolOptions } from "./src/pool/options.ts";
export { PoolClosedError, PoolQueueFullError, WorkerCrashedError } from "./src/pool/errors.ts";
export { type MessagePortLike, transfer } from "./src/pool/transfer.ts";
export { toThread } from "./src/pool/to-thread.ts";
