/**
 * The message protocol between a pool (main side, src/pool/) and its workers
 * (src/pool/worker/). Both sides import these types and the error (de)serialisation, so a
 * change to the wire format is a change in one file.
 * @module
 */
import { Buffer } from "node:buffer";
import { types } from "node:util";
import { DefaultDeserializer, DefaultSerializer, deserialize, serialize } from "node:v8";
import type { MessagePort, TransferListItem } from "node:worker_threads";
import { describeValue } from "../core/index.ts";
import { isDeno } from "./packages.ts";
import { decodeSmall, encodeSmall, NOT_SMALL } from "./small-values.ts";
import { hostVerdict, INTACT, WALK } from "./host-objects.ts";

/** @internal What the pool asks a worker to do. */
export type CallRequest =
  /** Call the task `task` of `module` with `args`. (`id`: see `AbortNotice`.) */
  | { op: "call"; module: string; task: string; args: unknown[]; id?: number }
  /** Call the task once per item (`task(item)`), in order; answer with the array of results. */
  | { op: "batch"; module: string; task: string; items: unknown[]; id?: number }
  /** Rebuild a self-contained function from its source and call it with `args` (toThread). */
  | { op: "function"; source: string; args: unknown[]; id?: number }
  /**
   * Call the task and send each value it yields on `port` (see `StreamMessage`); the answer
   * is its return value. Threads and inline only: a MessagePort cannot reach a process.
   */
  | { op: "stream"; module: string; task: string; args: unknown[]; port: MessagePort; id?: number }
  /** A request in V8's serialisation, base64-encoded: for channels that carry only JSON. */
  | { op: "encoded"; data: string; large?: undefined }
  /**
   * A request whose arguments are larger than the host's check of them (see
   * `findUnsendable`), encoded by the host itself (see `encodeLarge`), so that what cannot
   * cross fails on the host and what the worker cannot read fails there as its answer.
   * `what` names the request inside (see `describeRequest`), which is answered as if sent.
   */
  | { op: "encoded"; data?: undefined; large: Encoded; what: string };

/** @internal What a worker answers; a failure is an answer too, never a thrown error. */
export type CallResponse =
  | { ok: true; value: unknown; encoded?: undefined }
  /** A large result, encoded by the worker itself (see `encodeLarge`): `value` is unused. */
  | { ok: true; value?: undefined; encoded: Encoded }
  | { ok: false; error: SerializedError };

/**
 * @internal The short form of a call of the pool's own task module to a worker *thread*,
 * which knows that module from its `workerData`: the task's name alone when it takes no
 * arguments, else `[name, ...args]`. A thread answers every request (short or not) with
 * the bare result, and fails it by throwing a `ThreadFailure`, which tinypool carries as
 * its own error. Each message is then one object smaller both ways than a `CallRequest`
 * and a `CallResponse`, which counts where every message is walked or cloned per object
 * (Deno's worker_threads layer walks each one).
 */
export type ShortCall = string | [task: string, ...args: unknown[]] | [id: number, task: string, ...args: unknown[]];

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
 * backends/thread.ts). Deno's `node:worker_threads` MessagePort visits every own enumerable
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
 * Deno's ports deliver a bare `undefined` as `null` (inside a value it stays `undefined`):
 * there, `undefined` is sealed as objects are.
 */
const SEAL_UNDEFINED = isDeno;

/**
 * @internal How a thread of loopwork's own thread backend (see backends/thread.ts) answers:
 * a primitive result bare (`undefined` sealed under Deno: see SEAL_UNDEFINED), any other one
 * sealed (see `seal`), a failure `{ loopworkError }`.
 */
export function threadAnswer(value: unknown, transfer: readonly TransferListItem[]): unknown {
  return (value !== null && typeof value === "object") || (value === undefined && SEAL_UNDEFINED) ? seal(value, transfer) : value;
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
    case "stream":
      return `task ${JSON.stringify(req.task)}`;
    case "function":
      return "a toThread() function";
    case "encoded":
      if (req.large !== undefined) return req.what;
      return "a call";
    default:
      return "a call";
  }
}

/** @internal The result of an answer, or its error thrown. */
export function unwrapResponse(r: CallResponse, what = "a call"): unknown {
  if (r.ok) return r.encoded !== undefined ? decodeLarge(r.encoded, what) : r.value;
  throw deserializeError(r.error);
}

/**
 * @internal What `process.exit()` or an uncaught error in a tinypool worker thread posts on
 * the parent port just before the thread ends (see src/pool/worker/tinypool-worker.ts). Tinypool reports it
 * only as the text of an "Unexpected message" error, which a task posting a look-alike on
 * `parentPort` could forge: `token`, a secret the pool gives its workers (`workerData`),
 * tells the runtime's notice from any other message.
 */
export interface WorkerExitNotice {
  loopworkWorkerExit: number;
  token: string;
  reason?: string;
}

/**
 * @internal The `reason` of a WorkerExitNotice from a tinypool worker thread that its runtime
 * stopped at its heap limit and left alive (Deno: see src/pool/worker/heap-watch.ts).
 */
export const OUT_OF_MEMORY_REASON = "ERR_WORKER_OUT_OF_MEMORY";

/**
 * @internal What a worker thread of the own backend posts when it finds that its runtime
 * stopped it at its heap limit and left it alive (Deno: see src/pool/worker/heap-watch.ts);
 * it then exits.
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

/** @internal How many causes of an error cross the boundary (a cause cycle stops there). */
export const MAX_CAUSES = 4;

/** @internal The longest error name kept; a longer one is cut (a name is an identifier). */
const MAX_NAME = 200;

/**
 * @internal The deepest nesting of a value that may cross to or from a worker. V8's
 * serialiser recurses per level and overflows the stack at 2 000–4 000 levels on a main
 * thread (less when the stack is already in use): a deeper value fails its call with a clear
 * error instead of killing the sender or, worse, the receiver (which cannot even tell whose
 * message it lost).
 */
export const MAX_DEPTH = 1_000;

/** How a value met by `findUnsendable` hangs from its parent (its key is formatted only when reported). */
const AT_INDEX = 0;
const AT_PROPERTY = 1;
const AT_MAP_KEY = 2;
const AT_MAP_VALUE = 3;
const AT_SET_ITEM = 4;

/** One value met by `findUnsendable`, with the way to it. */
interface Visit {
  readonly value: unknown;
  readonly how: number;
  readonly key: unknown;
  readonly parent: Visit | null;
  readonly depth: number;
}

function formatKey(v: Visit): string {
  switch (v.how) {
    case AT_INDEX:
      return `[${v.key as number}]`;
    case AT_PROPERTY:
      return `.${v.key as string}`;
    case AT_MAP_KEY:
      return "<key>";
    case AT_MAP_VALUE:
      return `.get(${safeString(v.key).slice(0, 20)})`;
    default:
      return "<item>";
  }
}

/** The path to `v` in the value walked, e.g. `.rows[3].get(k)`, cut to a readable length. */
function pathOf(v: Visit, whole: string): string {
  const keys: string[] = [];
  for (let at: Visit | null = v; at !== null && at.parent !== null; at = at.parent) keys.push(formatKey(at));
  if (keys.length === 0) return whole;
  keys.reverse();
  const full = keys.join("");
  return full.length <= 80 ? full : `${full.slice(0, 60)}…(${keys.length} levels)`;
}

/** Can `x` hold or be something that cannot be sent? (Primitives other than symbols cannot.) */
function worthVisiting(x: unknown): boolean {
  return x !== null && (typeof x === "object" || typeof x === "function" || typeof x === "symbol");
}

/** Is `b` (an ArrayBuffer) detached, moved away by an earlier transfer? Only an empty one may be. */
function isDetached(b: ArrayBuffer): boolean {
  if (b.byteLength !== 0) return false;
  try {
    new Uint8Array(b);
    return false;
  } catch {
    return true;
  }
}

/** The class of a MessagePort on this runtime (Node's and Deno's are the global one). */
const PortClass: (abstract new () => object) | undefined = (globalThis as { MessagePort?: abstract new () => object }).MessagePort;

/**
 * @internal Where in `value` something sits that cannot be sent to or from a worker, and
 * why: a function, a symbol, a promise, a weak collection, a field whose getter throws,
 * a detached ArrayBuffer (one moved away by an earlier `transfer()`, which a transfer list
 * would pass on empty), a runtime's object that the channel refuses or would write as
 * something else (a `URL`, a `KeyObject` to a process…: see `hostVerdict`), or nesting
 * deeper than MAX_DEPTH. When `moved` is given (what
 * moves with the value: see `collectTransfers`), a MessagePort not in it; when `toProcess`,
 * a bare SharedArrayBuffer, a Blob or any MessagePort, which a child process's channel cannot
 * carry (other host objects its serialiser refuses are found by encoding: see `sendable`).
 * `undefined` when none was found. The walk uses no
 * recursion (any depth is safe) and visits at most `budget.left` values (counting them
 * down, so one budget can span several values), so it bounds its cost
 * on huge values (what it did not visit is not checked: `budget.left` is then < 0). It never throws. `whole` names
 * the value in the answer when it is the culprit itself.
 */
export function findUnsendable(
  value: unknown,
  budget: { left: number },
  whole = "the value itself",
  toProcess = false,
  moved: readonly unknown[] | null = null,
): string | undefined {
  const seen = new Set<object>();
  const todo: Visit[] = [{ value, how: AT_PROPERTY, key: "", parent: null, depth: 0 }];
  let cut = false;
  try {
    while (todo.length > 0) {
      if (--budget.left < 0) return undefined;
      const at = todo.pop()!;
      const v = at.value;
      const t = typeof v;
      if (t === "function") return `${pathOf(at, whole)} cannot be cloned (it is a function)`;
      if (t === "symbol") return `${pathOf(at, whole)} cannot be cloned (it is a symbol)`;
      if (v === null || t !== "object") continue;
      const o = v as object;
      if (o instanceof ArrayBuffer || ArrayBuffer.isView(o)) {
        const b = o instanceof ArrayBuffer ? o : (o as ArrayBufferView).buffer;
        if (b instanceof ArrayBuffer && isDetached(b)) {
          return `${pathOf(at, whole)} cannot be cloned (its ArrayBuffer is detached: an earlier transfer() moved it away)`;
        }
        continue;
      }
      if (seen.has(o) || o instanceof Date || o instanceof RegExp) continue;
      if (toProcess && o instanceof SharedArrayBuffer) {
        return `${pathOf(at, whole)} cannot be cloned (it is a SharedArrayBuffer: shared memory cannot cross to a process)`;
      }
      // Node's serialiser refuses a Blob (or File); Deno's writes it as `{}`, losing its bytes.
      if (toProcess && o instanceof Blob) {
        return `${pathOf(at, whole)} cannot be cloned (it is a ${o.constructor.name}, which cannot cross to a process: send its bytes)`;
      }
      if (PortClass !== undefined && o instanceof PortClass) {
        if (toProcess) return `${pathOf(at, whole)} cannot be cloned (it is a MessagePort, which cannot cross to a process)`;
        if (moved !== null && !moved.includes(o)) {
          return `${pathOf(at, whole)} cannot be cloned (it is a MessagePort, which crosses only when moved with transfer())`;
        }
        continue; // it moves; its own fields are not data
      }
      if (types.isProxy(o)) return `${pathOf(at, whole)} cannot be cloned (it is a Proxy)`;
      if (o instanceof Promise || o instanceof WeakMap || o instanceof WeakSet) {
        return `${pathOf(at, whole)} cannot be cloned (it is a ${o.constructor.name})`;
      }
      const proto = Object.getPrototypeOf(o) as object | null;
      if (proto !== Object.prototype && proto !== null && !Array.isArray(o)) {
        // A runtime's own object (a URL, a KeyObject…): it crosses as itself, or not at all.
        const host = hostVerdict(o, proto, toProcess);
        if (host === INTACT) continue;
        if (host !== WALK) return `${pathOf(at, whole)} cannot be cloned (${host as string})`;
      }
      if (at.depth >= MAX_DEPTH) return `it is nested too deeply (more than ${MAX_DEPTH} levels, at ${pathOf(at, whole)})`;
      seen.add(o);
      const depth = at.depth + 1;
      // The children are visited before anything below them on the stack, and at most
      // `room` more values will be: no more than that are pushed, so a huge array or
      // object costs no more than the budget (not one Visit per element). They are pushed
      // in order, then reversed (last pushed, first visited), so the walk goes in order.
      const start = todo.length;
      const room = budget.left;
      if (Array.isArray(o)) {
        let i = 0;
        for (; i < o.length && todo.length - start < room; i++) {
          const x: unknown = o[i];
          if (worthVisiting(x)) todo.push({ value: x, how: AT_INDEX, key: i, parent: at, depth });
        }
        if (i < o.length) cut = true;
      } else if (o instanceof Map) {
        for (const [k, x] of o) {
          if (todo.length - start >= room) {
            cut = true;
            break;
          }
          if (worthVisiting(k)) todo.push({ value: k, how: AT_MAP_KEY, key: k, parent: at, depth });
          if (worthVisiting(x)) todo.push({ value: x, how: AT_MAP_VALUE, key: k, parent: at, depth });
        }
      } else if (o instanceof Set) {
        for (const x of o) {
          if (todo.length - start >= room) {
            cut = true;
            break;
          }
          if (worthVisiting(x)) todo.push({ value: x, how: AT_SET_ITEM, key: undefined, parent: at, depth });
        }
      } else {
        const keys = Object.keys(o);
        // An error is cloned with its message and cause, which are not enumerable.
        if (o instanceof Error) for (const k of ["message", "cause"]) if (Object.hasOwn(o, k)) keys.push(k);
        for (let i = 0; i < keys.length; i++) {
          if (todo.length - start >= room) {
            cut = true;
            break;
          }
          const k = keys[i]!;
          let x: unknown;
          try {
            x = (o as Record<string, unknown>)[k];
          } catch (e) {
            const where = pathOf({ value: undefined, how: AT_PROPERTY, key: k, parent: at, depth }, whole);
            return `reading ${where} threw ${describeThrown(e)}`;
          }
          if (worthVisiting(x)) todo.push({ value: x, how: AT_PROPERTY, key: k, parent: at, depth });
        }
      }
      for (let i = start, j = todo.length - 1; i < j; i++, j--) {
        const x = todo[i]!;
        todo[i] = todo[j]!;
        todo[j] = x;
      }
    }
    // Values left out for want of budget: say so as running out of it does.
    if (cut) budget.left = -1;
    return undefined;
  } catch (e) {
    // A Proxy whose traps throw, a Map whose iterator throws: it cannot be cloned either.
    return `it cannot be read (${describeThrown(e)})`;
  }
}

/** What reading a field threw (a getter, a Proxy trap), kept to say so in the message. */
class Unreadable {
  constructor(readonly error: unknown) {}
}

/** Reads `o[key]`; an `Unreadable` when the read throws. */
function readSafely(o: object, key: string): unknown {
  try {
    return (o as Record<string, unknown>)[key];
  } catch (e) {
    return new Unreadable(e);
  }
}

/** `String(x)` that never throws (a symbol, a throwing `toString`, a null-prototype object). */
export function safeString(x: unknown): string {
  try {
    return String(x);
  } catch {
    try {
      return Object.prototype.toString.call(x);
    } catch {
      return "[a value that cannot be printed]";
    }
  }
}

/** Is `e` an Error, or an object with a `message`? Never throws (a Proxy may). */
function isErrorLike(e: unknown): e is object {
  if (e === null || (typeof e !== "object" && typeof e !== "function")) return false;
  try {
    return e instanceof Error || "message" in e;
  } catch {
    // A Proxy whose traps throw: treat it as an error whose fields cannot be read.
    return true;
  }
}

/**
 * @internal Turns any thrown value into a SerializedError that keeps its name and message.
 * It never throws, whatever `e` is: getters and Proxy traps that throw, a non-string name,
 * a cause cycle (only MAX_CAUSES causes are kept), a symbol. Only strings (and a numeric
 * code) go into the result, so it can always be cloned or written as JSON.
 */
export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!isErrorLike(e)) return { name: "Error", message: `a non-Error value was thrown: ${safeString(e)}` };
  const rawName = readSafely(e, "name");
  const rawMessage = readSafely(e, "message");
  const name = typeof rawName === "string" && rawName !== "" ? rawName.slice(0, MAX_NAME) : "Error";
  const message = typeof rawMessage === "string"
    ? rawMessage
    : rawMessage instanceof Unreadable
    ? `(the error's message could not be read: ${describeThrown(rawMessage.error)})`
    : rawMessage === undefined
    ? ""
    : safeString(rawMessage);
  const out: SerializedError = { name, message };
  const stack = readSafely(e, "stack");
  if (typeof stack === "string") out.stack = stack;
  const code = readSafely(e, "code");
  if (typeof code === "string" || (typeof code === "number" && Number.isFinite(code))) out.code = code;
  const cause = readSafely(e, "cause");
  if (cause !== undefined && !(cause instanceof Unreadable) && depth < MAX_CAUSES) out.cause = serializeError(cause, depth + 1);
  return out;
}

/** @internal "TypeError: message" of a thrown value, never throwing itself. */
export function describeThrown(x: unknown): string {
  const s = serializeError(x, MAX_CAUSES);
  return `${s.name}: ${s.message}`;
}

/** The standard classes, by name; null prototype, so no name reaches Object.prototype. */
const STANDARD: Readonly<Record<string, ErrorConstructor>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, ErrorConstructor>, {
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  }),
);

/**
 * @internal Rebuilds an error on the receiving side: a standard class when the name is one
 * of them (so `instanceof TypeError` holds), otherwise an `Error` carrying the original
 * `name` as data. It never throws, whatever `s` holds (it may come from a hostile or broken
 * worker): a field of the wrong type is left out, and only MAX_CAUSES causes are rebuilt.
 */
export function deserializeError(s: unknown, depth = 0): Error {
  const o = (s !== null && typeof s === "object" ? s : {}) as Partial<Record<keyof SerializedError, unknown>>;
  const name = typeof o.name === "string" && o.name !== "" ? o.name : "Error";
  const message = typeof o.message === "string" ? o.message : "";
  const Ctor = Object.hasOwn(STANDARD, name) ? STANDARD[name]! : Error;
  const cause = o.cause !== undefined && depth < MAX_CAUSES ? deserializeError(o.cause, depth + 1) : undefined;
  const e = new Ctor(message, cause !== undefined ? { cause } : undefined);
  if (e.name !== name) {
    Object.defineProperty(e, "name", { value: name, configurable: true, writable: true, enumerable: false });
  }
  if (typeof o.code === "string" || typeof o.code === "number") (e as Error & { code?: unknown }).code = o.code;
  if (typeof o.stack === "string") e.stack = o.stack;
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

/**
 * @internal Encodes a value with V8's serialiser as base64 text (for JSON-only channels); a
 * small plain value in JavaScript (see small-values.ts), the same bytes.
 */
export function encodeValue(value: unknown): string {
  return encodeSmall(value) ?? Buffer.from(serialize(value)).toString("base64");
}

/**
 * @internal A value V8-serialised by loopwork itself (see `encodeLarge`), and the buffers
 * that travel beside it rather than inside it.
 */
export interface Encoded {
  data: Uint8Array;
  /** The ArrayBuffers moved with `transfer()`: in the message's transfer list, not in `data`. */
  moved?: ArrayBuffer[];
  /** The SharedArrayBuffers under typed arrays of the value: they cross as they are, still shared. */
  shared?: SharedArrayBuffer[];
}

/** The typed array classes a view out of band (see `LargeSerializer`) is rebuilt as, by index. */
const VIEWS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

/** How `LargeSerializer` wrote a typed array: its bytes (V8's way), or where its buffer travels. */
const VIEW_COPIED = 0;
const VIEW_SHARED = 1;
const VIEW_MOVED = 2;

/** Node's hooks of a serialiser, which its type declarations leave out. */
interface SerializerHooks {
  _writeHostObject(view: ArrayBufferView): void;
}
interface DeserializerHooks {
  _readHostObject(): unknown;
}

/** Thrown by `LargeSerializer` at a bare SharedArrayBuffer it cannot keep shared. */
class BareShared {}

/**
 * V8's serialiser, as node:v8 `serialize` uses it, except that a typed array on a
 * SharedArrayBuffer (when `share`) or on a buffer moved by `transfer()` is written as a
 * reference to that buffer, which crosses beside the data: the default writes its bytes,
 * so shared memory would come back a copy and a moved buffer would be copied.
 */
class LargeSerializer extends DefaultSerializer {
  readonly shared: SharedArrayBuffer[] = [];

  constructor(private readonly _moved: readonly ArrayBuffer[], private readonly _share: boolean) {
    super();
    for (let i = 0; i < _moved.length; i++) this.transferArrayBuffer(i, _moved[i]!);
  }

  _writeHostObject(view: ArrayBufferView): void {
    const kind = VIEWS.indexOf(view.constructor as (typeof VIEWS)[number]);
    const buffer = view.buffer;
    let at = -1;
    if (kind >= 0 && this._share && buffer instanceof SharedArrayBuffer) {
      at = this.shared.indexOf(buffer);
      if (at < 0) at = this.shared.push(buffer) - 1;
      this.writeUint32(VIEW_SHARED);
    } else if (kind >= 0 && (at = this._moved.indexOf(buffer as ArrayBuffer)) >= 0) {
      this.writeUint32(VIEW_MOVED);
    } else {
      this.writeUint32(VIEW_COPIED);
      (DefaultSerializer.prototype as unknown as SerializerHooks)._writeHostObject.call(this, view);
      return;
    }
    this.writeUint32(kind);
    this.writeUint32(at);
    this.writeDouble(view.byteOffset);
    this.writeDouble(view.byteLength);
  }

  _getSharedArrayBufferId(): never {
    // A bare one (not under a typed array) would need the receiver to know it by id, which
    // Deno's deserialiser cannot: the value goes as it is (see `encodeLarge`).
    throw this._share ? new BareShared() : new TypeError("#<SharedArrayBuffer> could not be cloned: shared memory cannot cross to a process");
  }
}

/** The inverse of `LargeSerializer`, given the buffers that crossed beside the data. */
class LargeDeserializer extends DefaultDeserializer {
  constructor(data: Uint8Array, private readonly _moved: readonly ArrayBuffer[], private readonly _shared: readonly SharedArrayBuffer[]) {
    super(data);
    for (let i = 0; i < _moved.length; i++) this.transferArrayBuffer(i, _moved[i]!);
  }

  _readHostObject(): unknown {
    const how = this.readUint32();
    if (how === VIEW_COPIED) return (DefaultDeserializer.prototype as unknown as DeserializerHooks)._readHostObject.call(this);
    const View = VIEWS[this.readUint32()];
    const buffer = how === VIEW_SHARED ? this._shared[this.readUint32()] : this._moved[this.readUint32()];
    const offset = this.readDouble();
    const bytes = this.readDouble();
    if (View === undefined || buffer === undefined) throw new TypeError("a typed array refers to a buffer that did not come");
    if (View === DataView) return new DataView(buffer, offset, bytes);
    const Typed = View as Uint8ArrayConstructor;
    return new Typed(buffer, offset, bytes / Typed.BYTES_PER_ELEMENT);
  }
}

/**
 * @internal A value too large for its sender to check all of it (the walk ran out of
 * budget: see `findUnsendable`) is encoded by the sender itself, so that a value which
 * cannot cross fails where that is found instead of past the reach of any handler: a
 * failed send in tinypool's worker kills the worker, and a value too deep for the
 * receiver's stack fails only as a "messageerror" on a port tinypool does not listen to,
 * so the call would never settle. `transfer` (ArrayBuffers: what `transfer()` marked)
 * travels beside the data, and so (when `share`: threads) do the SharedArrayBuffers under
 * typed arrays, which stay shared: send the result with `transferListOf`. `undefined` when
 * the value must go as it is: it holds a bare SharedArrayBuffer (when `share`) or its
 * transfer list something other than ArrayBuffers (a MessagePort). Throws the serialiser's
 * error (the caller names the value).
 */
export function encodeLarge(value: unknown, transfer: readonly TransferListItem[], share: boolean): Encoded | undefined {
  for (let i = 0; i < transfer.length; i++) if (!(transfer[i] instanceof ArrayBuffer)) return undefined;
  const moved = transfer as readonly ArrayBuffer[];
  const s = new LargeSerializer(moved, share);
  s.writeHeader();
  try {
    s.writeValue(value);
  } catch (e) {
    if (e instanceof BareShared) return undefined;
    throw e;
  }
  const b = s.releaseBuffer();
  // Its own buffer, so that it can be moved rather than copied.
  const data = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
  const out: Encoded = { data };
  if (moved.length > 0) out.moved = [...moved];
  if (s.shared.length > 0) out.shared = s.shared;
  return out;
}

/** @internal What to move with an `Encoded` value: its data and the buffers moved beside it. */
export function transferListOf(e: Encoded): TransferListItem[] {
  const list: TransferListItem[] = [e.data.buffer as ArrayBuffer];
  if (e.moved !== undefined) list.push(...e.moved);
  return list;
}

/** @internal The inverse of `encodeLarge`; throws the deserialiser's error (the caller names the value). */
export function decodeEncoded(e: Encoded): unknown {
  const d = new LargeDeserializer(e.data, e.moved ?? [], e.shared ?? []);
  d.readHeader();
  return d.readValue();
}

/** @internal The inverse of `encodeLarge` on the host: its failure names `what`, never a crash. */
export function decodeLarge(e: Encoded, what: string): unknown {
  try {
    return decodeEncoded(e);
  } catch (x) {
    const reason = describeThrown(x);
    throw new TypeError(`the result of ${what} could not be received from its worker: ${reason}`, { cause: x });
  }
}

/**
 * @internal What a tinypool worker *thread* answers for a large result it encoded (see
 * `encodeLarge`); `loopworkEncoded` is the pool's secret token (see WorkerExitNotice), so a
 * result of the same shape is never taken for it.
 */
export interface EncodedAnswer extends Encoded {
  loopworkEncoded: string;
}

/** @internal The inverse of `encodeValue`. */
export function decodeValue(data: string): unknown {
  const small = decodeSmall(data);
  return small !== NOT_SMALL ? small : deserialize(Buffer.from(data, "base64"));
}

/**
 * @internal The error for a request whose arguments (or batch items) could not be sent:
 * it names the first value that `fails` (serialising or cloning it throws) and what
 * `failure` said; `how` is the verb of the message ("serialised", "cloned").
 */
export function unsendableError(label: string, req: CallRequest, failure: unknown, fails: (v: unknown) => void, how: string): TypeError {
  const values = req.op === "batch" ? req.items : req.op === "call" ? req.args : [];
  const what = req.op === "batch" ? "item" : "argument";
  const message = failure instanceof Error ? failure.message : String(failure);
  for (let i = 0; i < values.length; i++) {
    try {
      fails(values[i]);
    } catch {
      return new TypeError(
        `${label}: ${what} ${i} (${describeValue(values[i])}) cannot be sent to a worker: it cannot be ${how} (${message})`,
        { cause: failure },
      );
    }
  }
  return new TypeError(`${label}: its arguments cannot be sent to a worker (${message})`, { cause: failure });
}

/**
 * @internal Host → worker: abort the signal of call `id` (see `taskSignal`), or, when `null`,
 * of the call the worker runs (the own thread backend's private port is ordered and carries
 * one call at a time). A worker running no such call ignores it: the call already answered.
 * Tinypool threads get it on a BroadcastChannel (see `abortChannelName`), child processes on
 * their IPC channel, which tinypool's worker entry leaves alone (no tinypool mark).
 */
export interface AbortNotice {
  loopworkAbort: number | null;
}

/** @internal Is `m` an AbortNotice? */
export function isAbortNotice(m: unknown): m is AbortNotice {
  return m !== null && typeof m === "object" && !Array.isArray(m) && Object.hasOwn(m, "loopworkAbort");
}

/**
 * @internal Worker → host, on a tinypool pool: call `id` waits for its task module to load
 * (`loading: true`), or no longer does. A call that times out meanwhile then says so, naming
 * the module, as the own thread backend's calls do from its shared count (`WorkerEntry.loading`).
 * Threads send it on the pool's BroadcastChannel (see `abortChannelName`), child processes on
 * their IPC channel.
 */
export interface LoadingNotice {
  loopworkLoading: number;
  loading: boolean;
}

/** @internal Is `m` a LoadingNotice? */
export function isLoadingNotice(m: unknown): m is LoadingNotice {
  return m !== null && typeof m === "object" && !Array.isArray(m) && typeof (m as LoadingNotice).loopworkLoading === "number";
}

/**
 * @internal Host → worker, on the own thread backend's private port, under Deno: end now
 * (the worker exits by itself). Deno's `terminate()` resolves, and its "exit" fires, while
 * the thread may still run a callback; a worker that ends itself runs nothing after its exit
 * (see `_retire` in backends/thread.ts).
 */
export interface StopNotice {
  loopworkStop: null;
}

/** @internal Is `m` a StopNotice? */
export function isStopNotice(m: unknown): m is StopNotice {
  return m !== null && typeof m === "object" && !Array.isArray(m) && Object.hasOwn(m, "loopworkStop");
}

/** @internal The BroadcastChannel on which a tinypool pool's threads hear of aborts. */
export function abortChannelName(token: string): string {
  return `loopwork-abort:${token}`;
}

/**
 * @internal The last message of a stream call's port. Worker → host: each value sealed (see
 * `seal`), then `STREAM_END` once the task stopped yielding (whatever the reason; its result
 * or error is the call's answer). Host → worker: a number, the credit of values it may send
 * (back-pressure: the worker waits when it has none).
 */
export const STREAM_END = "loopwork:end";
