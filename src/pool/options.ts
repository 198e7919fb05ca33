/**
 * The options of a WorkerPool, their defaults and their checks: a bad option throws in the
 * constructor with a message that names it and the value it got.
 * @module
 */
import { availableParallelism } from "node:os";
import { describeValue, checkOptions, checkMs } from "../core/index.ts";

/**
 * Where a pool runs its calls: worker threads, child processes, or the loop's own thread.
 *
 * @example
 * ```ts
 * import { type PoolKind, WorkerPool } from "loopwork";
 *
 * const kind: PoolKind = process.env.DEBUG ? "inline" : "thread";
 * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { kind });
 * ```
 */
export type PoolKind = "thread" | "process" | "inline" | "bullmq";

/**
 * What runs the workers of a `"thread"` or `"process"` pool (the option `backend`):
 * loopwork's own worker threads, or tinypool's threads or processes.
 *
 * @example
 * ```ts
 * import type { PoolBackendName } from "loopwork";
 *
 * const backend: PoolBackendName = "tinypool";
 * ```
 */
export type PoolBackendName = "loopwork" | "tinypool";

/**
 * The options object form of a `"bullmq"` pool's connection: BullMQ's connection options
 * (ioredis's `RedisOptions`), passed on as they are. Declared here rather than imported from
 * bullmq, an optional peer dependency, so that loopwork's types never need it installed.
 *
 * @example
 * ```ts
 * import type { RedisConnectionOptions } from "loopwork";
 *
 * const options: RedisConnectionOptions = { host: "10.0.0.5", port: 6379, password: "secret", db: 0 };
 * ```
 */
export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  /** TLS options (as `tls.connect` takes them); any object turns TLS on. */
  tls?: Record<string, unknown>;
  /** Any other ioredis or BullMQ connection option, passed on as it is. */
  [option: string]: unknown;
}

/**
 * How a `"bullmq"` pool reaches Redis: a URL (`redis://`, `rediss://` for TLS, with an
 * optional `user:password@` and `/db`), or BullMQ's own connection options object.
 *
 * @example
 * ```ts
 * import type { RedisConnection } from "loopwork";
 *
 * const connection: RedisConnection = "redis://:secret@10.0.0.5:6379/0";
 * ```
 */
export type RedisConnection = string | RedisConnectionOptions;

/**
 * How failed jobs of a `"bullmq"` pool are retried: BullMQ's backoff (`"fixed"` or
 * `"exponential"`, from `delay` ms).
 *
 * @example
 * ```ts
 * import type { RetryBackoff } from "loopwork";
 *
 * const backoff: RetryBackoff = { type: "exponential", delay: 500 };
 * ```
 */
export interface RetryBackoff {
  type: "fixed" | "exponential";
  delay: number;
}

/**
 * Memory and stack limits of each worker, as Node's `Worker` (and piscina and tinypool)
 * take them, in megabytes. A worker thread that reaches its heap limit is stopped and its
 * call fails with `WorkerCrashedError` ("ran out of memory (resourceLimits.… = N)"); the
 * pool replaces it. Without a heap limit, a worker thread that runs out of memory reaches
 * V8's own limit, and V8 then aborts the whole process, host included (Node and Deno alike).
 *
 * @example
 * ```ts
 * import type { ResourceLimits } from "loopwork";
 *
 * const limits: ResourceLimits = { maxOldGenerationSizeMb: 256, stackSizeMb: 8 };
 * ```
 */
export interface ResourceLimits {
  /** The heap's main part (long-lived objects): what a memory-hungry task fills. */
  maxOldGenerationSizeMb?: number;
  /** The heap's nursery (new objects). Threads only. */
  maxYoungGenerationSizeMb?: number;
  /** The memory reserved for compiled code. Threads only. */
  codeRangeSizeMb?: number;
  /** The thread's stack (Node's default: 4). Threads only. */
  stackSizeMb?: number;
}

/**
 * Options of `new WorkerPool()`.
 *
 * @example
 * ```ts
 * import type { WorkerPoolOptions } from "loopwork";
 *
 * const options: WorkerPoolOptions = { kind: "process", maxWorkers: 2, taskTimeoutMs: 5_000, cancelGraceMs: 50 };
 * ```
 */
export interface WorkerPoolOptions {
  /**
   * `"thread"` (default): worker threads; `"process"`: child processes (each ends within
   * about a second once the process that made the pool is gone, even killed by SIGKILL and
   * while its task is busy: a watchdog thread in the child sees to it); `"inline"`: the
   * loop's own thread, for debugging (arguments are still cloned; a running inline call
   * cannot be stopped, so cancelling or timing it out only stops waiting for it).
   */
  kind?: PoolKind;
  /** Most workers running at once; default: the available parallelism (1 for `"inline"`). */
  maxWorkers?: number;
  /** Workers kept alive while idle; default 0. */
  minWorkers?: number;
  /** How long a worker above `minWorkers` stays idle before it stops, ms; default 10 000. */
  idleTimeoutMs?: number;
  /** Most calls waiting for a worker; one more is rejected with `PoolQueueFullError`. Default: no limit. */
  maxQueue?: number;
  /**
   * A call running longer than this is stopped (its worker replaced) and rejected with
   * `TimeoutError`; default: none. Measured from the call's start on its worker (a call
   * posted ahead, see `pipelineDepth`, starts when the call before it ends); on a fresh
   * worker it includes the worker's start and the task module's load.
   */
  taskTimeoutMs?: number;
  /**
   * How long a cancelled (or timed-out) running call may take to stop on its own, ms;
   * default 100. Cancelling first aborts the call's signal in its worker (`taskSignal()`; a
   * generator task gets `CancelledError` at its `yield*`): a task that then finishes within
   * this time keeps its worker, which takes the next call; one still running after it has
   * its worker stopped and replaced. `0`: stop the worker at once (the task's `finally`
   * never runs). Either way the call counts as cancelled at once: a late answer is dropped.
   * For the `"inline"` kind nothing can be stopped: the signal is aborted, nothing waits.
   */
  cancelGraceMs?: number;
  /**
   * Kinds `"thread"` and `"process"`: memory and stack limits of each worker, in megabytes
   * (see `ResourceLimits`). A worker that runs out of memory under them fails its call with
   * `WorkerCrashedError` naming the limit, and is replaced; later calls run on a fresh worker.
   * Threads take every key. A child process takes only `maxOldGenerationSizeMb`, given to it
   * as `--max-old-space-size`; a process that runs out of memory dies alone whatever its
   * limits, and its call fails with `WorkerCrashedError` (which, the process telling no more
   * than its exit code or signal, says it *may* have run out of memory).
   *
   * Under Deno, a worker thread that reaches its heap limit is not always stopped: Deno stops
   * the JavaScript it was running and the thread may carry on, deaf, with no event for the
   * host. loopwork sees that from the thread's raised heap limit within about 100 ms (on
   * either backend) and fails the calls as above, whether the task ran out of memory in its
   * synchronous part or after an `await`.
   *
   * Without a heap limit, a worker *thread* that runs out of memory meets V8's own limit,
   * and V8 aborts the whole process, host included (Node and Deno alike): set
   * `maxOldGenerationSizeMb` when a task may run out of memory.
   */
  resourceLimits?: ResourceLimits;
  /**
   * Kinds `"thread"` and `"process"`: what starts, feeds and replaces the workers.
   * `"loopwork"` (the default for threads): loopwork's own worker threads, each on a private
   * MessageChannel; `"tinypool"` (the only one for processes): tinypool's, for threads too if
   * asked. Both keep every guarantee of the pool (crash, cancel, timeout, replacement, memory
   * limits); measured on no-op calls, the own backend does about twice tinypool's round trips.
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { backend: "tinypool" });
   * ```
   */
  backend?: PoolBackendName;
  /**
   * Kind `"thread"` on the own backend: how many calls one worker runs at once; default 1
   * (piscina's and tinypool's option of the same name; tinypool, which runs processes, takes
   * only 1: it runs a call that can be cancelled, as every loopwork call can, alone on its
   * worker). Above 1, a worker starts the next
   * call while the ones it runs wait (an `await`): for async task functions that wait on
   * I/O, so that one worker overlaps their waits. CPU-bound calls gain nothing from it. A
   * worker that dies fails every call it was running; a cancelled call that does not stop
   * within `cancelGraceMs` has its worker stopped, failing the others it ran too
   * (`WorkerCrashedError`). `taskSignal()` is the running call's in a task's synchronous
   * part only (read it before the first `await`).
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * // tasks.ts: export async function fetchJson(url: string) { return (await fetch(url)).json(); }
   * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { maxWorkers: 2, concurrentTasksPerWorker: 8 });
   * ```
   */
  concurrentTasksPerWorker?: number;
  /**
   * Kind `"thread"` on the own backend: how many calls a busy worker may hold besides those
   * it runs, posted ahead so that it starts the next as soon as one ends, without waiting
   * for a round trip to the pool; default 8, `0` for none. Only calls that move nothing (no
   * `transfer()`, not a stream) are posted ahead, and only to a worker whose running call
   * started less than 3 ms ago: a long call never holds short ones hostage (those posted
   * behind it go to another worker). A call posted ahead that has not started is never
   * blamed for its worker: if the worker dies or is stopped, the call runs on another (once);
   * cancelling it takes it back before it starts. `taskTimeoutMs` counts from its start.
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { pipelineDepth: 0 }); // one call per worker at a time
   * ```
   */
  pipelineDepth?: number;
  /** `"bullmq"` only, required: where Redis is (a URL or BullMQ's connection options). */
  connection?: RedisConnection;
  /**
   * `"bullmq"` only, required: the BullMQ queue that `loopwork worker` processes serve.
   * Each job carries the identity of the pool's task module: its file name without directory
   * and extension, and the count and a hash of its exported function names (paths differ
   * between machines, and one side may run the `.ts` source, the other the built `.js`). A
   * worker serving another module fails the call with an error naming both; the pool loads
   * the module once to identify it, and a `file:` module that does not exist fails its calls
   * before any job is sent. A pool built without a module sends no identity.
   */
  queue?: string;
  /**
   * `"bullmq"` only: how long to wait for Redis, ms; default 5 000. The bounds it sets:
   * - connecting: a call is rejected with `PoolConnectionError` when Redis does not answer
   *   within it (at once when Redis refuses the credentials);
   * - Redis lost after connecting: a connection that stays closed this long (Redis stopped),
   *   or a ping unanswered this long while a call is in flight (a silent network loss:
   *   within twice this), rejects every call in flight with `PoolConnectionError`; the next
   *   call connects afresh (and fails the same way while Redis is away). A restart shorter
   *   than this is survived (a job that Redis lost in it fails its call);
   * - `destroy()` returns within it plus about 2 s, and `close()` once its calls have
   *   settled (so within twice it plus about 3 s when Redis is gone).
   */
  connectTimeoutMs?: number;
  /**
   * `"bullmq"` only: runs of a job whose task throws (default 1: no retry). Independent of
   * it, delivery is at-least-once: a job whose worker dies (or loses Redis) mid-call is run
   * again by another worker once its lock expires (about 10 s), so a task may run twice;
   * keep tasks with side effects idempotent.
   */
  attempts?: number;
  /** `"bullmq"` only: the delay between retries (with `attempts` > 1). */
  backoff?: RetryBackoff;
}

/** @internal Options with every default filled in. */
export interface ResolvedPoolOptions {
  kind: PoolKind;
  /** Kinds `"thread"` and `"process"`: what runs the workers; null for the others. */
  backend: PoolBackendName | null;
  maxWorkers: number;
  minWorkers: number;
  idleTimeoutMs: number;
  maxQueue: number;
  taskTimeoutMs: number;
  /** See `WorkerPoolOptions.cancelGraceMs`. */
  cancelGraceMs: number;
  /** See `WorkerPoolOptions.concurrentTasksPerWorker` (1 but for threads on the own backend). */
  concurrentTasksPerWorker: number;
  /** See `WorkerPoolOptions.pipelineDepth` (0 where it does not apply). */
  pipelineDepth: number;
  /** The limits of each worker, checked (kinds `"thread"` and `"process"`); null: none. */
  resourceLimits: Readonly<ResourceLimits> | null;
  /** Set for kind `"bullmq"` only. */
  bullmq: ResolvedBullmqOptions | null;
}

/** @internal The options of a `"bullmq"` pool, checked. */
export interface ResolvedBullmqOptions {
  connection: RedisConnection;
  queue: string;
  connectTimeoutMs: number;
  attempts: number;
  backoff: RetryBackoff | undefined;
}

const KNOWN = [
  "kind",
  "maxWorkers",
  "minWorkers",
  "idleTimeoutMs",
  "maxQueue",
  "taskTimeoutMs",
  "cancelGraceMs",
  "resourceLimits",
  "backend",
  "concurrentTasksPerWorker",
  "pipelineDepth",
  "connection",
  "queue",
  "connectTimeoutMs",
  "attempts",
  "backoff",
] as const;
const BULLMQ_ONLY = ["connection", "queue", "connectTimeoutMs", "attempts", "backoff"] as const;

function resolveBullmq(options: WorkerPoolOptions): ResolvedBullmqOptions {
  const { connection, queue } = options;
  if (typeof connection === "string") {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw new TypeError(`WorkerPool option connection must be a redis:// or rediss:// URL, got ${describeValue(connection)}`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
      throw new TypeError(`WorkerPool option connection must be a redis:// or rediss:// URL, got protocol ${url.protocol}`);
    }
  } else if (connection === null || typeof connection !== "object") {
    throw new TypeError(
      `WorkerPool kind "bullmq" needs option connection (a redis:// URL or BullMQ connection options), got ${describeValue(connection)}`,
    );
  }
  if (typeof queue !== "string" || queue.length === 0 || queue.includes(":")) {
    throw new TypeError(`WorkerPool kind "bullmq" needs option queue (a non-empty name without ":"), got ${describeValue(queue)}`);
  }
  const attempts = options.attempts === undefined ? 1 : integer("attempts", options.attempts, 1, false);
  const backoff = options.backoff;
  if (backoff !== undefined) {
    if (backoff !== null && typeof backoff === "object") checkOptions("WorkerPool", backoff, ["type", "delay"], "backoff.");
    if (
      backoff === null || typeof backoff !== "object" || (backoff.type !== "fixed" && backoff.type !== "exponential") ||
      !(typeof backoff.delay === "number" && Number.isFinite(backoff.delay) && backoff.delay >= 0)
    ) {
      throw new TypeError(
        `WorkerPool option backoff must be { type: "fixed" | "exponential", delay: ms >= 0 }, got ${describeValue(backoff)}`,
      );
    }
  }
  return {
    connection,
    queue,
    connectTimeoutMs: options.connectTimeoutMs === undefined ? 5_000 : duration("connectTimeoutMs", options.connectTimeoutMs, false),
    attempts,
    backoff: backoff === undefined ? undefined : { type: backoff.type, delay: backoff.delay },
  };
}

function resolveBackend(kind: PoolKind, backend: unknown): PoolBackendName | null {
  if (kind !== "thread" && kind !== "process") {
    if (backend !== undefined) throw new TypeError(`WorkerPool option backend is for kinds "thread" and "process", not ${JSON.stringify(kind)}`);
    return null;
  }
  if (backend === undefined) return kind === "thread" ? "loopwork" : "tinypool";
  if (backend !== "loopwork" && backend !== "tinypool") {
    throw new TypeError(`WorkerPool option backend must be "loopwork" or "tinypool", got ${describeValue(backend)}`);
  }
  if (kind === "process" && backend !== "tinypool") {
    throw new TypeError('WorkerPool option backend "loopwork" is for kind "thread" only: processes run on tinypool');
  }
  return backend;
}

function integer(name: string, v: unknown, min: number, allowInfinity: boolean): number {
  if (
    typeof v !== "number" ||
    Number.isNaN(v) ||
    v < min ||
    (v === Infinity ? !allowInfinity : !Number.isInteger(v))
  ) {
    throw new RangeError(
      `WorkerPool option ${name} must be an integer >= ${min}${allowInfinity ? " (or Infinity)" : ""}, got ${describeValue(v)}`,
    );
  }
  return v;
}

function duration(name: string, v: unknown, allowZero: boolean): number {
  return checkMs("WorkerPool", `option ${name}`, v, { zero: allowZero });
}

const LIMIT_KEYS = ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"] as const;
/** What a child process can take: V8 has a command-line flag for the old generation only. */
const PROCESS_LIMIT_KEYS = new Set<string>(["maxOldGenerationSizeMb"]);

function resolveLimits(kind: PoolKind, limits: unknown): Readonly<ResourceLimits> | null {
  if (limits === undefined) return null;
  if (kind !== "thread" && kind !== "process") {
    throw new TypeError(`WorkerPool option resourceLimits is for kinds "thread" and "process", not ${JSON.stringify(kind)}`);
  }
  if (limits === null || typeof limits !== "object" || Array.isArray(limits)) {
    throw new TypeError(
      `WorkerPool option resourceLimits must be an object of megabytes (${LIMIT_KEYS.join(", ")}), got ${describeValue(limits)}`,
    );
  }
  checkOptions("WorkerPool", limits, LIMIT_KEYS, "resourceLimits.");
  const out: ResourceLimits = {};
  for (const key of Object.keys(limits)) {
    const v = (limits as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`WorkerPool option resourceLimits.${key} must be a finite number of megabytes > 0, got ${describeValue(v)}`);
    }
    if (kind === "process" && !PROCESS_LIMIT_KEYS.has(key)) {
      throw new TypeError(
        `WorkerPool option resourceLimits.${key} is for kind "thread" only: a child process takes only ` +
          "maxOldGenerationSizeMb (as --max-old-space-size)",
      );
    }
    out[key as keyof ResourceLimits] = v;
  }
  return Object.freeze(out);
}

/**
 * @internal How an error names the heap limits of `limits` ("resourceLimits.maxOldGenerationSizeMb = 64"),
 * or "no resourceLimits" when none is set.
 */
export function describeHeapLimits(limits: Readonly<ResourceLimits> | null): string {
  const set = limits === null
    ? []
    : (["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb"] as const).filter((k) => limits[k] !== undefined);
  return set.length === 0 ? "no heap limit in resourceLimits" : set.map((k) => `resourceLimits.${k} = ${limits![k]}`).join(", ");
}

/** @internal Checks `options` and fills in the defaults. */
export function resolvePoolOptions(options: WorkerPoolOptions | undefined): ResolvedPoolOptions {
  if (options === undefined) options = {};
  checkOptions("WorkerPool", options, KNOWN);
  const kind = options.kind ?? "thread";
  if (kind !== "thread" && kind !== "process" && kind !== "inline" && kind !== "bullmq") {
    throw new TypeError(
      `WorkerPool option kind must be "thread", "process" or "inline", got ${describeValue(kind)} ` +
        '(or "bullmq", with the options connection and queue)',
    );
  }
  if (kind !== "bullmq") {
    for (const key of BULLMQ_ONLY) {
      if (options[key] !== undefined) throw new TypeError(`WorkerPool option ${key} is for kind "bullmq" only`);
    }
  }
  // A "bullmq" pool sends every call to Redis at once: the queue lives there.
  const maxWorkers =
    options.maxWorkers === undefined
      ? kind === "inline" ? 1 : kind === "bullmq" ? Infinity : Math.max(1, availableParallelism())
      : integer("maxWorkers", options.maxWorkers, 1, kind === "bullmq");
  const minWorkers = options.minWorkers === undefined ? 0 : integer("minWorkers", options.minWorkers, 0, false);
  if (minWorkers > maxWorkers) {
    throw new RangeError(`WorkerPool option minWorkers (${minWorkers}) must not exceed maxWorkers (${maxWorkers})`);
  }
  const backend = resolveBackend(kind, options.backend);
  let concurrentTasksPerWorker = 1;
  if (options.concurrentTasksPerWorker !== undefined) {
    if (kind !== "thread" && kind !== "process") {
      throw new TypeError(`WorkerPool option concurrentTasksPerWorker is for kind "thread", not ${JSON.stringify(kind)}`);
    }
    concurrentTasksPerWorker = integer("concurrentTasksPerWorker", options.concurrentTasksPerWorker, 1, false);
    if (concurrentTasksPerWorker > 1 && backend !== "loopwork") {
      // Every loopwork call can be cancelled, and tinypool runs a cancellable call alone on its worker.
      throw new TypeError(
        `WorkerPool option concurrentTasksPerWorker above 1 needs kind "thread" on the own backend (backend "loopwork"): ` +
          `tinypool (${kind === "process" ? "processes" : 'backend "tinypool"'}) runs each cancellable call alone on its worker`,
      );
    }
  }
  let pipelineDepth = backend === "loopwork" ? 8 : 0;
  if (options.pipelineDepth !== undefined) {
    if (backend !== "loopwork") {
      throw new TypeError(
        `WorkerPool option pipelineDepth is for kind "thread" on the own backend only (backend "loopwork"), not ` +
          (kind === "thread" || kind === "process" ? `backend ${JSON.stringify(backend)}` : `kind ${JSON.stringify(kind)}`),
      );
    }
    pipelineDepth = integer("pipelineDepth", options.pipelineDepth, 0, false);
  }
  return {
    kind,
    backend,
    concurrentTasksPerWorker,
    pipelineDepth,
    maxWorkers,
    minWorkers,
    idleTimeoutMs: options.idleTimeoutMs === undefined ? 10_000 : duration("idleTimeoutMs", options.idleTimeoutMs, true),
    maxQueue: options.maxQueue === undefined ? Infinity : integer("maxQueue", options.maxQueue, 0, true),
    taskTimeoutMs: options.taskTimeoutMs === undefined ? 0 : duration("taskTimeoutMs", options.taskTimeoutMs, false),
    cancelGraceMs: options.cancelGraceMs === undefined ? 100 : duration("cancelGraceMs", options.cancelGraceMs, true),
    resourceLimits: resolveLimits(kind, options.resourceLimits),
    bullmq: kind === "bullmq" ? resolveBullmq(options) : null,
  };
}
