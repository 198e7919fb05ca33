/**
 * The `"bullmq"` backend: each call is a BullMQ job on a Redis queue, served by
 * `loopwork worker` processes on any number of machines. The job id is chosen here, so the
 * call is registered before the job exists; one QueueEvents reader settles every call from
 * the queue's `completed` and `failed` events. Cancelling a call removes its job while it
 * waits, and otherwise publishes a custom event that the worker holding the job answers
 * with `worker.cancelJob()`. bullmq itself is imported on first use, so local pools never
 * load it.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { TransferListItem } from "node:worker_threads";
import type { ConnectionOptions, Queue, QueueEvents, QueueEventsProducer } from "bullmq";
import { describeValue } from "../future.ts";
import type { PoolBackend } from "./backend.ts";
import {
  CANCEL_EVENT,
  connectionOptions,
  describeConnection,
  errorFromReason,
  type JobData,
  KEEP_FINISHED,
} from "./bullmq-wire.ts";
import type { AbortHook } from "./call.ts";
import { PoolClosedError, PoolConnectionError } from "./errors.ts";
import type { ResolvedBullmqOptions } from "./options.ts";
import { type CallRequest, type CallResponse, decodeValue, encodeValue, unwrapResponse } from "./protocol.ts";

interface Clients {
  queue: Queue;
  events: QueueEvents;
  producer: QueueEventsProducer;
}

interface Pending {
  readonly id: string;
  readonly label: string;
  resolve(r: CallResponse): void;
  reject(e: unknown): void;
  added: boolean;
  cancelled: boolean;
}

const noop = (): void => {};

function timeoutAfter(ms: number, onTimeout: () => Error): { promise: Promise<never>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  promise.catch(noop);
  return { promise, clear: () => clearTimeout(timer) };
}

/** Encodes the arguments (or items); a value that cannot cross gets an error naming it. */
function encodeData(req: CallRequest & { op: "call" | "batch" }, label: string): JobData {
  const values = req.op === "batch" ? req.items : req.args;
  try {
    return req.op === "batch" ? { a: encodeValue(values), b: 1 } : { a: encodeValue(values) };
  } catch (e) {
    const what = req.op === "batch" ? "item" : "argument";
    for (let i = 0; i < values.length; i++) {
      try {
        encodeValue(values[i]);
      } catch {
        throw new TypeError(
          `${label}: ${what} ${i} (${describeValue(values[i])}) cannot be sent to a worker: ` +
            `it cannot be serialised (${(e as Error).message})`,
          { cause: e },
        );
      }
    }
    throw new TypeError(`${label}: its arguments cannot be sent to a worker (${(e as Error).message})`, { cause: e });
  }
}

/** @internal */
export class BullmqBackend implements PoolBackend {
  private readonly _opts: ResolvedBullmqOptions;
  private _connection: ConnectionOptions | null = null;
  private _clients: Promise<Clients> | null = null;
  private readonly _pending = new Map<string, Pending>();
  private readonly _ops = new Set<Promise<unknown>>();
  private _workers = 0;
  private _workersAt = 0;
  private _destroyed = false;

  constructor(options: ResolvedBullmqOptions) {
    this._opts = options;
  }

  call(req: CallRequest, _transfer: readonly TransferListItem[], abort: AbortHook): Promise<unknown> {
    if (this._destroyed) return Promise.reject(new PoolClosedError("the pool's Redis connection is closed"));
    if (req.op !== "call" && req.op !== "batch") {
      return Promise.reject(
        new TypeError(`a "bullmq" pool runs only the task module's exported functions (toThread() runs locally)`),
      );
    }
    const label = `pool:${req.task}`;
    let data: JobData;
    try {
      data = encodeData(req, label);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<CallResponse>((resolve, reject) => {
      const p: Pending = { id: randomUUID(), label, resolve, reject, added: false, cancelled: false };
      this._pending.set(p.id, p);
      abort.once("abort", () => this._cancel(p));
      this._track(
        this._clientsNow()
          .then((c) => {
            if (p.cancelled) return;
            const o = this._opts;
            return c.queue
              .add(req.task, data, {
                jobId: p.id,
                attempts: o.attempts,
                ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
                removeOnComplete: KEEP_FINISHED,
                removeOnFail: KEEP_FINISHED,
              })
              .then(() => {
                p.added = true;
                if (p.cancelled) return this._withdraw(c, p.id);
              });
          })
          .catch((e: unknown) => {
            if (this._pending.get(p.id) === p) this._pending.delete(p.id);
            reject(e);
          }),
      );
    });
  }

  result(raw: unknown): unknown {
    return unwrapResponse(raw as CallResponse);
  }

  failure(error: unknown, _req: CallRequest): unknown {
    return error;
  }

  workers(): number {
    // `loopwork worker` processes connected to the queue, as last counted (at most once a second).
    const now = performance.now();
    if (this._clients !== null && !this._destroyed && now - this._workersAt > 1_000) {
      this._workersAt = now;
      this._track(
        this._clients
          .then((c) => c.queue.getWorkersCount())
          .then((n) => {
            this._workers = n;
          }, noop),
      );
    }
    return this._workers;
  }

  async destroy(): Promise<void> {
    this._destroyed = true;
    for (const p of this._pending.values()) {
      p.reject(new PoolClosedError(`the pool was closed while ${p.label} was waiting`));
    }
    this._pending.clear();
    while (this._ops.size > 0) await Promise.allSettled([...this._ops]);
    const clients = this._clients;
    this._clients = null;
    if (clients === null) return;
    const c = await clients.catch(() => null);
    if (c !== null) await closeClients(c);
  }

  // ---- internals --------------------------------------------------------------------

  private _track(op: Promise<unknown>): void {
    this._ops.add(op);
    op.then(
      () => this._ops.delete(op),
      () => this._ops.delete(op),
    );
  }

  private _cancel(p: Pending): void {
    if (p.cancelled) return;
    p.cancelled = true;
    if (this._pending.get(p.id) === p) this._pending.delete(p.id);
    p.reject(new Error(`${p.label} was cancelled`));
    if (p.added && this._clients !== null) {
      this._track(this._clients.then((c) => this._withdraw(c, p.id)).catch(noop));
    }
  }

  /** Removes a waiting job; a job already running is stopped by the worker that holds it. */
  private async _withdraw(c: Clients, id: string): Promise<void> {
    const removed = await c.queue.remove(id);
    if (removed === 1) return;
    await c.producer.publishEvent({ eventName: CANCEL_EVENT, jobId: id }, 10_000);
  }

  private _clientsNow(): Promise<Clients> {
    if (this._clients === null) {
      const connecting = this._connect();
      this._clients = connecting;
      connecting.catch(() => {
        // A failed connection is not kept: the next call tries again.
        if (this._clients === connecting) this._clients = null;
      });
    }
    return this._clients;
  }

  private async _connect(): Promise<Clients> {
    const o = this._opts;
    this._connection ??= connectionOptions(o.connection, o.connectTimeoutMs);
    const connection = this._connection;
    const where = describeConnection(o.connection);
    let lastError: unknown;
    const remember = (e: unknown) => {
      lastError = e;
    };
    const deadline = timeoutAfter(o.connectTimeoutMs, () =>
      new PoolConnectionError(
        `cannot reach Redis at ${where} within ${o.connectTimeoutMs} ms (queue ${JSON.stringify(o.queue)})` +
          (lastError instanceof Error ? `: ${lastError.message}` : ""),
        lastError !== undefined ? { cause: lastError } : undefined,
      ));
    const mq = await import("bullmq");
    const made: Array<{ close(): Promise<void> }> = [];
    try {
      const queue = new mq.Queue(o.queue, { connection });
      made.push(queue);
      queue.on("error", remember);
      await Promise.race([queue.waitUntilReady(), deadline.promise]);
      const client = await Promise.race([queue.getBackend().client, deadline.promise]);
      // Read events from now on (by the server's clock), however late the reader starts.
      const [sec, usec] = (await Promise.race([(client as unknown as { time(): Promise<unknown> }).time(), deadline.promise])) as [number | string, number | string];
      const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      const events = new mq.QueueEvents(o.queue, { connection, lastEventId: `${now - 1}-0` });
      made.push(events);
      events.on("error", remember);
      events.on("completed", ({ jobId, returnvalue }) => this._completed(jobId, returnvalue));
      events.on("failed", ({ jobId, failedReason }) => this._failed(jobId, failedReason));
      events.on("removed", ({ jobId }) => this._failed(jobId, "its job was removed from the queue"));
      const producer = new mq.QueueEventsProducer(o.queue, { connection });
      made.push(producer);
      (producer as unknown as { on(e: string, f: (e: unknown) => void): void }).on("error", remember);
      await Promise.race([Promise.all([events.waitUntilReady(), producer.waitUntilReady()]), deadline.promise]);
      // After a reconnection, a job that Redis no longer has (a restart without persistence)
      // fails its call rather than leaving it waiting forever.
      (client as unknown as { on(e: "ready", f: () => void): void }).on("ready", () => {
        if (!this._destroyed) this._track(this._recheck(queue).catch(noop));
      });
      this._workersAt = performance.now();
      this._track(queue.getWorkersCount().then((n) => {
        this._workers = n;
      }, noop));
      return { queue, events, producer };
    } catch (e) {
      await Promise.all(made.map((m) => closeQuietly(m)));
      throw e;
    } finally {
      deadline.clear();
    }
  }

  private async _recheck(queue: Queue): Promise<void> {
    for (const p of [...this._pending.values()]) {
      if (!p.added || this._pending.get(p.id) !== p) continue;
      const state = await queue.getJobState(p.id);
      if (state === "unknown" && this._pending.get(p.id) === p) {
        this._pending.delete(p.id);
        p.reject(new Error(`${p.label}: its job is gone from Redis after a reconnection (a restart without persistence?)`));
      }
    }
  }

  private _completed(jobId: string, returnvalue: unknown): void {
    const p = this._pending.get(jobId);
    if (p === undefined) return;
    this._pending.delete(jobId);
    try {
      p.resolve({ ok: true, value: decodeValue(returnvalue as string) });
    } catch (e) {
      p.reject(new TypeError(`${p.label}: its result could not be decoded`, { cause: e }));
    }
  }

  private _failed(jobId: string, reason: string): void {
    const p = this._pending.get(jobId);
    if (p === undefined) return;
    this._pending.delete(jobId);
    p.reject(errorFromReason(String(reason), p.label));
  }
}

/** Closes a client, giving up after a while (a client that never connected may not answer). */
async function closeQuietly(c: { close(): Promise<void>; disconnect?(): Promise<void> }): Promise<void> {
  const t = timeoutAfter(2_000, () => new Error("close timed out"));
  try {
    await Promise.race([c.close(), t.promise]);
  } catch {
    await c.disconnect?.().catch(noop);
  } finally {
    t.clear();
  }
}

async function closeClients(c: Clients): Promise<void> {
  await Promise.all([closeQuietly(c.events), closeQuietly(c.producer)]);
  await closeQuietly(c.queue);
}
