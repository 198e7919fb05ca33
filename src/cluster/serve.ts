/**
 * The serving side of a `"bullmq"` pool: a BullMQ Worker pulls jobs from the queue and runs
 * each on a local loopwork thread pool, so CPU work never blocks the process's event loop
 * (and with it BullMQ's lock renewal). A job names a task and carries arguments; the local
 * pool runs only the module's own exported functions and refuses any other name, and a job
 * whose module identity is not this worker's module is refused with an error naming both.
 * A cancel request (a custom queue event from the pool) reaches the job's processor through
 * `worker.cancelJob()`, whose AbortSignal cancels the local call: the task is aborted on
 * its thread (its `taskSignal()`, or CancelledError in a generator task), which is stopped
 * and replaced only if the task still runs after the pool's `cancelGraceMs`. Before it serves, it loads the task module and pings Redis: a module that
 * cannot be loaded, an unreachable Redis or refused credentials fail `serveQueue()` with a
 * ServeError (the command's exit code and message), never a silent wait.
 * @module
 */
import { hostname } from "node:os";
import type { Job, QueueEvents, Worker } from "bullmq";
import { loadBullmq } from "../pool/packages.ts";
import type { Task } from "../task.ts";
import {
  CANCEL_EVENT,
  connectionOptions,
  describeConnection,
  describeIdentity,
  errorEnvelope,
  isAuthError,
  isIdentity,
  type JobData,
  loadIdentity,
  LOCK_DURATION_MS,
  type ModuleIdentity,
  STALLED_INTERVAL_MS,
} from "../pool/bullmq-wire.ts";
import type { RedisConnection } from "../pool/options.ts";
import { decodeValue, encodeValue } from "../pool/protocol.ts";
import { type AnyTasks, WorkerPool } from "../pool/worker-pool.ts";

/** Settings of a queue server (`loopwork worker`). */
export interface ServeOptions {
  connection: RedisConnection;
  queue: string;
  /** The task module, an absolute URL. */
  module: string;
  /** Local threads. */
  threads: number;
  /** Jobs held at once (default: `threads`); more overlaps Redis round trips with computation. */
  concurrency?: number;
  /**
   * How long to wait for Redis at start, ms (default 5 000): an unreachable Redis fails
   * `serveQueue()` after this long, refused credentials at once.
   */
  connectTimeoutMs?: number;
  /** Where to report a lost and a restored Redis connection (default: nowhere). */
  log?: (line: string) => void;
}

/** A running queue server. */
export interface QueueServer {
  readonly host: string;
  readonly description: string;
  /** Jobs running here now. */
  running(): number;
  /**
   * Stops serving. Graceful: takes no new job and finishes the jobs it holds (this waits as
   * long as they run, and for Redis to record their results). With `force`, or called again
   * with it: stops the running jobs and hands them back (another worker retries them once
   * their lock expires), and returns within a few seconds even when Redis is gone.
   */
  close(force?: boolean): Promise<void>;
}

/**
 * Why a queue server could not start: `exitCode` 2 for a bad task module (the command line
 * is wrong), 1 for a Redis that cannot be reached or refused the credentials.
 */
export class ServeError extends Error {
  /** The exit code of `loopwork worker`. */
  readonly exitCode: number;
  /** Creates the error; the message says what failed and names it. */
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "ServeError";
    this.exitCode = exitCode;
  }
}

/** The ioredis client under a BullMQ object. */
interface RawClient {
  status: string;
  on(event: string, f: (...args: unknown[]) => void): void;
  ping(): Promise<unknown>;
  disconnect(): void;
}

const noop = (): void => {};

/** How long a cancel request is remembered for a job this worker has not (yet) started. */
const CANCEL_MEMORY_MS = 60_000;

/** Resolves with `p`, or with undefined after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]);
}

/** Starts serving `options.queue`; resolves once the module is loaded and Redis answers. */
export async function serveQueue(options: ServeOptions): Promise<QueueServer> {
  let identity: ModuleIdentity;
  try {
    identity = await loadIdentity(options.module);
  } catch (e) {
    throw new ServeError((e as Error).message, 2, { cause: e });
  }
  const mq = await loadBullmq<typeof import("bullmq")>();
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const where = describeConnection(options.connection);
  let connection: ReturnType<typeof connectionOptions>;
  try {
    connection = connectionOptions(options.connection, connectTimeoutMs);
  } catch (e) {
    throw new ServeError((e as Error).message, 2, { cause: e });
  }
  const host = hostname();
  const workerName = `loopwork@${host}:${process.pid}`;
  const running = new Map<string, Task<unknown>>();
  // Cancel requests that arrived before their job started here (or for jobs held elsewhere).
  const cancelled = new Map<string, number>();
  // Created once Redis answers: its threads start at once.
  let pool: WorkerPool<AnyTasks> | null = null;

  const processor = async (job: Job, _token?: string, signal?: AbortSignal): Promise<string> => {
    const id = job.id ?? "";
    const now = Date.now();
    for (const [k, at] of cancelled) if (now - at > CANCEL_MEMORY_MS) cancelled.delete(k);
    if (cancelled.has(id)) throw new mq.UnrecoverableError(`job ${id} was cancelled before it started`);
    const name = job.name;
    const data = job.data as JobData | null;
    if (data === null || typeof data !== "object" || typeof data.a !== "string") {
      throw new mq.UnrecoverableError(errorEnvelope(new TypeError(`job ${id} (${JSON.stringify(name)}) is not a loopwork call`)));
    }
    if (data.m !== undefined) {
      const m = data.m;
      if (!isIdentity(m) || m.n !== identity.n || m.h !== identity.h || m.f !== identity.f) {
        throw new mq.UnrecoverableError(errorEnvelope(
          new Error(
            `pool:${name} was sent for the task module ${isIdentity(m) ? describeIdentity(m) : "(unreadable)"}, ` +
              `but the worker ${workerName} on queue ${JSON.stringify(options.queue)} serves ` +
              `${describeIdentity(identity)} from ${options.module}: ` +
              `start the queue's workers with the pool's module (or give the pool another queue)`,
          ),
        ));
      }
    }
    let values: unknown;
    try {
      values = decodeValue(data.a);
    } catch (e) {
      throw new mq.UnrecoverableError(errorEnvelope(new TypeError(`job ${id}: its arguments cannot be decoded`, { cause: e })));
    }
    if (!Array.isArray(values)) {
      throw new mq.UnrecoverableError(errorEnvelope(new TypeError(`job ${id}: its arguments are not an array`)));
    }
    if (pool === null) throw new Error(`job ${id} arrived before the worker was ready`);
    // The local pool refuses any name that is not an own exported function of the module.
    const task: Task<unknown> = data.b === 1 ? pool._runBatch(name, values) : pool.run(name, ...values);
    running.set(id, task);
    const onAbort = () => task.cancel("the call was cancelled by its caller");
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return encodeValue(await task);
    } catch (e) {
      if (signal?.aborted === true || task.cancelled()) {
        throw new mq.UnrecoverableError(`job ${id} was cancelled by its caller`);
      }
      throw new Error(errorEnvelope(e));
    } finally {
      signal?.removeEventListener("abort", onAbort);
      running.delete(id);
    }
  };

  let lastError: unknown;
  let refused: unknown;
  const remember = (e: unknown) => {
    lastError = e;
    if (isAuthError(e)) refused ??= e;
  };
  const worker: Worker = new mq.Worker(options.queue, processor, {
    connection,
    concurrency: options.concurrency ?? options.threads,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: 2,
    name: workerName,
    autorun: false,
  });
  worker.on("error", remember);
  const events: QueueEvents = new mq.QueueEvents(options.queue, { connection });
  events.on("error", remember);
  events.on(CANCEL_EVENT as "error", ((args: { jobId?: string }) => {
    const jobId = args?.jobId;
    if (typeof jobId !== "string") return;
    if (!worker.cancelJob(jobId, "cancelled by its caller")) cancelled.set(jobId, Date.now());
  }) as never);

  /** Every raw connection, once known (the worker's, its blocking one, the events reader's). */
  const raws = new Set<RawClient>();
  const collect = (p: Promise<unknown> | undefined) => {
    p?.then((r) => {
      raws.add(r as RawClient);
      // Closed before it was known (a failed start): end it now.
      if (ending) (r as RawClient).disconnect();
    }, noop);
  };
  let ending = false;
  const backends = [worker.getBackend() as unknown as Backendish, events.getBackend() as unknown as Backendish];
  for (const b of backends) {
    collect(b.client);
    collect(b.blockingClient);
  }
  /** Ends every connection at once (ioredis stops reconnecting). */
  const hangUp = () => {
    ending = true;
    for (const r of raws) if (r.status !== "end") r.disconnect();
  };

  // Redis answers a ping within connectTimeoutMs, or the start fails (refused credentials: at once).
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ServeError(
          `cannot reach Redis at ${where} within ${connectTimeoutMs} ms` +
            (lastError instanceof Error ? `: ${lastError.message}` : ""),
          1,
          { cause: lastError },
        )),
      connectTimeoutMs,
    );
    poll = setInterval(() => {
      if (refused !== undefined) {
        reject(new ServeError(`Redis at ${where} refused the connection: ${(refused as Error).message}`, 1, { cause: refused }));
      }
    }, 20);
  });
  failed.catch(noop);
  try {
    await Promise.race([
      Promise.all([worker.waitUntilReady(), events.waitUntilReady()]).then(async () => {
        const client = (await worker.getBackend().client) as unknown as RawClient;
        await client.ping();
      }),
      failed,
    ]);
  } catch (e) {
    // Nothing to hand back yet: end the connections without waiting for Redis.
    worker.close(true).catch(noop);
    events.close().catch(noop);
    hangUp();
    if (e instanceof ServeError) throw e;
    throw new ServeError(`cannot serve queue ${JSON.stringify(options.queue)} on ${where}: ${(e as Error).message}`, 1, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
  pool = new WorkerPool<AnyTasks>(options.module, { maxWorkers: options.threads, minWorkers: options.threads });
  const localPool = pool;

  // A lost connection is reported once, and so is its return.
  let down = false;
  for (const r of raws) {
    r.on("close", () => {
      if (ending || stopping || down) return;
      down = true;
      options.log?.(`lost Redis at ${where}; reconnecting (the jobs held here are retried elsewhere if it stays away)`);
    });
    r.on("ready", () => {
      if (!down || ending) return;
      down = false;
      options.log?.(`Redis at ${where} is back`);
    });
  }
  worker.run().catch(noop);

  let stopping = false;
  let graceful: Promise<void> | null = null;
  let forced: Promise<void> | null = null;
  return {
    host,
    description: `queue ${JSON.stringify(options.queue)} on ${where}`,
    running: () => running.size,
    close(force = false): Promise<void> {
      stopping = true;
      if (force) {
        return forced ??= (async () => {
          // Stops the running jobs (their threads) and hands the jobs back, Redis or not.
          const stopping = localPool.destroy();
          await Promise.all([within(worker.close(true), 1_000), within(events.close(), 1_000)]).catch(noop);
          hangUp();
          await within(stopping, 1_000);
        })();
      }
      return graceful ??= (async () => {
        const closing = worker.close(false);
        closing.catch(noop);
        // The jobs finish on the local threads; recording their results needs Redis. Once
        // none runs and Redis is away, there is nothing left to wait for: their locks expire
        // and other workers retry them (at-least-once).
        let poll: ReturnType<typeof setInterval> | undefined;
        await Promise.race([
          closing,
          new Promise<void>((resolve) => {
            poll = setInterval(() => {
              if (down && running.size === 0) resolve();
            }, 50);
          }),
        ]).finally(() => clearInterval(poll));
        const reader = events.close();
        reader.catch(noop);
        if (!down) await within(reader, 1_000);
        hangUp();
        await localPool.close();
      })();
    },
  };
}

/** What the backend of a BullMQ Worker or QueueEvents exposes of its connections. */
interface Backendish {
  client: Promise<unknown>;
  blockingClient?: Promise<unknown>;
}
