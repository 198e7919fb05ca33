/**
 * The checks of what a caller passes in, one home each, so that every layer rejects bad input
 * by the same rule and in the same words: an options object (each key one the function
 * knows, so a misspelt option such as `{ clok: "virtual" }` throws a TypeError naming it and
 * the known ones instead of being silently ignored), a duration in milliseconds, an
 * `AbortSignal`, and the short description of a bad value that every message ends with.
 * @module
 */

import type { Coroutine } from "./future.ts";

/**
 * @internal A short, safe description of a value for error messages. It never throws: a
 * Proxy whose traps throw, or an object whose `constructor` (or a function whose `name`) is a
 * throwing getter, is described by its type alone.
 */
export function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (typeof x === "function") return `function ${nameOf(() => x.name) || "(anonymous)"}`;
  if (typeof x === "string") return `string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x)}`;
  if (typeof x === "object") {
    const ctor = nameOf(() => (x as { constructor?: { name?: unknown } }).constructor?.name);
    return ctor ? `${ctor} object` : "object";
  }
  return `${typeof x} ${String(x)}`;
}

/** A name read by `read`, if it is a string; "" when it is not or reading it throws. */
function nameOf(read: () => unknown): string {
  try {
    const name = read();
    return typeof name === "string" ? name : "";
  } catch {
    return "";
  }
}

/**
 * @internal Throws a TypeError unless `options` is `undefined` or an object whose own
 * keys are all in `known`. `what` names the function or class in the message
 * (`run()`, `Queue`, `WorkerPool`); `path` prefixes a nested object's keys
 * (`resourceLimits.`), which then appear unquoted: `unknown WorkerPool option
 * resourceLimits.maxOldGenMb (known: …)`.
 */
export function checkOptions(what: string, options: unknown, known: readonly string[], path = ""): void {
  if (options === undefined) return;
  const label = path === "" ? "options" : `option ${path.slice(0, -1)}`;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what} ${label} must be an object, got ${describeValue(options)}`);
  }
  let unknown: string | undefined;
  try {
    for (const key in options) {
      if (Object.hasOwn(options, key) && !known.includes(key)) {
        unknown = key;
        break;
      }
    }
  } catch {
    // A Proxy whose traps throw: our error, naming the problem, rather than the trap's.
    throw new TypeError(`${what} ${label} must be an object whose keys can be read, got ${describeValue(options)}`);
  }
  if (unknown !== undefined) {
    const name = path === "" ? JSON.stringify(unknown) : path + unknown;
    throw new TypeError(`unknown ${what} option ${name} (known: ${known.join(", ")})`);
  }
}

/** @internal The longest delay a host's setTimeout takes (a signed 32-bit count of ms); a longer one fires after 1 ms. */
export const MAX_HOST_TIMEOUT: number = 2 ** 31 - 1;

/** @internal A time for a message or a description: whole milliseconds when it is one, else one decimal. */
export function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(1);
}

/** @internal What a duration in milliseconds may be, beyond a finite number >= 0. */
export interface MsRule {
  /** `0` is allowed (default `true`); when `false` the duration must be > 0. */
  zero?: boolean;
  /** `Infinity` is allowed and returned as it is (default `false`). */
  infinite?: boolean;
  /** Negative numbers are allowed: a deadline that has already passed (default `false`). */
  negative?: boolean;
}

/**
 * @internal A duration in milliseconds: a number, not NaN, >= 0 unless `rule` says
 * otherwise. Another type is a TypeError, a number out of range a RangeError; the message
 * names the function (`what`), the parameter or option (`name`) and the value.
 */
export function checkMs(what: string, name: string, ms: unknown, rule?: MsRule): number {
  if (typeof ms === "number" && ms >= 0 && ms !== Infinity) {
    if (ms > 0 || rule?.zero !== false) return ms;
  } else if (typeof ms === "number" && !Number.isNaN(ms)) {
    if (ms === Infinity ? rule?.infinite === true : rule?.negative === true) return ms;
  }
  throw msError(what, name, ms, rule, false);
}

/**
 * @internal A timeout in milliseconds: `undefined`, `null` or `Infinity` for none (`null`
 * returned), else a number ≥ 0 (or any number, with `rule.negative`), by `checkMs`'s rule.
 */
export function checkTimeout(what: string, name: string, ms: unknown, rule?: MsRule): number | null {
  if (ms === undefined || ms === null || ms === Infinity) return null;
  if (typeof ms === "number" && !Number.isNaN(ms) && (ms >= 0 || rule?.negative === true)) {
    if (ms !== 0 || rule?.zero !== false) return ms;
  }
  throw msError(what, name, ms, rule, true);
}

function msError(what: string, name: string, ms: unknown, rule: MsRule | undefined, none: boolean): Error {
  const finite = rule?.infinite === true || none ? "" : "finite ";
  const range = rule?.negative === true ? "" : rule?.zero === false ? " > 0" : " >= 0";
  const message = `${what}: ${name} must be a ${finite}number of milliseconds${range}` +
    `${none ? " (or null for none)" : ""}, got ${describeValue(ms)}`;
  return typeof ms === "number" ? new RangeError(message) : new TypeError(message);
}

/** The platform's `AbortSignal.prototype.aborted` getter: it throws unless `this` is an AbortSignal. */
const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;

/**
 * @internal Is `x` an AbortSignal of the platform? The check is the platform's own (its
 * `aborted` getter refuses any other `this`), not the shape: a lookalike object, one made
 * from `AbortSignal.prototype`, or a Proxy whose traps throw is not one, so the library never
 * runs a caller's getter or trap when it reads a signal's state, adds or removes its
 * listener. Not defended against: a Proxy that forwards the platform's own (symbol-keyed)
 * reads to a real signal passes that check, on Node and Deno alike, and is used as the
 * signal; its traps then run as the library reads it, and one that throws there (on
 * `aborted`, `addEventListener`, ...) throws out of the call that reads it.
 */
export function isAbortSignal(x: unknown): x is AbortSignal {
  if (x === null || typeof x !== "object") return false;
  try {
    abortedGetter.call(x);
    return true;
  } catch {
    return false;
  }
}

/**
 * @internal Checks an optional `signal` option: `undefined` or an AbortSignal of the
 * platform (see `isAbortSignal`); anything else is a TypeError naming it.
 */
export function checkSignal(what: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || isAbortSignal(signal)) return signal;
  throw new TypeError(`${what}: signal must be an AbortSignal, got ${describeValue(signal)}`);
}

/** @internal Is `x` a generator object (a coroutine)? Never throws: a Proxy whose traps throw is not one. */
export function isGenerator(x: unknown): x is Coroutine<unknown> {
  if (x === null || typeof x !== "object") return false;
  try {
    return typeof (x as Coroutine<unknown>).next === "function" &&
      typeof (x as Coroutine<unknown>).throw === "function" &&
      typeof (x as Coroutine<unknown>)[Symbol.iterator] === "function";
  } catch {
    return false;
  }
}

/**
 * @internal Is `x` a promise or another thenable? Never throws: an object whose `then`
 * getter throws counts as one, since a promise resolved with it rejects with that error, and
 * so does whoever takes it for a thenable and reads its `then` (`until()`, `await`).
 */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  if (x === null || (typeof x !== "object" && typeof x !== "function")) return false;
  try {
    return typeof (x as PromiseLike<unknown>).then === "function";
  } catch {
    return true;
  }
}
