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
 * const options: PooledMapOptions = { signal: AbortSignal.timeout(5_000) };
 * for await (const n of pooledMap(2, [1, 2, 3], async (x) => x * 2, options)) console.log(n);
 * ```
 */
export interface PooledMapOptions {
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
  options: PooledMapOptions = {},
): AsyncGenerator<R, void, undefined> {
  if (typeof poolLimit !== "number" || !Number.isInteger(poolLimit) || poolLimit < 1) {
    throw new RangeError(`pooledMap(): poolLimit must be an integer >= 1, got ${describeValue(poolLimit)}`);
  }
  if (iterable === null || typeof iterable !== "object" ||
    (typeof (iterable as Iterable<T>)[Symbol.iterator] !== "function" &&
      typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] !== "function")) {
    throw new TypeError(`pooledMap(): expects an iterable or async iterable, got ${describeValue(iterable)}`);
  }
  if (typeof fn !== "function") throw new TypeError(`pooledMap(): fn must be a function, got ${describeValue(fn)}`);
  return mapPooled(poolLimit, iterable, fn, checkSignal("pooledMap()", options.signal));
}

async function* mapPooled<T, R>(
  poolLimit: number,
  iterable: Iterable<T> | AsyncIterable<T>,
  fn: PooledMapFunction<T, R>,
  outer: AbortSignal | undefined,
): AsyncGenerator<R, void, undefined> {
  outer?.throwIfAborted();
  const ac = new AbortController();
  const stop = (): void => ac.abort(outer!.reason);
  outer?.addEventListener("abort", stop, { once: true });
  const source = Symbol.asyncIterator in iterable
    ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (iterable as Iterable<T>)[Symbol.iterator]();
  // Results in input order; each settles to an outcome, never rejects.
  const results: Array<Promise<{ ok: true; value: R } | { ok: false; error: unknown }>> = [];
  let running = 0;
  let sourceDone = false;
  let failed = false;
  let wake: (() => void) | null = null;
  const settled = (): void => {
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
        (value) => ({ ok: true as const, value }),
        (error: unknown) => {
          failed = true;
          return { ok: false as const, error };
        },
      );
    p.then(settled);
    results.push(p);
  };

  // Pull items while fewer than poolLimit calls run and nothing failed.
  const fill = async (): Promise<void> => {
    while (!sourceDone && !failed && running < poolLimit && !ac.signal.aborted) {
      const r = await source.next();
      if (r.done) sourceDone = true;
      else start(r.value);
    }
  };

  try {
    for (;;) {
      await fill();
      if (ac.signal.aborted) throw ac.signal.reason;
      if (failed) break;
      if (results.length === 0) return; // the source is done and every result was yielded
      const head = await Promise.race([results[0]!, new Promise<void>((resolve) => (wake = resolve))]);
      if (head === undefined) continue; // some call settled: refill first
      if (!head.ok) break;
      results.shift();
      yield head.value;
    }
    // A call failed: no new call starts. As @std/async: once the running ones settle, yield
    // the successes in order, then throw every failure together.
    const outcomes = await Promise.all(results);
    results.length = 0;
    if (ac.signal.aborted) throw ac.signal.reason;
    const errors: unknown[] = [];
    for (const o of outcomes) {
      if (o.ok) yield o.value;
      else errors.push(o.error);
    }
    throw new AggregateError(errors, MAPPING_FAILED);
  } finally {
    outer?.removeEventListener("abort", stop);
    if (!ac.signal.aborted) ac.abort(new CancelledError("pooledMap(): the iteration ended"));
    if (!sourceDone) await (source as AsyncIterator<T>).return?.();
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
