/**
 * The check every std reader of a hand-written iterator makes on what `next()` gave.
 * @module
 */
import { describeValue } from "../core/index.ts";

/**
 * @internal `r` when it is an object (an iterator result), else a TypeError naming `what` and
 * what `next()` gave instead, as `for await` refuses it ("Iterator result … is not an
 * object"), not a "Cannot read properties of undefined" from deep inside.
 */
export function iterResult<T>(what: string, r: unknown): IteratorResult<T> {
  if (r !== null && (typeof r === "object" || typeof r === "function")) return r as IteratorResult<T>;
  throw new TypeError(`${what}: the iterator's next() gave ${describeValue(r)}, not an iterator result object`);
}
