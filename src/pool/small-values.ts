/**
 * V8's serialisation of small plain values, written and read in JavaScript: the base64 text
 * that `encodeValue` sends over JSON-only channels (a `"bullmq"` job's arguments and result,
 * a process worker's request), for the values most calls carry: `undefined`, `null`,
 * booleans, numbers, strings, and arrays and plain objects of them. Node's `node:v8` costs a
 * serialiser object and a native call per value; under Deno it is about 5 native calls and a
 * garbage-collected object each way, some 20 µs per `serialize()` on a busy machine, which
 * showed as a tenth of a cluster call's CPU time. The format is V8's own (version 15, what
 * Node 20 and Deno 2 write, and every V8 since reads; the bytes may differ only in how a
 * number or an integer key is written, never in the value read back), so either side may be
 * the other runtime or use `node:v8` itself; anything else — a Date, a Map, a typed array, a bigint, a
 * Proxy, a class instance, an object met twice, a sparse or decorated array, a large value —
 * is left to `node:v8` (`encodeSmall` answers undefined, `decodeSmall` NOT_SMALL), so what
 * crosses, and the errors for what cannot, are exactly node:v8's. A value with a getter is
 * left to node:v8 before the getter runs (it is found without being called), so a getter
 * runs once, in node:v8, even when the value turns out not to be small; so is a Proxy, before
 * any of its traps runs (node:v8 refuses one without running a trap).
 * @module
 */
import { types } from "node:util";

/** @internal What `decodeSmall` answers for data it leaves to node:v8. */
export const NOT_SMALL: unique symbol = Symbol("not small");

/** The most bytes (before base64) a value encoded here may take; a larger one goes to node:v8. */
const MAX_BYTES = 1024;
/** The most values (each array, object, element, key) one value may hold. */
const MAX_NODES = 256;
/** The deepest nesting of arrays and objects handled here. */
const MAX_DEPTH = 32;
/** The V8 serialisation format version written, and the oldest and newest read here. */
const VERSION = 15;
const OLDEST = 13;

// V8's tags (src/objects/value-serializer.cc).
const PADDING = 0x00;
const HEADER = 0xff;
const UNDEFINED = 0x5f; // _
const NULL = 0x30; // 0
const TRUE = 0x54; // T
const FALSE = 0x46; // F
const INT32 = 0x49; // I
const UINT32 = 0x55; // U
const DOUBLE = 0x4e; // N
const ONE_BYTE = 0x22; // "
const TWO_BYTE = 0x63; // c
const OBJECT = 0x6f; // o
const OBJECT_END = 0x7b; // {
const DENSE = 0x41; // A
const DENSE_END = 0x24; // $

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** The encoder's buffer (reused: a value is encoded in one synchronous pass). */
const out = new Uint8Array(MAX_BYTES + 16);
let pos = 0;
let nodes = 0;
let encoding = false;
/**
 * The objects and arrays met so far in this value (one met twice is left to node:v8): the
 * first SEEN_LISTED in a list searched end to end, the rest in a Set. (A Set alone costs a
 * value some 100–200 ns, most of it in `clear()`, which allocates a new table; most values
 * hold a few containers.)
 */
const SEEN_LISTED = 16;
const seenList: Array<object | undefined> = new Array<object | undefined>(SEEN_LISTED).fill(undefined);
const seenMore = new Set<object>();
let seenCount = 0;

/** True when `v` was met before in this value; else records it. */
function metBefore(v: object): boolean {
  const listed = seenCount < SEEN_LISTED ? seenCount : SEEN_LISTED;
  for (let i = 0; i < listed; i++) if (seenList[i] === v) return true;
  if (seenCount >= SEEN_LISTED) {
    if (seenMore.has(v)) return true;
    seenMore.add(v);
  } else {
    seenList[seenCount] = v;
  }
  seenCount++;
  return false;
}

/** Forgets the containers met (so no value is kept alive here). */
function forgetSeen(): void {
  if (seenCount > SEEN_LISTED) seenMore.clear();
  for (let i = seenCount < SEEN_LISTED ? seenCount : SEEN_LISTED; i > 0;) seenList[--i] = undefined;
  seenCount = 0;
}
const scratch = new DataView(new ArrayBuffer(8));
const { getPrototypeOf, keys } = Object;
/** Object.prototype.__lookupGetter__: finds a getter without running it, and allocates nothing. */
const lookupGetter = (Object.prototype as unknown as { __lookupGetter__(this: object, k: PropertyKey): unknown }).__lookupGetter__;
const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;

function varint(n: number): void {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
}

function putString(s: string): boolean {
  const n = s.length;
  if (pos + n * 2 + 8 > MAX_BYTES) return false;
  let oneByte = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) > 0xff) {
      oneByte = false;
      break;
    }
  }
  if (oneByte) {
    out[pos++] = ONE_BYTE;
    varint(n);
    for (let i = 0; i < n; i++) out[pos++] = s.charCodeAt(i);
    return true;
  }
  const bytes = n * 2;
  // V8 aligns a two-byte string's characters on an even offset with a padding byte.
  const lenBytes = bytes < 0x80 ? 1 : bytes < 0x4000 ? 2 : 3;
  if ((pos + 1 + lenBytes) & 1) out[pos++] = PADDING;
  out[pos++] = TWO_BYTE;
  varint(bytes);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    out[pos++] = c & 0xff;
    out[pos++] = c >>> 8;
  }
  return true;
}

/** Writes `v`; false when it is left to node:v8. */
function put(v: unknown, depth: number): boolean {
  if (++nodes > MAX_NODES || pos > MAX_BYTES) return false;
  switch (typeof v) {
    case "undefined":
      out[pos++] = UNDEFINED;
      return true;
    case "boolean":
      out[pos++] = v ? TRUE : FALSE;
      return true;
    case "number":
      if ((v | 0) === v && !Object.is(v, -0)) {
        out[pos++] = INT32;
        varint(((v << 1) ^ (v >> 31)) >>> 0);
      } else {
        out[pos++] = DOUBLE;
        scratch.setFloat64(0, v, true);
        for (let i = 0; i < 8; i++) out[pos++] = scratch.getUint8(i);
      }
      return true;
    case "string":
      return putString(v);
    case "object":
      break;
    default:
      return false;
  }
  if (v === null) {
    out[pos++] = NULL;
    return true;
  }
  // A Proxy first, before any of its traps could run (node:v8 refuses it without running one).
  if (depth >= MAX_DEPTH || types.isProxy(v) || metBefore(v)) return false;
  const proto = getPrototypeOf(v);
  if (proto === ARRAY_PROTO) {
    const a = v as unknown[];
    if (!Array.isArray(a)) return false;
    const n = a.length;
    // Dense, and no property beside the elements (V8 writes those; not handled here).
    if (n > MAX_NODES || keys(a).length !== n) return false;
    out[pos++] = DENSE;
    varint(n);
    // An element that is a getter runs once, in node:v8, never here first.
    for (let i = 0; i < n; i++) if (lookupGetter.call(a, i) !== undefined || !put(a[i], depth + 1)) return false;
    out[pos++] = DENSE_END;
    out[pos++] = 0;
    varint(n);
    return true;
  }
  // A plain object (V8 refuses a Proxy, an arguments object, a module namespace: so does node:v8 here).
  if (proto === OBJECT_PROTO ? types.isArgumentsObject(v) : proto !== null || types.isModuleNamespaceObject(v)) return false;
  out[pos++] = OBJECT;
  let count = 0;
  for (const k of keys(v)) {
    if (k === "__proto__") return false;
    // A getter runs once, in node:v8, never here first (so no getter runs before this walk ends).
    if (lookupGetter.call(v, k) !== undefined) return false;
    if (++nodes > MAX_NODES || !putString(k) || !put((v as Record<string, unknown>)[k], depth + 1)) return false;
    count++;
  }
  out[pos++] = OBJECT_END;
  varint(count);
  return true;
}

function base64(bytes: Uint8Array, n: number): string {
  let s = "";
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const x = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64[x >>> 18]! + B64[(x >>> 12) & 63]! + B64[(x >>> 6) & 63]! + B64[x & 63]!;
  }
  if (i + 1 === n) {
    const x = bytes[i]! << 16;
    s += B64[x >>> 18]! + B64[(x >>> 12) & 63]! + "==";
  } else if (i + 2 === n) {
    const x = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += B64[x >>> 18]! + B64[(x >>> 12) & 63]! + B64[(x >>> 6) & 63]! + "=";
  }
  return s;
}

/**
 * @internal `v` in V8's serialisation, as base64 (what `Buffer.from(serialize(v))
 * .toString("base64")` answers, up to how a number or an integer key is written), or
 * undefined when `v` is not a small plain value (node:v8 encodes it then).
 */
export function encodeSmall(v: unknown): string | undefined {
  // A getter that encodes a value itself while this one is written: node:v8 encodes that one.
  if (encoding) return undefined;
  encoding = true;
  pos = 0;
  nodes = 0;
  out[pos++] = HEADER;
  out[pos++] = VERSION;
  try {
    return put(v, 0) && pos <= MAX_BYTES ? base64(out, pos) : undefined;
  } finally {
    forgetSeen();
    encoding = false;
  }
}

// ---- reading ------------------------------------------------------------------------

/** The decoder's input (reused: a value is decoded in one synchronous pass). */
const input = new Uint8Array(MAX_BYTES + 3);
let at = 0;
let end = 0;
/** Thrown inside the reader for data it leaves to node:v8. */
const GIVE_UP: unique symbol = Symbol("give up");

function unbase64(s: string): boolean {
  const n = s.length;
  if (n === 0 || n % 4 !== 0 || (n / 4) * 3 > MAX_BYTES + 3) return false;
  let j = 0;
  for (let i = 0; i < n; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    const a = c0 < 128 ? B64_INDEX[c0]! : -1;
    const b = c1 < 128 ? B64_INDEX[c1]! : -1;
    if (a < 0 || b < 0) return false;
    input[j++] = (a << 2) | (b >> 4);
    if (c2 === 0x3d) {
      if (c3 !== 0x3d || i + 4 !== n) return false;
      break;
    }
    const c = c2 < 128 ? B64_INDEX[c2]! : -1;
    if (c < 0) return false;
    input[j++] = ((b & 15) << 4) | (c >> 2);
    if (c3 === 0x3d) {
      if (i + 4 !== n) return false;
      break;
    }
    const d = c3 < 128 ? B64_INDEX[c3]! : -1;
    if (d < 0) return false;
    input[j++] = ((c & 3) << 6) | d;
  }
  end = j;
  return true;
}

function readVarint(): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    if (at >= end || shift > 28) throw GIVE_UP;
    const b = input[at++]!;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return n;
    shift += 7;
  }
}

function readTag(): number {
  while (at < end && input[at] === PADDING) at++;
  if (at >= end) throw GIVE_UP;
  return input[at++]!;
}

function readString(tag: number): string {
  const n = readVarint();
  if (at + n > end) throw GIVE_UP;
  let s = "";
  if (tag === ONE_BYTE) {
    for (let i = 0; i < n; i++) s += String.fromCharCode(input[at + i]!);
  } else if (tag === TWO_BYTE) {
    if (n & 1) throw GIVE_UP;
    for (let i = 0; i < n; i += 2) s += String.fromCharCode(input[at + i]! | (input[at + i + 1]! << 8));
  } else {
    // UTF-8 (written by old V8s only): left to node:v8, which decodes it its own way.
    throw GIVE_UP;
  }
  at += n;
  return s;
}

function readKey(): string {
  const tag = readTag();
  if (tag === ONE_BYTE || tag === TWO_BYTE) {
    const k = readString(tag);
    if (k === "__proto__") throw GIVE_UP;
    return k;
  }
  if (tag === INT32 || tag === UINT32 || tag === DOUBLE) return String(readNumber(tag));
  throw GIVE_UP;
}

function readNumber(tag: number): number {
  if (tag === DOUBLE) {
    if (at + 8 > end) throw GIVE_UP;
    for (let i = 0; i < 8; i++) scratch.setUint8(i, input[at + i]!);
    at += 8;
    return scratch.getFloat64(0, true);
  }
  const n = readVarint();
  if (n > 0xffffffff) throw GIVE_UP;
  return tag === UINT32 ? n : (n >>> 1) ^ -(n & 1);
}

function read(depth: number): unknown {
  const tag = readTag();
  switch (tag) {
    case UNDEFINED:
      return undefined;
    case NULL:
      return null;
    case TRUE:
      return true;
    case FALSE:
      return false;
    case INT32:
    case UINT32:
    case DOUBLE:
      return readNumber(tag);
    case ONE_BYTE:
    case TWO_BYTE:
      return readString(tag);
    case DENSE: {
      if (depth >= MAX_DEPTH) throw GIVE_UP;
      const n = readVarint();
      if (n > end - at) throw GIVE_UP;
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(read(depth + 1));
      // Properties beside the elements, or a hole: left to node:v8.
      if (readTag() !== DENSE_END || readVarint() !== 0 || readVarint() !== n) throw GIVE_UP;
      return a;
    }
    case OBJECT: {
      if (depth >= MAX_DEPTH) throw GIVE_UP;
      const o: Record<string, unknown> = {};
      let count = 0;
      for (;;) {
        while (at < end && input[at] === PADDING) at++;
        if (at < end && input[at] === OBJECT_END) {
          at++;
          break;
        }
        const k = readKey();
        const v = read(depth + 1);
        // Defined, as V8 does, even where Object.prototype has a read-only property of that name.
        if (k in OBJECT_PROTO) Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
        else o[k] = v;
        count++;
      }
      if (readVarint() !== count) throw GIVE_UP;
      return o;
    }
    default:
      throw GIVE_UP;
  }
}

/**
 * @internal The value in `data` (base64 of V8's serialisation), or NOT_SMALL when it is not
 * a small plain value written as `encodeSmall` writes one (node:v8 decodes it then, and
 * reports what is wrong with data it cannot read).
 */
export function decodeSmall(data: string): unknown {
  if (!unbase64(data) || end < 3 || input[0] !== HEADER) return NOT_SMALL;
  at = 1;
  try {
    const version = readVarint();
    if (version < OLDEST || version > VERSION) return NOT_SMALL;
    return read(0);
  } catch (e) {
    if (e === GIVE_UP) return NOT_SMALL;
    throw e;
  }
}
