/**
 * The serving side of a `"bullmq"` pool: a BullMQ Worker pulls jobs from the queue and runs
 * each on a local loopwork thread pool, so CPU work never blocks the process's event loop
 * (and with it BullMQ's lock renewal); with `threads: 0` it runs them on its own thread
 * instead (for I/O-bound modules). A job names a task and carries arguments; only the
 * module's own exported functions run and any other name is refused, and a job whose module
 * identity is not this worker's module is refused with an error naming both.
 * A cancel request reaches the worker holding the job on that worker's own pub/sub channel
 * (see `cancelChannel`: it reads no queue event stream) and cancels the local call: the task is aborted on its thread (its
 * `taskSignal()`, or CancelledError in a generator task), which is stopped and replaced
 * only if the task still runs after the pool's `cancelGraceMs` (a job running on the worker's own thread is abandoned: it
 * fails as cancelled at once, while its function runs on to its end, its result dropped).
 * Before it serves, it loads the task module and pings Redis: a module that cannot be
 * loaded, an unreachable Redis or refused credentials fail `serveQueue()` with a
 * ServeError (the command's exit code and message), never a silent wait.
 * @module
 */
import { hostname } from "node:os";
import type { Job, Worker } from "bullmq";
import { loadBullmq } from "../pool/packages.ts";
import type { Task } from "../core/index.ts";
import {
  cancelChannel,
  cancelMarkKey,
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
} from "../pool/backends/bullmq-wire.ts";
import type { RedisConnection } from "../pool/options.ts";
import { type CallRequest, decodeValue, deserializeError, encodeValue } from "../pool/protocol.ts";
import { answer, checkResult } from "../pool/worker/tasks.ts";
import { type AnyTasks, WorkerPool } from "../pool/worker-pool.ts";

/** Settings of a queue server (`loopwork worker`). */
export interface ServeOptions {
  connection: RedisConnection;
  queue: string;
  /** The task module, an absolute URL. */
  module: string;
  /**
   * Local threads; 0 runs each job on this process's own thread (for I/O-bound modules: a
   * job's synchronous work there delays BullMQ's lock renewal, and a cancelled job is
   * abandoned rather than stopped).
   */
  threads: number;
  /** Jobs held at once (default: `threads`); more overlaps Redis round trips with computation. */
  concurrency?: number;
  /**
   * How long to wait for Redis at start, ms (default 5 000): an unreachable Redis fails
   * `serveQueue()` after this long, refused credentials at once.
   */
  connectTimeoutMs?: number;
  /**
   * How long a cancelled job's task may take to stop after its abort before its thread is
   * stopped and replaced, ms: the local pool's `cancelGraceMs` (default 100).
   */
  cancelGraceMs?: number;
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
  /** Its socket (replaced on each reconnection). */
  stream?: { cork(): void; uncork(): void };
  on(event: string, f: (...args: unknown[]) => void): void;
  ping(): Promise<unknown>;
  mget(...keys: string[]): Promise<Array<string | null>>;
  subscribe(channel: string): Promise<unknown>;
  /** A new connection with the same options. */
  duplicate(): RawClient;
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
  /** The jobs running here, by id, each with what stops it (a cancel request). */
  const running = new Map<string, () => void>();
  const inline = options.threads === 0;
  // Cancel requests that arrived before their job started here (or for jobs held elsewhere).
  const cancelled = new Map<string, number>();
  // Created once Redis answers: its threads start at once.
  let pool: WorkerPool<AnyTasks> | null = null;

  /**
   * Jobs started as soon as BullMQ handed them over (its `active` event), by id: BullMQ
   * then asks Redis for one more job before it calls the processor, and the job runs
   * meanwhile rather than after that round trip. The processor takes the job's run here.
   */
  const early = new Map<string, Promise<string>>();

  // Two parameters: BullMQ makes no AbortController per job (cancel requests come on this
  // worker's own channel and find the job in `running`).
  const processor = (job: Job): Promise<string> => {
    const run = early.get(job.id ?? "");
    if (run === undefined) return begin(job);
    early.delete(job.id ?? "");
    return run;
  };

  /**
   * The worker's own connection to Redis, once known: BullMQ records each job's end on it
   * (`moveToFinished`, which also fetches the next job).
   */
  let mainClient: RawClient | null = null;
  let corked = false;
  /** Jobs begun here and not ended. */
  let held = 0;
  /**
   * A job has ended while others are held: the commands written to Redis until this turn of
   * the event loop ends (BullMQ's record of this job's end, and of the others that end in the
   * same turn) go out in one write rather than one each. Redis is woken once for them, and
   * this thread is not preempted by it once per job (on a busy machine, each write that
   * wakes Redis can hand it this thread's CPU). Flushed at `setImmediate`, after the answers
   * that arrived together have all been handled. The end of a lone job (none other held, so
   * none can end with it) is written at once. On Node and Deno alike: under Deno, with the
   * three processes of a call measured side by side, it took the worker's CPU per call from
   * 258 to 230 µs and the whole call's (client, worker, Redis) by a tenth.
   */
  const ended = (): void => {
    held--;
    const stream = mainClient?.stream;
    if (held === 0 || corked || stream === undefined || mainClient?.status !== "ready") return;
    corked = true;
    stream.cork();
    setImmediate(() => {
      corked = false;
      stream.uncork();
    });
  };

  /** Starts a job (see `start`); its end may batch the writes to Redis (see `ended`). */
  const begin = (job: Job): Promise<string> => {
    held++;
    const run = start(job);
    // Also read by the processor; never an unhandled rejection if it is not called (a forced close).
    run.then(ended, ended);
    return run;
  };

  /** Runs a job: checks it, then runs its task on a local thread (or inline); the job's result. */
  const start = async (job: Job): Promise<string> => {
    const id = job.id ?? "";
    if (cancelled.size > 0) {
      const now = Date.now();
      for (const [k, at] of cancelled) if (now - at > CANCEL_MEMORY_MS) cancelled.delete(k);
      if (cancelled.has(id)) throw new mq.UnrecoverableError(`job ${id} was cancelled before it started`);
    }
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
    if (inline) return runInline(id, data.b === 1, name, values);
    if (pool === null) throw new Error(`job ${id} arrived before the worker was ready`);
    // The local pool refuses any name that is not an own exported function of the module.
    const task: Task<unknown> = data.b === 1 ? pool._runBatch(name, values) : pool.run(name, ...values);
    running.set(id, () => task.cancel("the call was cancelled by its caller"));
    try {
      return encodeValue(await task);
    } catch (e) {
      if (task.cancelled()) throw new mq.UnrecoverableError(`job ${id} was cancelled by its caller`);
      throw new Error(errorEnvelope(e));
    } finally {
      running.delete(id);
    }
  };

  /**
   * Runs a job on this thread (`threads: 0`), as a worker thread would: only an own
   * exported function of the module, a result that cannot be sent back fails the job. A
   * cancel request abandons it: the job fails as cancelled at once, the function runs on.
   */
  const runInline = async (id: string, batch: boolean, task: string, values: unknown[]): Promise<string> => {
    const req: CallRequest = batch
      ? { op: "batch", module: options.module, task, items: values }
      : { op: "call", module: options.module, task, args: values };
    const cancelled = new Promise<null>((resolve) => running.set(id, () => resolve(null)));
    try {
      // answer() never rejects: a task's failure is its response.
      const r = await Promise.race([answer(req), cancelled]);
      if (r === null) throw new mq.UnrecoverableError(`job ${id} was cancelled by its caller`);
      const checked = checkResult(req, r);
      if (!checked.ok) throw new Error(errorEnvelope(deserializeError(checked.error)));
      try {
        return encodeValue(checked.value);
      } catch (e) {
        throw new Error(errorEnvelope(new TypeError(`the result of task ${JSON.stringify(task)} cannot be sent back from the worker`, { cause: e })));
      }
    } finally {
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
  worker.on("active", (job: Job) => {
    const id = job.id;
    if (id === undefined || early.has(id)) return;
    early.set(id, begin(job));
  });
  // A job failed before its processor was called (BullMQ's own checks): its run is stopped.
  worker.on("failed", (job: Job | undefined) => {
    const id = job?.id;
    if (id === undefined || !early.delete(id)) return;
    running.get(id)?.();
  });
  /** A cancel request for a job: stops it if it runs here, else remembers it for a while. */
  const cancelRequest = (jobId: string) => {
    const stop = running.get(jobId);
    if (stop !== undefined) stop();
    else cancelled.set(jobId, Date.now());
  };

  /** Every raw connection, once known (the worker's, its blocking one, the cancel subscriber). */
  const raws = new Set<RawClient>();
  const collect = (p: Promise<unknown> | undefined) => {
    p?.then((r) => {
      raws.add(r as RawClient);
      // Closed before it was known (a failed start): end it now.
      if (ending) (r as RawClient).disconnect();
    }, noop);
  };
  let ending = false;
  const backend = worker.getBackend() as unknown as Backendish;
  collect(backend.client);
  collect(backend.blockingClient);
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
      worker.waitUntilReady().then(async () => {
        const client = (await worker.getBackend().client) as unknown as RawClient;
        await client.ping();
        mainClient = client;
        // Cancel requests for the jobs held here come on this worker's own channel, read by
        // a connection of its own (a subscribed connection takes no other command).
        const sub = client.duplicate();
        raws.add(sub);
        if (ending) sub.disconnect();
        sub.on("error", remember);
        sub.on("message", (_channel: unknown, jobId: unknown) => {
          if (typeof jobId === "string") cancelRequest(jobId);
        });
        // Back after a loss: a request published meanwhile left its mark on the job.
        let lost = false;
        sub.on("close", () => {
          lost = true;
        });
        sub.on("ready", () => {
          if (!lost || ending || running.size === 0) return;
          lost = false;
          const ids = [...running.keys()];
          client.mget(...ids.map((id) => cancelMarkKey(options.queue, id))).then((marks) => {
            marks.forEach((m, i) => {
              if (m !== null) cancelRequest(ids[i]!);
            });
          }, noop);
        });
        await sub.subscribe(cancelChannel(options.queue, worker.id));
      }),
      failed,
    ]);
  } catch (e) {
    // Nothing to hand back yet: end the connections without waiting for Redis.
    worker.close(true).catch(noop);
    hangUp();
    if (e instanceof ServeError) throw e;
    throw new ServeError(`cannot serve queue ${JSON.stringify(options.queue)} on ${where}: ${(e as Error).message}`, 1, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
  if (!inline) {
    pool = new WorkerPool<AnyTasks>(options.module, {
      maxWorkers: options.threads,
      minWorkers: options.threads,
      ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
    });
  }
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
          const stopping = localPool?.destroy() ?? Promise.resolve();
          await within(worker.close(true), 1_000).catch(noop);
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
        hangUp();
        await localPool?.close();
      })();
    },
  };
}

/** What the backend of a BullMQ Worker or QueueEvents exposes of its connections. */
interface Backendish {
  client: Promise<unknown>;
  blockingClient?: Promise<unknown>;
}
