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

/** @internal The verdict on a runtime class that crosses as itself: its fields are not walked. */
export const INTACT = 0;
/** @internal The verdict on a class whose values are data to walk (a user's class, a Map, an Error…). */
export const WALK = 1;

/** The runtime classes, by prototype: their names (filled on first use, see `runtimeClasses`). */
let runtime: Map<object, string> | null = null;

/** What the structured-clone types of the language are: walked as data, never asked. */
const DATA: readonly unknown[] = [Object, Array, Map, Set, Date, RegExp, Error, Boolean, Number, String, BigInt, Symbol];

/**
 * Builtin modules whose classes a task may hand around as values (the rest of the runtime's
 * classes are globals: `URL`, `Headers`, `Blob`, `CryptoKey`, `AbortSignal`…).
 */
const MODULES: readonly string[] = ["node:net", "node:crypto", "node:util", "node:worker_threads", "node:perf_hooks"];

function addClass(into: Map<object, string>, name: string, value: unknown): void {
  if (typeof value !== "function" || !/^[A-Z]/.test(name)) return;
  const proto = (value as { prototype?: unknown }).prototype;
  if (proto === null || typeof proto !== "object" || into.has(proto)) return;
  if (DATA.includes(value) || proto instanceof Error || Object.getPrototypeOf(proto) === Object.getPrototypeOf(Int8Array.prototype)) return;
  if (value === ArrayBuffer || value === SharedArrayBuffer || value === DataView || value === Promise) return;
  into.set(proto, name);
}

/** The runtime's classes (globals and the classes of MODULES), by prototype. */
function runtimeClasses(): Map<object, string> {
  if (runtime !== null) return runtime;
  const found = new Map<object, string>();
  const g = globalThis as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(g)) {
    if (!/^[A-Z]/.test(name)) continue;
    const d = Object.getOwnPropertyDescriptor(g, name);
    // Node defines many web classes as lazy getters: reading them only loads their module.
    let v: unknown;
    try {
      v = d === undefined ? undefined : "value" in d ? d.value : d.get?.call(g);
    } catch {
      continue;
    }
    addClass(found, name, v);
  }
  let require: ((id: string) => Record<string, unknown>) | undefined;
  try {
    require = createRequire(import.meta.url) as unknown as (id: string) => Record<string, unknown>;
  } catch {
    // No require here: the globals alone.
  }
  for (const id of MODULES) {
    try {
      const m = require?.(id);
      if (m === undefined) continue;
      for (const name of Object.keys(m)) addClass(found, name, m[name]);
      // perf_hooks makes histograms without exporting their class.
      if (typeof m.createHistogram === "function") {
        const h = (m.createHistogram as () => object)();
        for (let p = Object.getPrototypeOf(h) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
          const c = (p as { constructor?: { name?: unknown } }).constructor;
          if (!found.has(p) && typeof c?.name === "string") found.set(p, c.name);
        }
      }
    } catch {
      // A module this runtime lacks.
    }
  }
  return (runtime = found);
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
  const classes = runtimeClasses();
  let verdict: string | number = WALK;
  try {
    for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      const name = classes.get(p);
      if (name === undefined) continue;
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
  if (copy !== null && typeof copy === "object" && Object.prototype.isPrototypeOf.call(p, copy)) return INTACT;
  const as = copy !== null && typeof copy === "object" ? (Object.getPrototypeOf(copy) as { constructor?: { name?: unknown } } | null)?.constructor?.name : typeof copy;
  const into = as === "Object" ? "a plain object (its state stays behind)" : `${article(String(as))} ${String(as)}`;
  return `it is ${article(name)} ${name}, which would arrive at ${where} as ${into}: send its data instead`;
}

function article(name: string): string {
  return /^[AEIOU]/.test(name) ? "an" : "a";
}
