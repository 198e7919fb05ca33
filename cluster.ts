/**
 * loopwork/cluster: the names of the worker pool on a BullMQ cluster over Redis — how a
 * `"bullmq"` pool connects, retries and fails. The pool itself is `WorkerPool` (from
 * `loopwork/pool`) with `kind: "bullmq"`; machines serve the queue with `loopwork worker`.
 * bullmq and ioredis are optional peer dependencies, loaded only when a `"bullmq"` pool first connects.
 *
 * @example
 * ```ts
 * import { PoolConnectionError, type RedisConnection } from "loopwork/cluster";
 * import { WorkerPool } from "loopwork/pool";
 *
 * const connection: RedisConnection = "redis://127.0.0.1:6379";
 * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { kind: "bullmq", connection, queue: "jobs" });
 * try {
 *   console.log(await pool.run("fib", 30));
 * } catch (e) {
 *   if (e instanceof PoolConnectionError) console.error("Redis is not reachable:", e.message);
 * } finally {
 *   await pool.destroy();
 * }
 * ```
 * @module
 */
export type { RedisConnection, RedisConnectionOptions, RetryBackoff } from "./src/pool/options.ts";
export { PoolConnectionError } from "./src/pool/errors.ts";
