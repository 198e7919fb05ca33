/**
 * The options of a WorkerPool, their defaults and their checks: a bad option throws in the
 * constructor with a message that names it and the value it got.
 * @module
 */
import { availableParallelism } from "node:os";
import { describeValue } from "../future.ts";

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
export type PoolKind = "thread" | "process" | "inline";

/**
 * Options of `new WorkerPool()`.
 *
 * @example
 * ```ts
 * import type { WorkerPoolOptions } from "loopwork";
 *
 * const options: WorkerPoolOptions = { kind: "process", maxWorkers: 2, taskTimeoutMs: 5_000 };
 * ```
 */
export interface WorkerPoolOptions {
  /**
   * `"thread"` (default): worker threads; `"process"`: child processes; `"inline"`: the
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
   * `TimeoutError`; default: none. Measured from dispatch: on a fresh worker it includes
   * the worker's start and the task module's load.
   */
  taskTimeoutMs?: number;
}

/** @internal Options with every default filled in. */
export interface ResolvedPoolOptions {
  kind: PoolKind;
  maxWorkers: number;
  minWorkers: number;
  idleTimeoutMs: number;
  maxQueue: number;
  taskTimeoutMs: number;
}

const KNOWN = new Set(["kind", "maxWorkers", "minWorkers", "idleTimeoutMs", "maxQueue", "taskTimeoutMs"]);

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
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(
      `WorkerPool option ${name} must be a finite number of milliseconds ${allowZero ? ">= 0" : "> 0"}, got ${describeValue(v)}`,
    );
  }
  return v;
}

/** @internal Checks `options` and fills in the defaults. */
export function resolvePoolOptions(options: WorkerPoolOptions | undefined): ResolvedPoolOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(`WorkerPool options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(`unknown WorkerPool option ${JSON.stringify(key)} (known: ${[...KNOWN].join(", ")})`);
    }
  }
  const kind = options.kind ?? "thread";
  if (kind !== "thread" && kind !== "process" && kind !== "inline") {
    throw new TypeError(`WorkerPool option kind must be "thread", "process" or "inline", got ${describeValue(kind)}`);
  }
  const maxWorkers =
    options.maxWorkers === undefined
      ? kind === "inline" ? 1 : Math.max(1, availableParallelism())
      : integer("maxWorkers", options.maxWorkers, 1, false);
  const minWorkers = options.minWorkers === undefined ? 0 : integer("minWorkers", options.minWorkers, 0, false);
  if (minWorkers > maxWorkers) {
    throw new RangeError(`WorkerPool option minWorkers (${minWorkers}) must not exceed maxWorkers (${maxWorkers})`);
  }
  return {
    kind,
    maxWorkers,
    minWorkers,
    idleTimeoutMs: options.idleTimeoutMs === undefined ? 10_000 : duration("idleTimeoutMs", options.idleTimeoutMs, true),
    maxQueue: options.maxQueue === undefined ? Infinity : integer("maxQueue", options.maxQueue, 0, true),
    taskTimeoutMs: options.taskTimeoutMs === undefined ? 0 : duration("taskTimeoutMs", options.taskTimeoutMs, false),
  };
}
