/**
 * The one check every options object of loopwork goes through: it is an object, and each of
 * its keys is one the function knows, so a misspelt option (`{ clok: "virtual" }`,
 * `{ maxSize: 1 }`) throws a TypeError naming it and the known ones instead of being
 * silently ignored.
 * @module
 */
import { describeValue } from "./future.ts";

/**
 * @internal Throws a TypeError unless `options` is `undefined` or an object whose own
 * keys are all in `known`. `what` names the function or class in the message
 * (`run()`, `Queue`, `WorkerPool`); `path` prefixes a nested object's keys
 * (`resourceLimits.`), which then appear unquoted: `unknown WorkerPool option
 * resourceLimits.maxOldGenMb (known: …)`.
 */
export function checkOptions(what: string, options: unknown, known: readonly string[], path = ""): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what} ${path === "" ? "options" : `option ${path.slice(0, -1)}`} must be an object, got ${describeValue(options)}`);
  }
  for (const key in options) {
    if (!Object.hasOwn(options, key) || known.includes(key)) continue;
    const name = path === "" ? JSON.stringify(key) : path + key;
    throw new TypeError(`unknown ${what} option ${name} (known: ${known.join(", ")})`);
  }
}

/**
 * @internal A timeout in milliseconds: `undefined`, `null` or `Infinity` for none (`null`
 * returned), else a number ≥ 0. A negative one or NaN is a RangeError, another type a
 * TypeError.
 */
export function checkTimeout(what: string, name: string, ms: unknown): number | null {
  if (ms === undefined || ms === null || ms === Infinity) return null;
  if (typeof ms !== "number") {
    throw new TypeError(`${what}: ${name} must be a number of milliseconds (or null for none), got ${describeValue(ms)}`);
  }
  if (Number.isNaN(ms) || ms < 0) {
    throw new RangeError(`${what}: ${name} must be >= 0 milliseconds (or null for none), got ${describeValue(ms)}`);
  }
  return ms;
}
