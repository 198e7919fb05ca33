/**
 * What a `"bullmq"` pool and a `loopwork worker` agree on: the job's data (a task name and
 * V8-serialised arguments, never code), how a task's error crosses as a failed job, the
 * custom event that cancels a running job, the Redis URL, and the lock timings.
 * @module
 */
import type { ConnectionOptions } from "bullmq";
import { PoolConnectionError } from "./errors.ts";
import { deserializeError, type SerializedError, serializeError } from "./protocol.ts";

/** @internal A job's data: `a` the base64 V8 encoding of the arguments (or the items, with `b`). */
export interface JobData {
  a: string;
  b?: 1;
}

/** @internal The custom QueueEvents event by which a pool asks workers to stop a running job. */
export const CANCEL_EVENT = "loopwork:cancel";

/** @internal Lock and stall-check timings: a dead worker's job is retried within ~10 s. */
export const LOCK_DURATION_MS = 5_000;
/** @internal */
export const STALLED_INTERVAL_MS = 4_000;

/** @internal Finished jobs kept (by count), so `waitUntilFinished`-style checks never race their removal. */
export const KEEP_FINISHED = { count: 1_000 } as const;

const ENVELOPE = "loopwork-error:";

/**
 * @internal The message of the Error a worker throws when a task fails: a JSON envelope
 * keeping the error's name, message, code and cause (BullMQ keeps only the message).
 */
export function errorEnvelope(e: unknown): string {
  const s = serializeError(e);
  delete s.stack;
  return ENVELOPE + JSON.stringify(s);
}

/** @internal The error a pool's caller sees for a failed job's `failedReason`. */
export function errorFromReason(reason: string, label: string): Error {
  if (reason.startsWith(ENVELOPE)) {
    try {
      return deserializeError(JSON.parse(reason.slice(ENVELOPE.length)) as SerializedError);
    } catch {
      // not ours after all: fall through
    }
  }
  return new Error(`${label} failed on a worker: ${reason}`);
}

/** @internal A URL without its password, for messages. */
export function describeConnection(connection: string | ConnectionOptions): string {
  if (typeof connection === "string") {
    const url = new URL(connection);
    if (url.password !== "") url.password = "***";
    return url.href;
  }
  const o = connection as { host?: string; port?: number; path?: string };
  if (typeof o.path === "string") return o.path;
  return `${o.host ?? "localhost"}:${o.port ?? 6379}`;
}

/**
 * @internal BullMQ connection options for a Redis URL or options object, with a connect
 * timeout and the settings BullMQ's blocking connections need.
 */
export function connectionOptions(connection: string | ConnectionOptions, connectTimeoutMs: number): ConnectionOptions {
  if (typeof connection !== "string") return connection;
  const url = new URL(connection);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new PoolConnectionError(`the Redis URL ${describeConnection(connection)} names no valid database number`);
  }
  const options: Record<string, unknown> = {
    host: url.hostname.replace(/^\[|\]$/g, "") || "localhost",
    port: url.port === "" ? 6379 : Number(url.port),
    db,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: null,
  };
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  if (url.protocol === "rediss:") options.tls = { servername: url.hostname };
  return options as ConnectionOptions;
}
