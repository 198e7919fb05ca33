/**
 * `abortable`: @std/async's abortable, for promises, loopwork futures and async iterables.
 * @module
 */
import { checkOptions, checkSignal, describeValue, isAbortSignal, isThenable, type Future, isFuture, SignalFuture } from "../core/index.ts";
import { iterResult } from "./iter-result.ts";
import { settleFrom } from "./deadline.ts";

/**
 * Makes waiting on `p` abortable: settles as `p` does, unless `signal` aborts first, in
 * which case it rejects with `signal.reason` (or is cancelled, when the reason is a
 * `CancelledError`, as a task's signal gives). `p` itself keeps running.
 *
 * For an async iterable, returns an async generator that yields its values until the
 * signal aborts, then throws the reason and closes the source.
 *
 * @throws {TypeError} when `signal` is neither the platform's `AbortSignal` (a lookalike or
 *   a Proxy is refused) nor options `{ signal }`, or `p` is neither kind
 * @example
 * ```ts
 * import { abortable, delay } from "loopwork";
 *
 * const ac = new AbortController();
 * const slow = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 100));
 * setTimeout(() => ac.abort(new Error("stop")), 10);
 * try {
 *   await abortable(slow, ac.signal);
 * } catch (e) {
 *   console.log((e as Error).message); // "stop"
 * }
 * await delay(100); // let `slow` finish
 * ```
 */
export function abortable<T>(p: PromiseLike<T> | Future<T>, signal?: AbortSignal | AbortableOptions): Future<T>;
export function abortable<T>(p: AsyncIterable<T>, signal?: AbortSignal | AbortableOptions): AsyncGenerator<T>;
export function abortable<T>(
  p: PromiseLike<T> | Future<T> | AsyncIterable<T>,
  signal?: AbortSignal | AbortableOptions,
): Future<T> | AsyncGenerator<T> {
  const s = signalArgument(signal);
  if (isFuture(p) || isThenable(p)) {
    const f = new SignalFuture<T>();
    f._watch(s);
    // Always follow `p`, even when the signal has aborted: its rejection is then handled.
    settleFrom(f, p as PromiseLike<T> | Future<T>);
    return f;
  }
  if (p !== null && typeof (p as AsyncIterable<T>)?.[Symbol.asyncIterator] === "function") {
    return s === undefined ? passthrough(p as AsyncIterable<T>) : abortableIterable(p as AsyncIterable<T>, s);
  }
  throw new TypeError(`abortable(): expects a promise, a future or an async iterable, got ${describeValue(p)}`);
}

/**
 * @internal The signal of `abortable()`'s second argument: `undefined`, an AbortSignal, or
 * options `{ signal }`. Anything else (a signal lookalike, a Proxy) is a TypeError naming it.
 */
export function signalArgument(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  // Options written as an object literal are taken as options without the platform's brand
  // check, which costs an exception (microseconds) on a value that is not a signal: that
  // made `abortable(p, { signal })` 18 times slower. (A real signal whose prototype was
  // replaced by `Object.prototype` or null would be taken as options: not a case to serve.)
  if (!isObjectLiteral(signal) && isAbortSignal(signal)) return signal;
  if (signal === null || typeof signal !== "object" || hasAborted(signal)) {
    throw new TypeError(`abortable(): signal must be an AbortSignal or options { signal }, got ${describeValue(signal)}`);
  }
  checkOptions("abortable()", signal, ["signal"]);
  return checkSignal("abortable()", (signal as AbortableOptions).signal);
}

/** Is `x` an object whose prototype is `Object.prototype` or null? Never throws (a Proxy's trap may). */
function isObjectLiteral(x: unknown): boolean {
  if (x === null || typeof x !== "object") return false;
  try {
    const proto = Object.getPrototypeOf(x);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

/**
 * Has `x` an `aborted` (own or inherited, as an object made from `AbortSignal.prototype`)?
 * Such a value was meant as a signal, not as options. Never throws (a Proxy's trap may).
 */
function hasAborted(x: object): boolean {
  try {
    return "aborted" in x;
  } catch {
    return true;
  }
}

/**
 * Options of `abortable()`, as @std/async's (unstable) form `abortable(p, { signal })`.
 *
 * @example
 * ```ts
 * import { abortable, type AbortableOptions } from "loopwork";
 *
 * const options: AbortableOptions = { signal: AbortSignal.timeout(1_000) };
 * console.log(await abortable(Promise.resolve(1), options)); // 1
 * ```
 */
export interface AbortableOptions {
  /** Aborting it stops the wait; without one, `abortable` only passes `p` through. */
  signal?: AbortSignal | undefined;
}


async function* passthrough<T>(source: AsyncIterable<T>): AsyncGenerator<T, unknown, undefined> {
  return yield* source;
}

async function* abortableIterable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  signal.throwIfAborted();
  const it = source[Symbol.asyncIterator]();
  let completed = false;
  try {
    for (;;) {
      const next = it.next(); // first: when it throws, no listener is left on the signal
      const f = new SignalFuture<IteratorResult<T>>();
      f._watch(signal);
      settleFrom(f, next);
      const { done, value } = iterResult<T>("abortable()", await f);
      if (done) {
        // As @std/async: the source's return value is the generator's.
        completed = true;
        const r = await it.return?.(value);
        return r?.value;
      }
      yield value;
    }
  } finally {
    // Close the source on abort or early exit (not awaited: it may be stuck in next()).
    if (!completed) Promise.resolve(it.return?.()).then(undefined, () => {});
  }
}
