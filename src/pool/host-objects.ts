/**
 * Objects of the runtime's own classes (host objects: a `URL`, a `BlockList`, a `KeyObject`,
 * a `Headers`…) as they cross to or from a worker. Their state lives outside their own
 * fields (internal slots, private fields), so a channel that does not know the class writes
 * them as `{}`, silently: Node 20's structured clone does so for a `URL` or an `AbortSignal`,
 * Node 24's and Deno's serialiser (a child process's channel) for a `BlockList` or a
 * `KeyObject`. Which classes a channel keeps differs by runtime and version, so it is asked,
 * once per class: an instance is copied the way that channel copies it, and the class
 * crosses when the copy is still of that class; else each such value fails its own call,
 * named (see `findUnsendable`).
 * @module
 */
import { createRequire } from "node:module";
import { deserialize, serialize } from "node:v8";
import { isDeno } from "./packages.ts";

/** @internal The verdict on a runtime class that crosses as itself: its fields are not walked. */
export const INTACT = 0;
/** @internal The verdict on a class whose values are data to walk (a user's class, a Map, an Error…). */
export const WALK = 1;

/** The structured-clone types of the language: walked as data, never asked. */
const DATA: readonly unknown[] = [Object, Array, Map, Set, Date, RegExp, Error, Boolean, Number, String, BigInt, Symbol, Promise];

/**
 * The runtime's classes that are not globals but that a task may hand around as values, by
 * name: the builtin module that exports each (the globals, `URL`, `Headers`, `Blob`,
 * `CryptoKey`, `AbortSignal`…, need no list). Histograms' classes are not exported: see
 * `isRuntimeClass`.
 */
const MODULE_OF: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  BlockList: "node:net",
  SocketAddress: "node:net",
  KeyObject: "node:crypto",
  X509Certificate: "node:crypto",
  MIMEType: "node:util",
  MIMEParams: "node:util",
  Histogram: "node:perf_hooks",
  RecordableHistogram: "node:perf_hooks",
  IntervalHistogram: "node:perf_hooks",
}));

let load: ((id: string) => Record<string, unknown>) | null | undefined;

/** A builtin module's exports, or undefined (no `require` here, or no such module). */
function builtin(id: string): Record<string, unknown> | undefined {
  try {
    load ??= createRequire(import.meta.url) as unknown as (id: string) => Record<string, unknown>;
    return load(id);
  } catch {
    load ??= null;
    return undefined;
  }
}

/**
 * Is `ctor`, the constructor of prototype `p`, a class of the runtime: the global of its
 * name, or the export of its name of the module MODULE_OF names? (A user's class of the same
 * name is not.) Reading a global may load the module behind it (Node defines many web
 * classes as lazy getters): it is read only for a class of that name.
 */
function isRuntimeClass(p: object, ctor: unknown, name: string): boolean {
  if (typeof ctor !== "function" || DATA.includes(ctor)) return false;
  // Errors are data (their name, message and fields cross), but for DOMException, whose name
  // and message live in internal slots: Node 20 copies it as `{}`, a child process's channel
  // as a bare `Error`.
  if (p instanceof Error && ctor !== (globalThis as { DOMException?: unknown }).DOMException) return false;
  const d = Object.getOwnPropertyDescriptor(globalThis, name);
  if (d !== undefined && ("value" in d ? d.value : d.get?.call(globalThis)) === ctor) return true;
  const id = MODULE_OF[name];
  if (id === undefined) return false;
  const m = builtin(id);
  if (m === undefined) return false;
  if (m[name] === ctor) return true;
  if (typeof m.createHistogram !== "function") return false;
  return Object.prototype.isPrototypeOf.call(p, (m.createHistogram as () => object)());
}

/** Verdicts by the value's own prototype, for a thread's channel (structured clone) and a process's (V8's serialiser). */
const verdicts = [new WeakMap<object, string | number>(), new WeakMap<object, string | number>()];

/**
 * @internal How `o` (an object whose prototype `proto` is neither `Object.prototype` nor
 * `null`) crosses a thread's channel, or a child process's when `toProcess`: INTACT (a
 * runtime class the channel keeps: not walked), WALK (data: a user's class, whose own
 * fields cross, or a structured-clone type), or why it cannot cross (a runtime class the
 * channel refuses or would write as something else). Decided once per prototype, by
 * copying `o` as the channel does. Never throws.
 */
export function hostVerdict(o: object, proto: object, toProcess: boolean): string | number {
  const memo = verdicts[toProcess ? 1 : 0]!;
  const known = memo.get(proto);
  if (known !== undefined) return known;
  let verdict: string | number = WALK;
  try {
    for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      const ctor: unknown = Object.getOwnPropertyDescriptor(p, "constructor")?.value;
      const name: unknown = typeof ctor === "function" ? ctor.name : undefined;
      if (typeof name !== "string" || name === "" || !isRuntimeClass(p, ctor, name)) continue;
      verdict = probe(o, p, name, toProcess);
      break;
    }
  } catch {
    verdict = WALK; // A prototype chain that cannot be read: the walk reports what it cannot read.
  }
  memo.set(proto, verdict);
  return verdict;
}

/** Copies `o` as the channel does: INTACT when the copy is still an instance of the class of prototype `p`. */
function probe(o: object, p: object, name: string, toProcess: boolean): string | number {
  const where = toProcess ? "a child process" : "a worker";
  let copy: unknown;
  try {
    copy = toProcess ? deserialize(serialize(o)) : structuredClone(o);
  } catch (e) {
    const s = e instanceof Error ? e.message : String(e);
    return `it is ${article(name)} ${name}, which cannot cross to ${where}: ${s.split("\n")[0]!.slice(0, 120)}`;
  }
  if (copy !== null && typeof copy === "object" && Object.prototype.isPrototypeOf.call(p, copy)) {
    if (!toProcess && clonedByThreadRegistry(o)) {
      return `it is ${article(name)} ${name}, which Deno copies only within one thread (a worker cannot read it): send its data instead`;
    }
    return INTACT;
  }
  const as = copy !== null && typeof copy === "object" ? (Object.getPrototypeOf(copy) as { constructor?: { name?: unknown } } | null)?.constructor?.name : typeof copy;
  const into = as === "Object" ? "a plain object (its state stays behind)" : `${article(String(as))} ${String(as)}`;
  return `it is ${article(name)} ${name}, which would arrive at ${where} as ${into}: send its data instead`;
}

/**
 * Did the copy go through a registry of the copying thread? Deno clones some of its Node
 * classes (a `Histogram`) by an id the object takes on its first copy (a `[[cloneId]]`
 * symbol), which only the thread that made it can look up: a copy on the same thread is of
 * the class, but a worker fails to read the message ("could not deserialize value"), and
 * Deno's worker then reads nothing more.
 */
function clonedByThreadRegistry(o: object): boolean {
  if (!isDeno) return false;
  for (const k of Object.getOwnPropertySymbols(o)) if (k.description === "[[cloneId]]") return true;
  return false;
}

function article(name: string): string {
  // By sound: "a URL", "a Uint8Array"; "an X509Certificate".
  return /^[AEIOX]/.test(name) ? "an" : "a";
}
