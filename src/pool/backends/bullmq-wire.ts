/**
 * What a `"bullmq"` pool and a `loopwork worker` agree on: the job's data (a task name and
 * V8-serialised arguments, never code), how a task's error crosses as a failed job, the
 * channel that cancels a running job on the worker holding it, the Redis URL, and the lock
 * timings.
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BullmqConnection as ConnectionOptions } from "../package-types.ts";
import { loadBullmq, loadFailure } from "../packages.ts";
import { PoolConnectionError } from "../errors.ts";
import { deserializeError, type SerializedError, serializeError } from "../protocol.ts";

/**
 * @internal A job's data: `a` the base64 V8 encoding of the arguments (or the items, with
 * `b`); `m` the identity of the task module the pool was built on (absent for a pool built
 * without a module, which any worker of the queue serves).
 */
export interface JobData {
  a: string;
  b?: 1;
  m?: ModuleIdentity;
}

/**
 * @internal Which task module a job is for, comparable across machines: a pool and a worker
 * usually load the module from different paths (and one may run the `.ts` source, the other
 * the built `.js`), so the path is never compared. `n` is the file name without directory
 * and extension; `f` the number of exported functions; `h` the first 12 hex digits of the
 * SHA-256 of their sorted names. Two builds of the same module with the same functions
 * match; a module of another name, or with a function more or less, does not.
 */
export interface ModuleIdentity {
  n: string;
  f: number;
  h: string;
}

/** @internal The file name of a module URL without its directory and extension. */
export function moduleName(href: string): string {
  let last = href;
  try {
    last = new URL(href).pathname;
  } catch {
    // not a URL: take the string as a path
  }
  last = last.slice(last.lastIndexOf("/") + 1);
  try {
    last = decodeURIComponent(last);
  } catch {
    // keep it encoded
  }
  return last.replace(/\.(?:[cm]?[jt]s|[jt]sx)$/, "");
}

/** @internal The identity of a loaded module namespace (see ModuleIdentity). */
export function identityOf(href: string, ns: Record<string, unknown>): ModuleIdentity {
  const names = Object.keys(ns).filter((k) => typeof ns[k] === "function").sort();
  const h = createHash("sha256").update(names.join("\n")).digest("hex").slice(0, 12);
  return { n: moduleName(href), f: names.length, h };
}

/** @internal A module identity for messages: `"tasks" (12 functions, exports hash 0123456789ab)`. */
export function describeIdentity(m: ModuleIdentity): string {
  return `${JSON.stringify(m.n)} (${m.f} exported function${m.f === 1 ? "" : "s"}, exports hash ${m.h})`;
}

/** @internal Whether a job's module identity is a well-formed one. */
export function isIdentity(m: unknown): m is ModuleIdentity {
  const o = m as ModuleIdentity | null;
  return typeof o === "object" && o !== null && typeof o.n === "string" && typeof o.f === "number" &&
    typeof o.h === "string";
}

/**
 * @internal Loads the task module at `href` and returns its identity. A `file:` URL whose
 * file does not exist, a module that cannot be loaded or one without exported functions
 * throws an error that names the module.
 */
export async function loadIdentity(href: string): Promise<ModuleIdentity> {
  if (href.startsWith("file:")) {
    const path = fileURLToPath(href);
    if (!existsSync(path)) throw new Error(`the task module ${path} does not exist`);
  }
  let ns: Record<string, unknown>;
  try {
    ns = await import(href) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`the task module ${href} cannot be loaded: ${loadFailure(href, e)}`, { cause: e });
  }
  const id = identityOf(href, ns);
  if (id.f === 0) throw new TypeError(`the task module ${href} exports no functions`);
  return id;
}

/**
 * @internal The pub/sub channel on which the worker whose BullMQ id is `workerId` takes
 * cancel requests for the jobs it holds: `bull:QUEUE:loopwork:cancel:WORKER`. A worker
 * subscribes to its own channel only, so it reads no other traffic (no queue event stream).
 */
export function cancelChannel(queue: string, workerId: string): string {
  return `${cancelChannelPrefix(queue)}${workerId}`;
}

/** @internal The part of `cancelChannel()` before the worker's id. */
export function cancelChannelPrefix(queue: string): string {
  return `bull:${queue}:loopwork:cancel:`;
}

/**
 * @internal The key that marks job `jobId` as cancelled (for a minute), so a worker whose
 * subscription was down when the request was published still finds it once it is back.
 */
export function cancelMarkKey(queue: string, jobId: string): string {
  return `bull:${queue}:${jobId}:loopwork-cancel`;
}

/** @internal How long a cancel mark is kept, ms. */
export const CANCEL_MARK_MS = 60_000;

/**
 * @internal Sends a cancel request to the worker that holds a job, in one round trip:
 * BullMQ's lock of a running job (KEYS[1], `bull:QUEUE:ID:lock`) holds that worker's token,
 * `WORKERID:N`; the script marks the job (KEYS[2], see `cancelMarkKey`) and publishes the
 * job's id (ARGV[2]) on the worker's channel (ARGV[1] is the channel prefix). A job without a
 * lock (finished, or never started) is left alone: it answers 0, else the subscribers reached.
 */
export const CANCEL_SCRIPT: string = `
local token = redis.call('GET', KEYS[1])
if not token then return 0 end
local worker = string.match(token, '^([^:]+):')
if not worker then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ${CANCEL_MARK_MS})
return redis.call('PUBLISH', ARGV[1] .. worker, ARGV[2])
`;

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

/** @internal Whether a Redis error says the credentials were refused (waiting will not help). */
export function isAuthError(e: unknown): boolean {
  return e instanceof Error && /^(?:WRONGPASS|NOAUTH|NOPERM)\b|invalid password/i.test(e.message);
}

/** @internal The error for a Redis that refused the credentials. */
export function refusedError(connection: string | ConnectionOptions, e: unknown): PoolConnectionError {
  return new PoolConnectionError(
    `Redis at ${describeConnection(connection)} refused the connection: ${(e as Error).message}`,
    { cause: e },
  );
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

/**
 * @internal Connects to Redis and pings it within `connectTimeoutMs`, then disconnects;
 * throws PoolConnectionError naming the server (at once when it refuses the credentials).
 */
export async function checkRedis(connection: string | ConnectionOptions, connectTimeoutMs: number): Promise<void> {
  const mq = await loadBullmq();
  const where = describeConnection(connection);
  let lastError: unknown;
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const timer = setTimeout(() =>
    fail(
      new PoolConnectionError(
        `cannot reach Redis at ${where} within ${connectTimeoutMs} ms` +
          (lastError instanceof Error ? `: ${lastError.message}` : ""),
        lastError !== undefined ? { cause: lastError } : undefined,
      ),
    ), connectTimeoutMs);
  const queue = new mq.Queue("loopwork-check", { connection: connectionOptions(connection, connectTimeoutMs) });
  queue.on("error", (e) => {
    lastError = e;
    if (isAuthError(e)) fail(refusedError(connection, e));
  });
  try {
    await Promise.race([
      queue.waitUntilReady().then(async () => {
        const client = (await queue.getBackend().client) as unknown as { ping(): Promise<unknown> };
        await client.ping();
      }),
      failed,
    ]);
  } finally {
    clearTimeout(timer);
    // Not yet connected: close() disconnects at once; connected: QUIT, answered at once.
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([queue.close().catch(() => {}), new Promise((r) => (t = setTimeout(r, 1_000)))]);
    clearTimeout(t);
    queue.getBackend().client.then((c) => (c as unknown as { disconnect(): void }).disconnect(), () => {});
  }
}
