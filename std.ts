/**
 * loopwork/std: a drop-in for Deno's @std/async 1.x — `abortable`, `deadline`, `debounce`,
 * `delay`, `MuxAsyncIterator`, `poll`, `pooledMap`, `retry`, `RetryError`, `tee` and the
 * unstable `throttle`, `pooledMapSettled` and options forms — with std's signatures, defaults,
 * messages, error types and Promise results. They are loopwork's jobs (see `loopwork`),
 * wrapped to std's shapes: inside `run()` they still wait on the loop's clock. It imports no
 * worker pool and no npm package.
 *
 * @example
 * ```ts
 * import { delay, retry } from "loopwork/std";
 *
 * const answer = await retry(async () => {
 *   await delay(10);
 *   return 42;
 * });
 * console.log(answer); // 42
 * ```
 * @module
 */
import type { Future } from "./src/core/future.ts";
import * as lw from "./src/std/index.ts";
import { signalArgument } from "./src/std/abortable.ts";
import { deadlineWith } from "./src/std/deadline.ts";
import { pooledMapEager } from "./src/std/pooled_map.ts";

export type {
  AbortableOptions,
  DeadlineOptions,
  DebouncedFunction,
  DebounceOptions,
  DelayOptions,
  PollOptions,
  PooledMapSettledOptions,
  RetryOptions,
  ThrottledFunction,
  ThrottleOptions,
  Tuple,
} from "./src/std/index.ts";
export { debounce, MuxAsyncIterator, poll, pooledMapSettled, RetryError, tee, throttle } from "./src/std/index.ts";

/**
 * Options of the options form `pooledMap(items, fn, { poolLimit, signal })`, as @std/async's.
 *
 * @example
 * ```ts
 * import { type PooledMapOptions } from "loopwork/std";
 *
 * const options: PooledMapOptions = { poolLimit: 2, signal: AbortSignal.timeout(1_000) };
 * ```
 */
export interface PooledMapOptions {
  /** Most calls running at once, an integer >= 1. */
  poolLimit: number;
  /** Aborting it stops the mapping: the running results are yielded, then the iteration throws. */
  signal?: AbortSignal;
}

function toPromise<T>(f: Future<T> | PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => f.then(resolve, reject));
}

/**
 * @std/async's `delay`: a Promise resolved after `ms` milliseconds (negative or NaN: 0),
 * rejected with the signal's reason on abort.
 *
 * @example
 * ```ts
 * import { delay } from "loopwork/std";
 *
 * await delay(10);
 * ```
 */
export function delay(ms: number, options: lw.DelayOptions = {}): Promise<void> {
  return toPromise(lw.delay(ms, options));
}

/**
 * @std/async's `deadline`: settles as `p`, or rejects with the `DOMException` named
 * `"TimeoutError"` (as an `AbortSignal.timeout` gives) after `ms` milliseconds, or with the
 * signal's reason on abort. `p` keeps running.
 *
 * @example
 * ```ts
 * import { deadline, delay } from "loopwork/std";
 *
 * try {
 *   await deadline(delay(1_000), 10);
 * } catch (e) {
 *   console.log((e as DOMException).name); // "TimeoutError"
 * }
 * ```
 */
export async function deadline<T>(p: Promise<T>, ms: number, options: lw.DeadlineOptions = {}): Promise<T> {
  return await deadlineWith(p, ms, options, timedOut);
}

function timedOut(): DOMException {
  return new DOMException("Signal timed out.", "TimeoutError");
}

/**
 * @std/async's `abortable` (with the unstable `{ signal }` and no-signal forms): a promise
 * settled as `p` unless the signal aborts first (then rejected with its reason); for an
 * async iterable, a generator that stops with the reason and returns the source's return value.
 *
 * @example
 * ```ts
 * import { abortable } from "loopwork/std";
 *
 * const ac = new AbortController();
 * const never = new Promise<string>(() => {});
 * ac.abort(new Error("stop"));
 * await abortable(never, ac.signal).catch((e) => console.log(e.message)); // "stop"
 * ```
 */
export function abortable<T>(p: Promise<T>, signal?: AbortSignal | lw.AbortableOptions): Promise<T>;
export function abortable<T>(p: AsyncIterable<T>, signal?: AbortSignal | lw.AbortableOptions): AsyncGenerator<T>;
export function abortable<T>(
  p: Promise<T> | AsyncIterable<T>,
  signal?: AbortSignal | lw.AbortableOptions,
): Promise<T> | AsyncGenerator<T> {
  if (p instanceof Promise) {
    // Without a signal, std passes `p` through; anything else but a signal is refused there.
    return signalArgument(signal) === undefined ? p : toPromise(lw.abortable(p, signal));
  }
  return lw.abortable(p, signal);
}

/**
 * @std/async's `retry`: a Promise of the first success of `fn`, retried with exponential
 * backoff and jitter; a bad option rejects with a `RangeError` (std's messages).
 *
 * @example
 * ```ts
 * import { retry } from "loopwork/std";
 *
 * let n = 0;
 * console.log(await retry(() => (++n < 2 ? Promise.reject(new Error("flaky")) : n), { minTimeout: 10 })); // 2
 * ```
 */
export async function retry<T>(fn: (() => Promise<T>) | (() => T), options?: lw.RetryOptions): Promise<T> {
  return await lw.retry<T>(() => fn(), options);
}

/**
 * @std/async's `pooledMap`, both forms: `pooledMap(poolLimit, items, fn)` and the unstable
 * `pooledMap(items, fn, poolLimit | { poolLimit, signal })`. Results come in input order.
 * As std's, the calls start when it is created, whether or not anyone iterates, and the
 * results of calls that finished behind a slow one are held until it settles, without a
 * limit (`poolLimit` bounds the calls running, not the results held).
 *
 * @example
 * ```ts
 * import { pooledMap } from "loopwork/std";
 *
 * for await (const x of pooledMap([1, 2, 3], async (n) => n * 2, { poolLimit: 2 })) console.log(x);
 * ```
 */
export function pooledMap<T, R>(
  poolLimit: number,
  array: Iterable<T> | AsyncIterable<T>,
  iteratorFn: (data: T) => Promise<R>,
): AsyncIterableIterator<R>;
export function pooledMap<T, R>(
  array: Iterable<T> | AsyncIterable<T>,
  iteratorFn: (data: T) => Promise<R>,
  options: number | PooledMapOptions,
): AsyncIterableIterator<R>;
export function pooledMap<T, R>(
  a: number | Iterable<T> | AsyncIterable<T>,
  b: Iterable<T> | AsyncIterable<T> | ((data: T) => Promise<R>),
  c: ((data: T) => Promise<R>) | number | PooledMapOptions,
): AsyncIterableIterator<R> {
  if (typeof a === "number") {
    const fn = c as (data: T) => Promise<R>;
    return pooledMapEager(a, b as Iterable<T>, (x: T) => fn(x));
  }
  const fn = b as (data: T) => Promise<R>;
  return pooledMapEager(a, (x: T) => fn(x), c as number | PooledMapOptions);
}
