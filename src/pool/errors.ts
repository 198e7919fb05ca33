/**
 * The errors of the worker-pool bridge. Each has a `name` equal to its class name.
 * @module
 */

/**
 * A call was refused or dropped because its pool is closing or destroyed: `destroy()`
 * rejects queued and running calls with it, and calls made after `close()` or `destroy()`
 * fail with it.
 *
 * @example
 * ```ts
 * import { PoolClosedError, WorkerPool } from "loopwork";
 *
 * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url));
 * await pool.destroy();
 * try {
 *   await pool.run("add", 1, 2);
 * } catch (e) {
 *   console.log(e instanceof PoolClosedError); // true
 * }
 * ```
 */
export class PoolClosedError extends Error {
  /** Creates the error; the message says which call was dropped and why. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PoolClosedError";
  }
}

/**
 * A call was refused because every worker was busy and `maxQueue` calls were already
 * waiting.
 *
 * @example
 * ```ts
 * import { PoolQueueFullError, WorkerPool } from "loopwork";
 *
 * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { maxWorkers: 1, maxQueue: 0 });
 * const first = pool.run("busy", 100);
 * try {
 *   await pool.run("busy", 100);
 * } catch (e) {
 *   console.log(e instanceof PoolQueueFullError); // true
 * }
 * await first;
 * await pool.close();
 * ```
 */
export class PoolQueueFullError extends Error {
  /** Creates the error; the message gives the queue limit. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PoolQueueFullError";
  }
}

/**
 * The worker running a call died (an uncaught error, `process.exit()`, a crash of the
 * child process). The call is rejected with this error and the pool replaces the worker.
 *
 * @example
 * ```ts
 * import { WorkerCrashedError, WorkerPool } from "loopwork";
 *
 * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url));
 * try {
 *   await pool.run("exit", 3); // a task that calls process.exit(3)
 * } catch (e) {
 *   console.log(e instanceof WorkerCrashedError, (e as Error).message);
 * }
 * await pool.destroy();
 * ```
 */
export class WorkerCrashedError extends Error {
  /** The exit code of the worker, when it is known. */
  readonly exitCode: number | undefined;
  /** Creates the error; the message names the call whose worker died. */
  constructor(message: string, exitCode?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "WorkerCrashedError";
    this.exitCode = exitCode;
  }
}

/**
 * A `"bullmq"` pool could not reach Redis within `connectTimeoutMs`: its calls are rejected
 * with this error (never left hanging). The message names the server, never its password.
 *
 * @example
 * ```ts
 * import { PoolConnectionError, WorkerPool } from "loopwork";
 *
 * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), {
 *   kind: "bullmq", connection: "redis://127.0.0.1:1", queue: "jobs", connectTimeoutMs: 500,
 * });
 * await pool.run("add", 1, 2).catch((e) => console.log(e instanceof PoolConnectionError)); // true
 * await pool.destroy();
 * ```
 */
export class PoolConnectionError extends Error {
  /** Creates the error; the message names the server and the timeout. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PoolConnectionError";
  }
}
