/**
 * The serving side of a `"bullmq"` pool: a BullMQ Worker pulls jobs from the queue and runs
 * each on a local loopwork thread pool, so CPU work never blocks the process's event loop
 * (and with it BullMQ's lock renewal). A job names a task and carries arguments; the local
 * pool runs only the module's own exported functions and refuses any other name. A cancel
 * request (a custom queue event from the pool) reaches the job's processor through
 * `worker.cancelJob()`, whose AbortSignal cancels the local call: its thread is stopped
 * and replaced.
 * @module
 */
import { hostname } from "node:os";
import type { Job, QueueEvents, Worker } from "bullmq";
import type { Task } from "../task.ts";
import {
  CANCEL_EVENT,
  connectionOptions,
  describeConnection,
  errorEnvelope,
  type JobData,
  LOCK_DURATION_MS,
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
  /** How long to wait for Redis at start, ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** A running queue server. */
export interface QueueServer {
  readonly host: string;
  readonly description: string;
  /** Graceful stop: finishes the jobs it holds (or, with `force`, hands them back at once). */
  close(force?: boolean): Promise<void>;
}

const noop = (): void => {};

/** How long a cancel request is remembered for a job this worker has not (yet) started. */
const CANCEL_MEMORY_MS = 60_000;

/** Starts serving `options.queue`; resolves once connected to Redis. */
export async function serveQueue(options: ServeOptions): Promise<QueueServer> {
  const mq = await import("bullmq");
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const connection = connectionOptions(options.connection, connectTimeoutMs);
  const pool = new WorkerPool<AnyTasks>(options.module, { maxWorkers: options.threads, minWorkers: options.threads });
  const running = new Map<string, Task<unknown>>();
  // Cancel requests that arrived before their job started here (or for jobs held elsewhere).
  const cancelled = new Map<string, number>();

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
    let values: unknown;
    try {
      values = decodeValue(data.a);
    } catch (e) {
      throw new mq.UnrecoverableError(errorEnvelope(new TypeError(`job ${id}: its arguments cannot be decoded`, { cause: e })));
    }
    if (!Array.isArray(values)) {
      throw new mq.UnrecoverableError(errorEnvelope(new TypeError(`job ${id}: its arguments are not an array`)));
    }
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

  const worker: Worker = new mq.Worker(options.queue, processor, {
    connection,
    concurrency: options.concurrency ?? options.threads,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: 2,
    name: `loopwork@${hostname()}:${process.pid}`,
    autorun: false,
  });
  worker.on("error", noop);
  const events: QueueEvents = new mq.QueueEvents(options.queue, { connection });
  events.on("error", noop);
  events.on(CANCEL_EVENT as "error", ((args: { jobId?: string }) => {
    const jobId = args?.jobId;
    if (typeof jobId !== "string") return;
    if (!worker.cancelJob(jobId, "cancelled by its caller")) cancelled.set(jobId, Date.now());
  }) as never);

  const deadline = new Promise<never>((_, reject) => {
    const t = setTimeout(
      () => reject(new Error(`cannot reach Redis at ${describeConnection(options.connection)} within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    Promise.all([worker.waitUntilReady(), events.waitUntilReady()]).then(() => clearTimeout(t), () => clearTimeout(t));
  });
  try {
    await Promise.race([Promise.all([worker.waitUntilReady(), events.waitUntilReady()]), deadline]);
  } catch (e) {
    await Promise.allSettled([worker.close(true), events.close(), pool.destroy()]);
    throw e;
  }
  worker.run().catch(noop);

  let closing: Promise<void> | null = null;
  return {
    host: hostname(),
    description: `queue ${JSON.stringify(options.queue)} on ${describeConnection(options.connection)}`,
    close(force = false): Promise<void> {
      if (closing !== null && !force) return closing;
      closing = (async () => {
        await worker.close(force);
        await events.close();
        await (force ? pool.destroy() : pool.close());
      })();
      return closing;
    },
  };
}
