/**
 * WorkerPool: CPU-bound work off the loop, as asyncio's `run_in_executor` and
 * `concurrent.futures` do it, with loopwork's cancellation. Each call is a `Task`; the pool
 * keeps the queue (so a cancelled queued call simply leaves it), hands each worker one call
 * at a time (`concurrentTasksPerWorker` at once, and the own thread backend up to
 * `pipelineDepth` more, posted ahead: see backends/thread.ts), and aborts a cancelled running
 * call in its worker (the backend stops and replaces a worker that does not finish it within
 * `cancelGraceMs`).
 * @module
 */
import { serialize } from "node:v8";
import type { TransferListItem } from "node:worker_threads";
import { TimeoutError, Future, describeValue, checkOptions, checkSignal, type Task, startTask } from "../core/index.ts";
import type { Pending, PoolBackend } from "./backends/backend.ts";
import { type CancelSink, PoolCall, QUEUED, RUNNING, SETTLED } from "./call.ts";
import { PoolClosedError, PoolQueueFullError } from "./errors.ts";
import { BullmqBackend } from "./backends/bullmq.ts";
import { checkWorkerStart } from "./worker/entry.ts";
import { checkBullmqPermissions } from "./permissions.ts";
import { displayPath } from "./worker/tasks.ts";
import { InlineBackend } from "./backends/inline.ts";
import { LatencyWindow } from "./latency.ts";
import { type PoolKind, type ResolvedPoolOptions, resolvePoolOptions, type WorkerPoolOptions } from "./options.ts";
import {
  type CallRequest,
  collectTransfers,
  describeRequest,
  describeThrown,
  type Encoded,
  encodeLarge,
  findUnsendable,
  NO_TRANSFERS,
  transferListOf,
} from "./protocol.ts";
import { ThreadBackend } from "./backends/thread.ts";
import { TinypoolBackend } from "./backends/tinypool.ts";
import { unsendableError } from "./protocol.ts";
import { Wakeup } from "./wakeup.ts";
import { StreamReader } from "./stream.ts";

/** Any function a task module may export (`never` parameters make this the top function type). */
type AnyFunction = (...args: never) => unknown;

/**
 * The shape of a task module when none is given: any name, any arguments, unknown results.
 *
 * @example
 * ```ts
 * import { type AnyTasks, WorkerPool } from "loopwork";
 *
 * const pool: WorkerPool<AnyTasks> = new WorkerPool(new URL("./tasks.js", import.meta.url));
 * ```
 */
export type AnyTasks = Record<string, (...args: unknown[]) => unknown>;

/**
 * The names of the functions a task module `M` exports.
 *
 * @example
 * ```ts
 * import type { TaskName } from "loopwork";
 *
 * type Names = TaskName<{ add(a: number, b: number): number; version: string }>; // "add"
 * ```
 */
export type TaskName<M> = {
  [K in keyof M]: M[K] extends AnyFunction ? K : never;
}[keyof M] & string;

/**
 * The parameters of task `K` of module `M`.
 *
 * @example
 * ```ts
 * import type { TaskArgs } from "loopwork";
 *
 * type A = TaskArgs<{ add(a: number, b: number): number }, "add">; // [a: number, b: number]
 * ```
 */
export type TaskArgs<M, K extends keyof M> = M[K] extends (...args: infer A) => unknown ? A : never;

/**
 * The (awaited) result of task `K` of module `M`; for a generator task, which runs on a loop
 * in its worker, what the generator returns.
 *
 * @example
 * ```ts
 * import type { TaskResult } from "loopwork";
 *
 * type R = TaskResult<{ load(id: string): Promise<number[]> }, "load">; // number[]
 * type G = TaskResult<{ count(): Generator<unknown, number> }, "count">; // number
 * ```
 */
export type TaskResult<M, K extends keyof M> = M[K] extends (...args: never) => infer R
  ? R extends Generator<unknown, infer T, any> ? Awaited<T> : Awaited<R>
  : never;

/**
 * What task `K` of module `M` yields, read with `pool.stream()`.
 *
 * @example
 * ```ts
 * import type { TaskYield } from "loopwork";
 *
 * type Y = TaskYield<{ lines(path: string): AsyncGenerator<string> }, "lines">; // string
 * ```
 */
export type TaskYield<M, K extends keyof M> = M[K] extends (...args: never) => AsyncIterable<infer T> | Iterable<infer T> ? T
  : never;

/**
 * Options of `pool.map()`.
 *
 * @example
 * ```ts
 * import type { MapOptions } from "loopwork";
 *
 * const options: MapOptions = { chunkSize: "auto", ordered: false };
 * ```
 */
export interface MapOptions {
  /** Items per worker call: a number, or `"auto"` (default) to batch tiny calls. */
  chunkSize?: number | "auto";
  /** Yield results in the order of the items (default `true`), or as chunks finish. */
  ordered?: boolean;
  /**
   * Stops the map when aborted: running chunks are cancelled (their workers stopped) and
   * the iteration throws the signal's reason. Pass a task's `signal` to tie the map to it.
   */
  signal?: AbortSignal;
}

/**
 * A snapshot of a pool's activity, from `pool.stats()`. Times are in milliseconds, over the
 * latest 1 024 calls.
 *
 * @example
 * ```ts
 * import type { PoolStats } from "loopwork";
 *
 * function report(s: PoolStats): string {
 *   return `${s.busy}/${s.workers} busy, ${s.queued} queued, p99 ${s.runTimeMs.p99} ms`;
 * }
 * ```
 */
export interface PoolStats {
  /** Workers alive (starting, idle or busy). */
  workers: number;
  /** Calls running now. */
  busy: number;
  /** Calls waiting for a worker. */
  queued: number;
  /** Calls that finished with a result. */
  completed: number;
  /** Calls that failed, were cancelled or were dropped. */
  failed: number;
  /** Time calls spent running on a worker. */
  runTimeMs: { p50: number; p99: number };
  /** Time calls spent waiting for a worker. */
  waitTimeMs: { p50: number; p99: number };
}

function moduleHref(moduleUrl: string | URL | null): string | null {
  if (moduleUrl === null) return null;
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl === "string") {
    try {
      return new URL(moduleUrl).href;
    } catch {
      // Say how to write the very module given: a path relative to the caller, or a file path.
      // (A CommonJS file has no import.meta: it resolves the path, then makes it a URL.)
      const relative = JSON.stringify(/^\.\.?\//.test(moduleUrl) ? moduleUrl : `./${moduleUrl}`);
      const fix = moduleUrl.startsWith("/")
        ? `pathToFileURL(${JSON.stringify(moduleUrl)}) (from node:url)`
        : `new URL(${relative}, import.meta.url) (in CommonJS, pathToFileURL(require.resolve(${relative})))`;
      throw new TypeError(
        `WorkerPool expects the task module as an absolute URL, got ${describeValue(moduleUrl)}: write ${fix}`,
      );
    }
  }
  throw new TypeError(`WorkerPool expects the task module as a URL, got ${describeValue(moduleUrl)}`);
}

function failedCall(error: unknown): Future<unknown> {
  const f = new Future<unknown>();
  f.setException(error);
  return f;
}

/**
 * How many values of a call's arguments are checked before they are sent: a too-deep value
 * is met within its first MAX_DEPTH values; the bound keeps the check of a huge argument
 * to a few milliseconds (the results of tasks are checked further, in the worker).
 */
const ARGUMENT_WALK_BUDGET = 10_000;

/**
 * The request as it is sent: `req` itself, or, when its arguments are larger than their
 * check (ARGUMENT_WALK_BUDGET values), `req` encoded by the host (see `encodeLarge`, and
 * `unpack` in src/pool/worker/tasks.ts), so that a value beyond the check that cannot cross fails
 * its call here, naming it, and one the worker cannot read fails there as its answer:
 * never a worker that dies or a call that hangs. A TypeError names an argument (or batch
 * item) that would overflow the stack of whoever serialises or receives it (see
 * MAX_DEPTH), or cannot be cloned at all (for a child process also shared memory, a Blob or
 * a MessagePort; for a thread a MessagePort not moved with `transfer()`). A child process's
 * object arguments are always encoded here: its channel's serialiser throws where no handler
 * can catch it. Arguments that are all primitives cost nothing.
 * `share` (threads, inline): typed arrays on shared memory stay shared; `move` (threads):
 * what `transfer()` marked moves.
 */
function sendable(req: CallRequest, label: string, encode: boolean, share: boolean, move: boolean): CallRequest | TypeError {
  const values = req.op === "batch" ? req.items : req.op === "encoded" ? [] : req.args;
  const what = req.op === "batch" ? "item" : "argument";
  // A child process's channel (encoded, shares nothing) refuses more than a thread's.
  const toProcess = encode && !share;
  // Made at the first object argument: a call of plain values (the common case) allocates nothing here.
  let budget: { left: number } | null = null;
  let transfer: readonly TransferListItem[] = NO_TRANSFERS;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || typeof v !== "object") continue;
    if (budget === null) {
      budget = { left: ARGUMENT_WALK_BUDGET };
      // Threads move what `transfer()` marked; inline (shares, does not move) moves only MessagePorts.
      if (move) transfer = collectTransfers(values);
      else if (share) transfer = collectTransfers(values).filter((t) => !(t instanceof ArrayBuffer));
    }
    if (budget.left <= 0) {
      budget.left = -1; // this one goes unchecked
      break;
    }
    const bad = findUnsendable(v, budget, "it", toProcess, transfer);
    if (bad !== undefined) return new TypeError(`${label}: ${what} ${i} (${describeSafely(v)}) cannot be sent to a worker: ${bad}`);
  }
  // Arguments of a child process are encoded here whenever one is an object: its channel's
  // serialiser refuses host objects (a Blob, a KeyObject…) that no walk can tell apart, and
  // its failure there is thrown where nothing can catch it, killing the host.
  if (budget === null || (budget.left >= 0 && !toProcess) || !encode) return req;
  let large: Encoded | undefined;
  try {
    large = encodeLarge(req, transfer, share);
  } catch (e) {
    return unencodable(values, what, label, e);
  }
  return large === undefined ? req : { op: "encoded", large, what: describeRequest(req) };
}

/** The error for arguments that V8's serialiser refused (see `sendable`), naming the first that it refuses alone. */
function unencodable(values: readonly unknown[], what: string, label: string, e: unknown): TypeError {
  // A RangeError here is the serialiser's stack: a value nested too deeply.
  const why = (x: unknown) => x instanceof RangeError ? `it is nested too deeply to be sent (${describeThrown(x)})` : `it cannot be cloned (${describeThrown(x)})`;
  for (let i = 0; i < values.length; i++) {
    try {
      serialize(values[i]);
    } catch (x) {
      return new TypeError(`${label}: ${what} ${i} (${describeSafely(values[i])}) cannot be sent to a worker: ${why(x)}`, {
        cause: e,
      });
    }
  }
  return new TypeError(`${label}: its arguments cannot be sent to a worker: ${why(e)}`, { cause: e });
}

function describeSafely(v: unknown): string {
  try {
    return describeValue(v);
  } catch {
    return "object";
  }
}

/**
 * A pool of workers (threads, processes, or the loop's own thread) that run the exported
 * functions of one task module. `M` (`typeof import("./tasks.ts")`) types every call:
 * the task's name, its arguments and its result.
 *
 * Calls are `Task`s, inside `run()` and in plain async code alike: await them, `yield*`
 * them, cancel them. Cancelling a queued call removes it; cancelling a running call aborts
 * it in its worker first (`taskSignal()`, or `CancelledError` in a generator task), and
 * stops that worker (the pool replaces it) only if the task is still running after
 * `cancelGraceMs`. A task's error comes back with its name and message.
 *
 * The module loads lazily, in the workers: a missing module, an unknown task name or an
 * argument that cannot be cloned fails that call (never the constructor, never a hang).
 * A pool is an `Executor`: `loop.setDefaultExecutor(pool)` makes `loop.runInExecutor(null,
 * name, ...args)` use it.
 *
 * @example
 * ```ts
 * // tasks.ts
 * export function fib(n: number): number {
 *   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * }
 *
 * // main.ts
 * import { run, WorkerPool } from "loopwork";
 *
 * await using pool = new WorkerPool<typeof import("./tasks.ts")>(
 *   new URL("./tasks.ts", import.meta.url),
 *   { maxWorkers: 2 },
 * );
 * await run(function* () {
 *   const a = pool.run("fib", 30); // Task<number>
 *   const b = pool.run("fib", 31);
 *   console.log((yield* a) + (yield* b)); // computed on two threads at once
 * });
 * ```
 */
export class WorkerPool<M = AnyTasks> implements CancelSink {
  /** Where the calls run. */
  readonly kind: PoolKind;
  private readonly _options: ResolvedPoolOptions;
  /** How many calls the backend is handed at most (see the constructor). */
  private readonly _capacity: number;
  private readonly _module: string | null;
  private _backend: PoolBackend | null = null;
  private readonly _queue: PoolCall[] = [];
  /** Calls handed to the backend: started, or waiting in it (see `pipelineDepth`). */
  private readonly _running = new Set<PoolCall>();
  /** How many of `_running` have started. */
  private _started = 0;
  private _closing: Promise<void> | null = null;
  private _destroyed: Promise<void> | null = null;
  private _idle: (() => void) | null = null;
  /** Set once the backend is being stopped: no call may start after that. */
  private _stopped = false;
  private _completed = 0;
  private _failed = 0;
  private readonly _runTimes = new LatencyWindow();
  private readonly _waitTimes = new LatencyWindow();

  /**
   * Creates a pool for the task module at `moduleUrl` (an absolute URL:
   * `new URL("./tasks.ts", import.meta.url)`; `null` for a pool that only runs
   * `toThread()` functions). Workers start on demand.
   *
   * @throws {TypeError | RangeError} when an option is invalid (the message names it)
   * @throws {Error} for a thread or process pool, when loopwork's worker entry file is not
   *   beside it (loopwork was bundled into one file: keep it external), or, under Deno, when
   *   a permission its workers need (a `"bullmq"` pool: its task module and Redis) is not
   *   granted (Deno's NotCapable, naming every flag missing)
   */
  constructor(moduleUrl: string | URL | null, options?: WorkerPoolOptions) {
    this._module = moduleHref(moduleUrl);
    this._options = resolvePoolOptions(options);
    this.kind = this._options.kind;
    const o = this._options;
    // Calls handed to the backend at once: per worker, those it runs and those posted ahead.
    this._capacity = o.maxWorkers * (o.concurrentTasksPerWorker + (o.backend === "loopwork" ? o.pipelineDepth : 0));
    // Its workers' entry file must exist (not so when loopwork was bundled), and under Deno they
    // need permissions to start: say so here, not in a worker.
    if (this.kind !== "inline" && o.bullmq === null) checkWorkerStart(o.backend === "loopwork" ? "thread" : "tinypool", this.kind === "process");
    else if (o.bullmq !== null) checkBullmqPermissions(o.bullmq.connection, this._module, false);
  }

  /**
   * Runs task `name` with `args` on a worker. Returns a `Task` for its result; errors
   * (the task's own, a missing module, an unknown name, an argument that cannot be
   * cloned, a worker that died) reject it, never throw here.
   *
   * Arguments and results are copied by structured clone, as `postMessage` copies them (so
   * piscina and tinypool do too): an instance of your own class arrives as a plain object
   * of its own enumerable fields. Its prototype (methods, getters, `instanceof`) and its
   * `#private` fields stay behind, and symbol-keyed properties are dropped. Send the data
   * (`{ ...point }`, `point.toJSON()`) and rebuild the instance in the task. Runtime objects
   * that would lose their state (a `URL` on Node 20, a histogram to a child process) fail
   * the call instead, naming their class and path.
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
   * const call = pool.run("add", 1, 2);
   * console.log(await call); // 3
   * await pool.close();
   * ```
   */
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Task<TaskResult<M, K>> {
    const req: CallRequest = { op: "call", module: this._module ?? "", task: name, args };
    return this._spawn(req, typeof name === "string" ? name : String(name)) as Task<TaskResult<M, K>>;
  }

  /**
   * Calls task `name` once per item, in worker calls of `chunkSize` items, and yields
   * the results: in item order (default), or as chunks finish with `ordered: false`.
   * `"auto"` (default) sizes chunks so that worker round-trips do not dominate tiny
   * calls while every worker still gets several chunks. Leaving the loop early (or an
   * error) cancels the chunks still running.
   *
   * @throws {RangeError} synchronously, when an option is invalid
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
   * let total = 0;
   * for await (const sq of pool.map("square", [1, 2, 3, 4])) total += sq;
   * console.log(total); // 30
   * await pool.close();
   * ```
   */
  map<K extends TaskName<M>>(
    name: K,
    items: Iterable<TaskArgs<M, K>[0]>,
    options?: MapOptions,
  ): AsyncIterableIterator<TaskResult<M, K>> {
    checkOptions("map()", options, ["chunkSize", "ordered", "signal"]);
    const chunkSize = options?.chunkSize ?? "auto";
    if (chunkSize !== "auto" && !(Number.isInteger(chunkSize) && chunkSize >= 1)) {
      throw new RangeError(`map() chunkSize must be "auto" or an integer >= 1, got ${describeValue(chunkSize)}`);
    }
    const ordered = options?.ordered ?? true;
    if (typeof ordered !== "boolean") {
      throw new TypeError(`map() ordered must be a boolean, got ${describeValue(ordered)}`);
    }
    if (items === null || typeof (items as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`map() expects an iterable of items, got ${describeValue(items)}`);
    }
    const signal = checkSignal("map()", options?.signal);
    return this._map(name, Array.from(items), chunkSize, ordered, signal) as AsyncIterableIterator<
      TaskResult<M, K>
    >;
  }

  /**
   * Runs task `name` — an async generator, a generator, or any function returning an
   * iterable — on a worker and yields the values it yields, as they come. Back-pressure: the
   * worker runs at most 16 values ahead of the reader, then waits. Leaving the loop early
   * (`break`, `return`, an error) cancels the call cooperatively: the task's signal is
   * aborted, its generator's `finally` runs (see `cancelGraceMs`). The task's error, or the
   * call's (a worker that died), is thrown after the values that came before it; a value
   * that cannot cross fails it with a TypeError naming the value's index. The call starts at
   * the first `next()` (a stream never read runs nothing); `return()` and `throw()` end it at
   * once, even while a `next()` waits (which then answers done), so `abortable()` frees the
   * worker. A stream holds its worker until it ends: a reader that keeps the iterator and
   * stops reading holds it (one it drops is cancelled once collected), calls awaited inside
   * the loop need another worker (with `maxWorkers: 1` they wait for the stream's end), and
   * `taskTimeoutMs` counts the stream's whole life, reader's pauses included (`await using`
   * a stream ends it with its scope). Kinds
   * `"thread"` and `"inline"`: a stream's values travel on a MessagePort, which no process
   * reaches (the iteration throws a TypeError on other kinds). A generator's values here are
   * data, not loop awaitables.
   *
   * @example
   * ```ts
   * // tasks.ts
   * export async function* countdown(n: number): AsyncGenerator<number> {
   *   for (let i = n; i > 0; i--) yield i;
   * }
   *
   * // main.ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
   * for await (const i of pool.stream("countdown", 1_000_000)) {
   *   if (i === 999_990) break; // the task stops in its worker
   * }
   * await pool.close();
   * ```
   */
  stream<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): AsyncIterableIterator<TaskYield<M, K>> & {
    [Symbol.asyncDispose](): Promise<void>;
  } {
    return this._stream(typeof name === "string" ? name : String(name), args) as StreamReader<TaskYield<M, K>>;
  }

  /** @internal Runs task `name` once per item in one worker call (`loopwork worker` runs a map chunk so). */
  _runBatch(name: string, items: unknown[]): Task<unknown[]> {
    return this._spawn({ op: "batch", module: this._module ?? "", task: name, items }, name) as Task<unknown[]>;
  }

  /** @internal Runs a self-contained function from its source (toThread). */
  _runFunction(source: string, args: unknown[], label: string): Task<unknown> {
    return this._spawn({ op: "function", source, args }, label);
  }

  /**
   * The pool's activity now: workers, busy and queued calls, completed and failed calls,
   * and the median and 99th percentile of run and wait times.
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url));
   * await pool.run("noop");
   * const s = pool.stats();
   * console.log(s.completed, s.runTimeMs.p50); // 1 0.2
   * await pool.close();
   * ```
   */
  stats(): PoolStats {
    return {
      workers: this._backend?.workers() ?? 0,
      busy: this._started,
      // Calls posted ahead to a worker (see `pipelineDepth`) wait for it too.
      queued: this._queue.length + this._running.size - this._started,
      completed: this._completed,
      failed: this._failed,
      runTimeMs: { p50: this._runTimes.percentile(50), p99: this._runTimes.percentile(99) },
      waitTimeMs: { p50: this._waitTimes.percentile(50), p99: this._waitTimes.percentile(99) },
    };
  }

  /**
   * Stops taking calls, finishes the queued and running ones, then stops the workers.
   * Open streams count as running until their reader leaves. A call cancelled before (or
   * while) it waits, that its worker still runs, has up to `cancelGraceMs` to end (its
   * `finally` runs) before its worker is stopped. Calls made afterwards are rejected with
   * `PoolClosedError`. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url));
   * const pending = pool.run("add", 1, 2);
   * await pool.close(); // waits for the call
   * console.log(await pending); // 3
   * ```
   */
  close(): Promise<void> {
    if (this._destroyed !== null) return this._destroyed;
    return (this._closing ??= this._finishAndStop());
  }

  /**
   * Stops at once: queued calls are rejected with `PoolClosedError`, running calls are
   * rejected with it too and their workers stopped. Resolves once every worker has exited.
   *
   * @example
   * ```ts
   * import { PoolClosedError, WorkerPool } from "loopwork";
   *
   * const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { maxWorkers: 1 });
   * const running = pool.run("busy", 10_000);
   * await pool.destroy();
   * await running.catch((e) => console.log(e instanceof PoolClosedError)); // true
   * ```
   */
  destroy(): Promise<void> {
    if (this._destroyed !== null) return this._destroyed;
    const queued = this._queue.splice(0);
    for (const call of queued) {
      this._settle(call, false, new PoolClosedError(`the pool was destroyed before ${call.label} started`));
    }
    for (const call of [...this._running]) {
      const how = call.started ? `while ${call.label} was running` : `before ${call.label} started`;
      this._stopRunning(call, new PoolClosedError(`the pool was destroyed ${how}`));
    }
    this._idle?.();
    this._idle = null;
    this._stopped = true;
    return (this._destroyed = this._stopBackend());
  }

  /**
   * `await using pool = new WorkerPool(...)`: closes the pool (finishing queued work) at
   * the end of the scope.
   *
   * @example
   * ```ts
   * import { WorkerPool } from "loopwork";
   *
   * {
   *   await using pool = new WorkerPool(new URL("./tasks.ts", import.meta.url));
   *   console.log(await pool.run("add", 1, 2)); // 3
   * } // the pool is closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals --------------------------------------------------------------------

  private _spawn(req: CallRequest, name: string): Task<unknown> {
    const label = `${req.op === "function" ? "toThread" : "pool"}:${name}`;
    // A call made before close() is accepted even if its task first steps after it.
    const accepted = this._closing === null && this._destroyed === null;
    // The task follows the call (a future) without a coroutine: see Task._startFunction.
    const body = this._body(req, label, accepted);
    return startTask(body, label);
  }

  /**
   * The body of a call's task. (Made here, not as a named arrow in `_spawn`: run from the
   * TypeScript sources, tsx gives every named arrow its name with `Object.defineProperty`,
   * which cost a tenth of the main thread's time per call.)
   */
  private _body(req: CallRequest, label: string, accepted: boolean): () => Future<unknown> {
    return () => this._submit(req, label, accepted);
  }

  /** @internal Queues or starts one call; returns the call, a future of its outcome. */
  _submit(req: CallRequest, label: string, accepted: boolean): Future<unknown> {
    if (!accepted || this._destroyed !== null || this._stopped) {
      this._failed++;
      return failedCall(
        new PoolClosedError(`${label} was refused: the pool is ${this._destroyed !== null ? "destroyed" : "closing"}`),
      );
    }
    if ((req.op === "call" || req.op === "batch") && typeof req.task !== "string") {
      this._failed++;
      return failedCall(new TypeError(`a task name must be a string, got ${describeValue(req.task)}`));
    }
    if ((req.op === "call" || req.op === "batch") && this._module === null && this.kind !== "bullmq") {
      this._failed++;
      return failedCall(new TypeError(`${label}: this pool has no task module (it runs toThread() functions only)`));
    }
    const kind = this.kind;
    // A bullmq backend encodes every request itself.
    const sent = sendable(req, label, kind !== "bullmq", kind === "thread" || kind === "inline", kind === "thread");
    if (sent instanceof TypeError) {
      this._failed++;
      return failedCall(sent);
    }
    // Checking and encoding the arguments ran their getters, which may have closed or
    // destroyed the pool: the call is refused then, as if it came after (a backend made now
    // would outlive the pool).
    if (this._destroyed !== null || this._stopped) {
      this._failed++;
      return failedCall(
        new PoolClosedError(`${label} was refused: the pool is ${this._destroyed !== null ? "destroyed" : "closing"}`),
      );
    }
    req = sent;
    const free = this._running.size < this._capacity;
    const o = this._options;
    if (this._running.size >= o.maxWorkers * o.concurrentTasksPerWorker && this._queue.length + this._running.size - this._started >= o.maxQueue) {
      this._failed++;
      return failedCall(
        new PoolQueueFullError(
          `${label} was refused: all ${o.maxWorkers} workers are busy and ` +
            `${this._queue.length + this._running.size - this._started} calls are queued (maxQueue ${o.maxQueue})`,
        ),
      );
    }
    const now = performance.now();
    const call = new PoolCall(req, label, this, now);
    if (free) this._start(call, now);
    else this._queue.push(call);
    return call;
  }

  private _backendNow(): PoolBackend {
    return (this._backend ??= this.kind === "inline"
      ? new InlineBackend()
      : this._options.bullmq !== null
      ? new BullmqBackend(this._options.bullmq)
      : this._options.backend === "loopwork"
      ? new ThreadBackend(this._options, this._module)
      : new TinypoolBackend(this._options, this._module));
  }

  /** Hands `call` to the backend; `now` is the time, if the caller has just read it. */
  private _start(call: PoolCall, now: number = performance.now()): void {
    call.phase = RUNNING;
    call.startedAt = now;
    this._running.add(call);
    const backend = this._backendNow();
    // A backend that may hold it first says when it starts (see `_callStarted`).
    if (backend.startsLater !== true) this._callStarted(call, now);
    const req = call.req;
    const transfer: readonly TransferListItem[] =
      req.op === "batch"
        ? collectTransfers(req.items)
        : req.op === "stream"
        ? [req.port, ...collectTransfers(req.args)]
        : req.op !== "encoded"
        ? collectTransfers(req.args)
        : req.large !== undefined && this.kind === "thread"
        ? transferListOf(req.large)
        : NO_TRANSFERS;
    let pending: Pending;
    try {
      pending = backend.call(req, transfer, call);
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (raw) => {
        if (call.phase !== RUNNING) return;
        let value: unknown;
        try {
          value = backend.result(raw, req);
        } catch (e) {
          this._settle(call, false, e);
          return;
        }
        this._settle(call, true, value);
      },
      (e: unknown) => {
        if (call.phase !== RUNNING) return;
        let error: unknown;
        try {
          error = this._explain(call, backend.failure(e, req));
        } catch (x) {
          // Never an unhandled rejection: whatever went wrong explaining it fails the call.
          error = x;
        }
        this._settle(call, false, error);
      },
    );
  }

  /** @internal `call` starts on its worker at `now`: its run time and `taskTimeoutMs` count from now. */
  _callStarted(call: PoolCall, now: number): void {
    if (!call.started) {
      call.started = true;
      this._started++;
    }
    call.startedAt = now;
    this._waitTimes.add(now - call.enqueuedAt);
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
    const timeout = this._options.taskTimeoutMs;
    if (timeout > 0) {
      call.timer = setTimeout(() => {
        call.timer = undefined;
        this._stopRunning(call, new TimeoutError(`${call.label} took longer than taskTimeoutMs (${timeout} ms)${this._stillLoading(call, timeout)}`));
      }, timeout);
    }
  }

  /** What a timeout of `call` adds when its worker was still loading the call's task module. */
  private _stillLoading(call: PoolCall, timeout: number): string {
    const req = call.req;
    if (!(req.op === "call" || req.op === "batch" || req.op === "stream") || this._backend?.loading?.(call) !== true) return "";
    return `: its task module ${displayPath(req.module)} had not finished loading after ${timeout} ms ` +
      "(a top-level await that never settles, or a slow import?)";
  }

  /** @internal `call` had not started after all (its worker died first): no timeout runs until it starts. */
  _callRequeued(call: PoolCall): void {
    if (call.started) {
      call.started = false;
      this._started--;
    }
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
  }

  /** Stops a running call: its worker is stopped (and replaced); the call fails with `error`. */
  private _stopRunning(call: PoolCall, error: unknown): void {
    if (call.phase !== RUNNING) return;
    // Stop it first: the backend then counts its worker gone before the next call is handed over.
    this._backend?.stop(call);
    this._settle(call, false, error);
  }

  /** @internal A call was cancelled: it leaves the queue, or its worker is stopped. */
  _callCancelled(call: PoolCall): void {
    if (call.phase === QUEUED) {
      const i = this._queue.indexOf(call);
      if (i >= 0) this._queue.splice(i, 1);
      this._settle(call, false, undefined);
    } else if (call.phase === RUNNING) {
      this._stopRunning(call, undefined);
    }
  }

  private _settle(call: PoolCall, ok: boolean, value: unknown): void {
    const wasRunning = call.phase === RUNNING;
    call.phase = SETTLED;
    if (call.timer !== undefined) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    let now: number | undefined;
    if (wasRunning) {
      this._running.delete(call);
      if (call.started) this._started--;
      now = performance.now();
      this._runTimes.add(now - call.startedAt);
    }
    if (ok) this._completed++;
    else this._failed++;
    // Hand the freed worker its next call before anything reacts to this one.
    if (wasRunning) this._pump(now);
    if (!call.done()) {
      if (ok) call.setResult(value);
      else call.setException(value);
    }
  }

  /** Starts queued calls while workers are free; tells close() when all is done. `now`: the time, if just read. */
  private _pump(now?: number): void {
    while (this._queue.length > 0 && this._running.size < this._capacity) {
      this._start(this._queue.shift()!, now);
    }
    if (this._idle !== null && this._queue.length === 0 && this._running.size === 0) {
      const idle = this._idle;
      this._idle = null;
      idle();
    }
  }

  /** Gives a backend failure a message that names the culprit. */
  private _explain(call: PoolCall, e: unknown): unknown {
    if (!(e instanceof Error && e.name === "DataCloneError")) return e;
    return unsendableError(call.label, call.req, e, structuredClone, "cloned");
  }

  private async _finishAndStop(): Promise<void> {
    // Calls made just before close() take their first step on a later turn (of the loop,
    // or of the host's microtasks): let them reach the queue before waiting for it.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (this._destroyed === null && (this._queue.length > 0 || this._running.size > 0)) {
      await new Promise<void>((resolve) => (this._idle = resolve));
    }
    // A call cancelled just before (a stream its reader left) may still be running its finally.
    if (this._destroyed === null) await this._backend?.graces?.();
    this._stopped = true;
    await this._stopBackend();
  }

  private async _stopBackend(): Promise<void> {
    const backend = this._backend;
    if (backend !== null) await backend.destroy();
  }

  private _stream(name: string, args: unknown[]): StreamReader<unknown> {
    return new StreamReader((port) => {
      if (this.kind !== "thread" && this.kind !== "inline") {
        throw new TypeError(
          `pool.stream() needs kind "thread" or "inline", not ${JSON.stringify(this.kind)}: its values travel on a ` +
            "MessagePort, which cannot reach another process",
        );
      }
      return this._spawn({ op: "stream", module: this._module ?? "", task: name, args, port }, name);
    });
  }

  private async *_map(
    name: string,
    items: unknown[],
    chunkSize: number | "auto",
    ordered: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<unknown, void, undefined> {
    signal?.throwIfAborted();
    const n = items.length;
    if (n === 0) return;
    // A "bullmq" pool has no worker limit of its own: plan for 16 remote threads.
    const workers = Number.isFinite(this._options.maxWorkers) ? this._options.maxWorkers : 16;
    // "auto": about four chunks per worker (balance), at most 1 000 items each.
    const size = chunkSize === "auto" ? Math.max(1, Math.min(1000, Math.ceil(n / (workers * 4)))) : chunkSize;
    const window = workers * 2;
    const inFlight: Task<unknown>[] = [];
    const finished: Task<unknown>[] = [];
    const wakeup = new Wakeup();
    let next = 0;
    const launch = () => {
      const chunk = items.slice(next, next + size);
      next += chunk.length;
      const t = this._spawn({ op: "batch", module: this._module ?? "", task: name, items: chunk }, name);
      inFlight.push(t);
      if (!ordered) {
        t.addDoneCallback(() => {
          finished.push(t);
          wakeup.wake();
        });
      }
    };
    const onAbort = () => {
      for (const t of inFlight) t.cancel("pool.map() was aborted");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (next < n && inFlight.length < window) launch();
      while (inFlight.length > 0) {
        let t: Task<unknown>;
        if (ordered) {
          t = inFlight[0]!;
          await t.then(undefined, () => {});
          inFlight.shift();
        } else {
          while (finished.length === 0) await wakeup.wait();
          t = finished.shift()!;
          inFlight.splice(inFlight.indexOf(t), 1);
        }
        if (signal?.aborted) throw signal.reason;
        const results = t.result() as unknown[];
        if (next < n) launch();
        yield* results;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      for (const t of inFlight) t.cancel("pool.map() ended early");
      await Promise.allSettled(inFlight.map((t) => t.then()));
    }
  }
}
