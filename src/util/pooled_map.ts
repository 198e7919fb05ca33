/**
 * `pooledMap`: @std/async's pooledMap, with cancellation: leaving the loop early (or
 * aborting its signal) aborts the calls still running.
 * @module
 */
import { CancelledError } from "../errors.ts";
import { type Coroutine, describeValue, type Future, isFuture } from "../future.ts";
import { tryGetRunningLoop } from "../loop/running.ts";
import { checkSignal } from "./clock.ts";

/**
 * Options of `pooledMap()`.
 *
 * @example
 * ```ts
 * import { pooledMap, type PooledMapOptions } from "loopwork";
 *
 * const options: PooledMapOptions = { poolLimit: 2, signal: AbortSignal.timeout(5_000) };
 * for await (const n of pooledMap([1, 2, 3], async (x) => x * 2, options)) console.log(n);
 * ```
 */
export interface PooledMapOptions {
  /** Most calls running at once, an integer >= 1 (the options form `pooledMap(items, fn, { poolLimit })`). */
  poolLimit: number;
  /** Aborting it stops the mapping: running calls see their signal aborted, the iteration throws the reason. */
  signal?: AbortSignal;
}

/**
 * The mapping function: gets an item and a signal aborted when the mapping stops early.
 *
 * @example
 * ```ts
 * import { type PooledMapFunction } from "loopwork";
 *
 * const fetchText: PooledMapFunction<string, string> = async (url, signal) =>
 *   (await fetch(url, { signal })).text();
 * ```
 */
export type PooledMapFunction<T, R> = (item: T, signal: AbortSignal) => R | PromiseLike<R> | Future<R> | Coroutine<R>;

const MAPPING_FAILED = "Cannot complete the mapping as an error was thrown from an item";

function isGenerator(x: unknown): x is Coroutine<unknown> {
  return x !== null && typeof x === "object" && typeof (x as Coroutine<unknown>).next === "function" &&
    typeof (x as Coroutine<unknown>).throw === "function";
}

/**
 * Maps `iterable` through `fn` with at most `poolLimit` calls running at once, yielding
 * the results in input order. If a call fails, no new call starts; once the running ones
 * settle, the iteration throws an `AggregateError` of every failure (as @std/async).
 * Leaving the loop early, or aborting `options.signal`, aborts the signal each running
 * call received. Inside a loop, `fn` may return a coroutine, run as a task.
 *
 * @param poolLimit most calls running at once, an integer >= 1
 * @throws {RangeError} when `poolLimit` is not an integer >= 1
 * @example
 * ```ts
 * import { pooledMap, run, sleep } from "loopwork";
 *
 * await run(async () => {
 *   const results = pooledMap(2, [3, 1, 2], async (n) => {
 *     await sleep(n * 100);
 *     return n * 10;
 *   });
 *   for await (const r of results) console.log(r); // 30, 10, 20: input order, two at a time
 * }, { clock: "virtual" });
 * ```
 */
export function pooledMap<T, R>(
  poolLimit: number,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  options?: { signal?: AbortSignal },
): AsyncGenerator<R, void, undefined>;
export function pooledMap<T, R>(
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  options: number | PooledMapOptions,
): AsyncGenerator<R, void, undefined>;
export function pooledMap<T, R>(
  a: number | Iterable<T> | AsyncIterable<T>,
  b: Iterable<T> | AsyncIterable<T> | PooledMapFunction<T, R>,
  c?: PooledMapFunction<T, R> | number | PooledMapOptions,
  d: { signal?: AbortSignal } = {},
): AsyncGenerator<R, void, undefined> {
  if (typeof a === "number") {
    // @std/async's stable form: pooledMap(poolLimit, iterable, fn).
    if (!Number.isInteger(a) || a < 1) throw new RangeError("'poolLimit' must be a positive integer");
    return startPooled("pooledMap()", a, b as Iterable<T>, c as PooledMapFunction<T, R>, d.signal, false);
  }
  const { poolLimit, signal } = poolOptions("pool", c as number | PooledMapOptions);
  return startPooled("pooledMap()", poolLimit, a, b as PooledMapFunction<T, R>, signal, false);
}

/**
 * Options of `pooledMapSettled()`, as @std/async's.
 *
 * @example
 * ```ts
 * import { pooledMapSettled, type PooledMapSettledOptions } from "loopwork";
 *
 * const options: PooledMapSettledOptions = { poolLimit: 2 };
 * for await (const r of pooledMapSettled([1, 2], async (x) => x, options)) console.log(r.status);
 * ```
 */
export interface PooledMapSettledOptions {
  /** Most calls running at once, an integer >= 1. */
  poolLimit: number;
  /** Aborting it stops the mapping: results already running are yielded, then the iteration throws the reason. */
  signal?: AbortSignal;
}

/**
 * As `pooledMap`, but every call's outcome is yielded as a `PromiseSettledResult`, in input
 * order; a failing call does not stop the others. The iteration throws only when the
 * source throws or `signal` aborts (after the results already running), as @std/async's.
 *
 * @throws {RangeError} when `poolLimit` is not an integer >= 1
 * @example
 * ```ts
 * import { pooledMapSettled } from "loopwork";
 *
 * const out = [];
 * for await (const r of pooledMapSettled([1, 2, 3], async (n) => {
 *   if (n === 2) throw new Error("two");
 *   return n;
 * }, { poolLimit: 2 })) out.push(r.status);
 * console.log(out); // ["fulfilled", "rejected", "fulfilled"]
 * ```
 */
export function pooledMapSettled<T, R>(
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  options: PooledMapSettledOptions,
): AsyncGenerator<PromiseSettledResult<R>, void, undefined> {
  const { poolLimit, signal } = poolOptions("pool", options);
  return startPooled("pooledMapSettled()", poolLimit, iterable, fn, signal, true);
}

function poolOptions(verb: string, o: number | PooledMapOptions): { poolLimit: number; signal?: AbortSignal } {
  const { poolLimit, signal } = typeof o === "number" ? { poolLimit: o, signal: undefined } : (o ?? {}) as PooledMapOptions;
  if (!Number.isInteger(poolLimit) || poolLimit < 1) {
    throw new RangeError(`Cannot ${verb} as 'poolLimit' must be a positive integer: received ${poolLimit}`);
  }
  return { poolLimit, signal };
}

function startPooled<T, R>(
  what: string,
  poolLimit: number,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  signal: AbortSignal | undefined,
  settled: true,
): AsyncGenerator<PromiseSettledResult<R>, void, undefined>;
function startPooled<T, R>(
  what: string,
  poolLimit: number,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  signal: AbortSignal | undefined,
  settled: false,
): AsyncGenerator<R, void, undefined>;
function startPooled<T, R>(
  what: string,
  poolLimit: number,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  signal: AbortSignal | undefined,
  settled: boolean,
): AsyncGenerator<R | PromiseSettledResult<R>, void, undefined> {
  if (iterable === null || typeof iterable !== "object" ||
    (typeof (iterable as Iterable<T>)[Symbol.iterator] !== "function" &&
      typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] !== "function")) {
    throw new TypeError(`${what}: expects an iterable or async iterable, got ${describeValue(iterable)}`);
  }
  if (typeof fn !== "function") throw new TypeError(`${what}: fn must be a function, got ${describeValue(fn)}`);
  return mapPooled(poolLimit, iterable, fn, checkSignal(what, signal), settled);
}

type Outcome<R> = PromiseSettledResult<R>;

async function* mapPooled<T, R>(
  poolLimit: number,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  outer: AbortSignal | undefined,
  settled: boolean,
): AsyncGenerator<R | PromiseSettledResult<R>, void, undefined> {
  outer?.throwIfAborted();
  const ac = new AbortController();
  // Settles (never rejects) when `outer` aborts: every wait below races it.
  let onAbort: () => void = () => {};
  const aborted = new Promise<"aborted">((resolve) => (onAbort = () => resolve("aborted")));
  const stop = (): void => {
    ac.abort(outer!.reason);
    onAbort();
  };
  outer?.addEventListener("abort", stop, { once: true });
  const source = Symbol.asyncIterator in iterable
    ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (iterable as Iterable<T>)[Symbol.iterator]();
  // Results in input order; each settles to an outcome, never rejects.
  const results: Array<Promise<Outcome<R>>> = [];
  let running = 0;
  let sourceDone = false;
  let sourceError = null as { error: unknown } | null;
  let failed = false;
  let wake: (() => void) | null = null;
  const settledOne = (): void => {
    running--;
    const w = wake;
    wake = null;
    w?.();
  };

  const start = (item: T): void => {
    running++;
    const p = Promise.resolve()
      .then(() => callOne(fn, item, ac.signal))
      .then(
        (value): Outcome<R> => ({ status: "fulfilled", value }),
        (reason: unknown): Outcome<R> => {
          if (!settled) failed = true;
          return { status: "rejected", reason };
        },
      );
    p.then(settledOne);
    results.push(p);
  };

  const stopping = (): boolean => failed || sourceError !== null || ac.signal.aborted;

  // Pull items while fewer than poolLimit calls run and nothing stops the mapping.
  const fill = async (): Promise<void> => {
    while (!sourceDone && !stopping() && running < poolLimit) {
      let r: IteratorResult<T> | "aborted";
      try {
        const next = Promise.resolve(source.next());
        next.then(undefined, () => {});
        r = outer === undefined ? await next : await Promise.race([next, aborted]);
      } catch (error) {
        sourceDone = true;
        sourceError = { error };
        return;
      }
      if (r === "aborted") return;
      if (r.done) sourceDone = true;
      else start(r.value);
    }
  };

  try {
    for (;;) {
      await fill();
      if (stopping()) break;
      if (results.length === 0) return; // the source is done and every result was yielded
      const head = await Promise.race([results[0]!, new Promise<void>((resolve) => (wake = resolve)), aborted]);
      if (head === undefined || head === "aborted") continue; // some call settled, or an abort: look again
      if (!settled && head.status === "rejected") break;
      results.shift();
      yield settled ? head : (head as PromiseFulfilledResult<R>).value;
    }
    // As @std/async: no new call starts; once the running ones settle, their results are
    // yielded in order (for pooledMap, the successes), then the iteration throws.
    const outcomes = await Promise.all(results);
    results.length = 0;
    const errors: unknown[] = [];
    for (const o of outcomes) {
      if (settled) yield o;
      else if (o.status === "fulfilled") yield o.value;
      else if (!(ac.signal.aborted && o.reason === ac.signal.reason)) errors.push(o.reason);
    }
    if (!settled && errors.length > 0) throw new AggregateError(errors, MAPPING_FAILED);
    if (ac.signal.aborted) throw ac.signal.reason;
    const se = sourceError as { error: unknown } | null;
    if (settled && se !== null) throw se.error;
    throw new AggregateError(errors, MAPPING_FAILED);
  } finally {
    outer?.removeEventListener("abort", stop);
    const wasAborted = ac.signal.aborted;
    if (!wasAborted) ac.abort(new CancelledError("pooledMap(): the iteration ended"));
    if (!sourceDone) {
      // Close the source; after an abort without waiting (it may be stuck in next()).
      const closing = Promise.resolve().then(() => (source as AsyncIterator<T>).return?.());
      if (wasAborted) closing.then(undefined, () => {});
      else await closing;
    }
  }
}

async function callOne<T, R>(fn: PooledMapFunction<T, R>, item: T, signal: AbortSignal): Promise<R> {
  signal.throwIfAborted();
  const out = fn(item, signal);
  if (isGenerator(out)) {
    const loop = tryGetRunningLoop();
    if (loop === undefined) throw new TypeError("pooledMap(): fn returned a coroutine, which needs a running loop");
    const task = loop.createTask(out as Coroutine<R>, { name: "pooledMap" });
    const cancel = (): void => {
      task.cancel();
    };
    signal.addEventListener("abort", cancel, { once: true });
    try {
      return await task;
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }
  if (isFuture(out)) return await (out as Future<R>);
  return await (out as R | PromiseLike<R>);
}
