/**
 * The message protocol between a pool (main side, src/pool/) and its worker runtime
 * (workers/runtime.ts). Both sides import these types and the error (de)serialisation, so a
 * change to the wire format is a change in one file.
 * @module
 */
import { Buffer } from "node:buffer";
import { deserialize, serialize } from "node:v8";
import type { TransferListItem } from "node:worker_threads";

/** @internal What the pool asks a worker to do. */
export type CallRequest =
  /** Call the task `task` of `module` with `args`. */
  | { op: "call"; module: string; task: string; args: unknown[] }
  /** Call the task once per item (`task(item)`), in order; answer with the array of results. */
  | { op: "batch"; module: string; task: string; items: unknown[] }
  /** Rebuild a self-contained function from its source and call it with `args` (toThread). */
  | { op: "function"; source: string; args: unknown[] }
  /** A request in V8's serialisation, base64-encoded: for channels that carry only JSON. */
  | { op: "encoded"; data: string };

/** @internal What a worker answers; a failure is an answer too, never a thrown error. */
export type CallResponse = { ok: true; value: unknown } | { ok: false; error: SerializedError };

/**
 * @internal The short form of a call of the pool's own task module to a worker *thread*,
 * which knows that module from its `workerData`: the task's name alone when it takes no
 * arguments, else `[name, ...args]`. A thread answers every request (short or not) with
 * the bare result, and fails it by throwing a `ThreadFailure`, which tinypool carries as
 * its own error. Each message is then one object smaller both ways than a `CallRequest`
 * and a `CallResponse`, which counts where every message is walked or cloned per object
 * (Deno's worker_threads layer walks each one).
 */
export type ShortCall = string | [task: string, ...args: unknown[]];

/** @internal How a worker thread fails a request: tinypool sends the thrown value as its error. */
export interface ThreadFailure {
  loopworkError: SerializedError;
}

/** @internal Is `e` (a rejection from tinypool) a task's failure, rather than a crash? */
export function isThreadFailure(e: unknown): e is ThreadFailure {
  return e !== null && typeof e === "object" && !(e instanceof Error) && "loopworkError" in e;
}

/**
 * @internal The envelope of a message on the own thread backend's private channel (see
 * thread-backend.ts). Deno's `node:worker_threads` MessagePort visits every own enumerable
 * property of every message it delivers (to give the MessagePorts inside Node's methods),
 * index by index in a typed array or an array: a 16 MB Uint8Array took seconds, and 200 MB
 * threw "Invalid array length" in its listener, which killed the process. A Map's entries
 * are no properties, so that walk does not enter it, while structured clone copies (or moves)
 * its content as usual: a sealed message is `Map { 0 => message }`, or `[map, ...ports]`
 * when the transfer list moves MessagePorts, so that the walk still finds them (they are the
 * same objects inside the map). Node's ports do no such walk; the envelope costs one small
 * object there.
 */
export function seal(message: unknown, transfer: readonly TransferListItem[]): unknown {
  const map = new Map<0, unknown>([[0, message]]);
  let ports: unknown[] | undefined;
  for (let i = 0; i < transfer.length; i++) {
    const t = transfer[i];
    if (!(t instanceof ArrayBuffer)) (ports ??= [map]).push(t);
  }
  return ports ?? map;
}

/** @internal What `unseal` returns for a message that is not sealed. */
export const NOT_SEALED: unique symbol = Symbol("not sealed");

/** @internal The message inside what `seal` made, or NOT_SEALED. */
export function unseal(raw: unknown): unknown {
  if (raw instanceof Map) return raw.get(0);
  if (Array.isArray(raw) && raw[0] instanceof Map) return (raw[0] as Map<0, unknown>).get(0);
  return NOT_SEALED;
}

/**
 * @internal How a thread of loopwork's own thread backend (see thread-backend.ts) answers:
 * a primitive result bare, any other one sealed (see `seal`), a failure `{ loopworkError }`.
 */
export function threadAnswer(value: unknown, transfer: readonly TransferListItem[]): unknown {
  return value !== null && typeof value === "object" ? seal(value, transfer) : value;
}

/** @internal The result in what `threadAnswer` (or a failure) sent, or its error thrown. */
export function threadResult(raw: unknown): unknown {
  if (raw !== null && typeof raw === "object") {
    const value = unseal(raw);
    if (value !== NOT_SEALED) return value;
    if (Object.hasOwn(raw, "loopworkError")) throw deserializeError((raw as ThreadFailure).loopworkError);
  }
  return raw;
}

/** @internal How an error message names what a worker was running. */
export function describeRequest(req: CallRequest): string {
  switch (req.op) {
    case "call":
    case "batch":
      return `task ${JSON.stringify(req.task)}`;
    case "function":
      return "a toThread() function";
    default:
      return "a call";
  }
}

/** @internal The result of an answer, or its error thrown. */
export function unwrapResponse(r: CallResponse): unknown {
  if (r.ok) return r.value;
  throw deserializeError(r.error);
}

/**
 * @internal What `process.exit()` or an uncaught error in a worker thread posts on the
 * parent port just before the thread ends (see workers/runtime.ts).
 */
export interface WorkerExitNotice {
  loopworkWorkerExit: number;
  reason?: string;
}

/**
 * @internal What a worker thread of the own backend posts when it finds that a task's
 * synchronous run was stopped by its heap limit (Deno: see workers/runtime.ts); it then exits.
 * No answer can look like it: an answer that holds an object is sealed (see `seal`).
 */
export interface OutOfMemoryNotice {
  loopworkOutOfMemory: true;
}

/** @internal An error as it crosses the boundary: structured clone keeps only standard names. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
  cause?: SerializedError;
}

/** @internal Turns any thrown value into a SerializedError that keeps its name and message. */
export function serializeError(e: unknown, depth = 0): SerializedError {
  if (e instanceof Error || (e !== null && typeof e === "object" && "message" in e)) {
    const err = e as Error & { code?: unknown };
    const out: SerializedError = {
      name: typeof err.name === "string" ? err.name : "Error",
      message: String(err.message),
    };
    if (typeof err.stack === "string") out.stack = err.stack;
    if (err.code !== undefined && (typeof err.code === "string" || typeof err.code === "number")) out.code = err.code;
    if (err.cause !== undefined && depth < 4) out.cause = serializeError(err.cause, depth + 1);
    return out;
  }
  return { name: "Error", message: `a non-Error value was thrown: ${String(e)}` };
}

const STANDARD: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * @internal Rebuilds an error on the receiving side: a standard class when the name is one
 * (so `instanceof TypeError` holds), otherwise an `Error` carrying the original `name`.
 */
export function deserializeError(s: SerializedError): Error {
  const Ctor = STANDARD[s.name] ?? Error;
  const e = new Ctor(s.message, s.cause !== undefined ? { cause: deserializeError(s.cause) } : undefined);
  if (e.name !== s.name) {
    Object.defineProperty(e, "name", { value: s.name, configurable: true, writable: true, enumerable: false });
  }
  if (s.code !== undefined) (e as Error & { code?: unknown }).code = s.code;
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}

/** @internal The key of the process-wide set of values marked by `transfer()`. */
export const TRANSFER_KEY: unique symbol = Symbol.for("loopwork.transfer") as never;

/** @internal The set of values marked to be moved rather than copied (one per realm). */
export function transferMarks(): WeakSet<object> {
  const g = globalThis as unknown as Record<symbol, WeakSet<object> | undefined>;
  return (g[TRANSFER_KEY] ??= new WeakSet<object>());
}

/** @internal The transfer list of a call that moves nothing (shared: never added to). */
export const NO_TRANSFERS: readonly TransferListItem[] = Object.freeze([]);

/** @internal What must be put in a transfer list to move a marked value. */
export function transferablesOf(value: unknown): TransferListItem[] {
  if (value === null || typeof value !== "object") return [];
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    return buf instanceof ArrayBuffer ? [buf] : [];
  }
  return [value as TransferListItem];
}

/** @internal Collects the transfer list of the marked values among `values` (top level only). */
export function collectTransfers(values: readonly unknown[]): readonly TransferListItem[] {
  const marks = transferMarks();
  let out: TransferListItem[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && typeof v === "object" && marks.has(v)) {
      out ??= [];
      for (const t of transferablesOf(v)) if (!out.includes(t)) out.push(t);
    }
  }
  return out ?? NO_TRANSFERS;
}

/** @internal Encodes a value with V8's serialiser as base64 text (for JSON-only channels). */
export function encodeValue(value: unknown): string {
  return Buffer.from(serialize(value)).toString("base64");
}

/** @internal The inverse of `encodeValue`. */
export function decodeValue(data: string): unknown {
  return deserialize(Buffer.from(data, "base64"));
}
