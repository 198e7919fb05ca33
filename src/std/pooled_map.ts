/**
 * `pooledMap`: @std/async's pooledMap, with cancellation: leaving the loop early (or
 * aborting its signal) aborts the calls still running.
 * @module
 */
import { checkOptions, describeValue, checkSignal, isGenerator, CancelledError, type Coroutine, type Future, isFuture, Ring, tryGetRunningLoop } from "../core/index.ts";
import { iterResult } from "./iter-result.ts";

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

/**
 * Maps `iterable` through `fn` with at most `poolLimit` calls running at once, yielding
 * the results in input order. If a call fails, no new call starts; once the running ones
 * settle, the iteration throws an `AggregateError` of every failure (as @std/async).
 * Leaving the loop early, or aborting `options.signal`, aborts the signal each running
 * call received. Inside a loop, `fn` may return a coroutine, run as a task.
 *
 * Memory: `poolLimit` bounds the calls running, not the results held. Results come out in
 * input order, so while the consumer waits for a slow call, the calls after it go on and
 * their results are held until it settles: without a limit, as @std/async's (a call that
 * never settles makes the mapping hold every later result). Over a long or endless source,
 * give the calls a time limit (`deadline()`, or their `signal`).
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
  return pooledMapWith(false, a, b, c, d);
}

/**
 * `pooledMap()` as `loopwork/std`'s: it starts pulling items and calling `fn` when created,
 * as @std/async's (the loop-aware `pooledMap()` pulls while its consumer waits in `next()`).
 * @internal
 * @example
 * ```ts
 * import { pooledMap } from "loopwork/std";
 *
 * const results = pooledMap(2, [1, 2, 3], async (n) => n * 2); // the calls start now
 * for await (const r of results) console.log(r);
 * ```
 */
export function pooledMapEager<T, R>(
  a: number | Iterable<T> | AsyncIterable<T>,
  b: Iterable<T> | AsyncIterable<T> | PooledMapFunction<T, R>,
  c?: PooledMapFunction<T, R> | number | PooledMapOptions,
): AsyncGenerator<R, void, undefined> {
  return pooledMapWith(true, a, b, c, {});
}

function pooledMapWith<T, R>(
  eager: boolean,
  a: number | Iterable<T> | AsyncIterable<T>,
  b: Iterable<T> | AsyncIterable<T> | PooledMapFunction<T, R>,
  c: PooledMapFunction<T, R> | number | PooledMapOptions | undefined,
  d: { signal?: AbortSignal },
): AsyncGenerator<R, void, undefined> {
  const mode = { what: "pooledMap()", settled: false, eager };
  let job: PoolJob<T, R>;
  if (typeof a === "number") {
    checkOptions("pooledMap()", d, ["signal"]);
    // @std/async's stable form: pooledMap(poolLimit, iterable, fn).
    if (!Number.isInteger(a) || a < 1) throw new RangeError("'poolLimit' must be a positive integer");
    job = { ...mode, poolLimit: a, iterable: b as Iterable<T>, fn: c as PooledMapFunction<T, R>, signal: d.signal };
  } else {
    const { poolLimit, signal } = poolOptions("pool", c as number | PooledMapOptions);
    job = { ...mode, poolLimit, iterable: a, fn: b as PooledMapFunction<T, R>, signal };
  }
  return startPooled(job) as AsyncGenerator<R, void, undefined>;
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
 * As @std/async's, the calls start when it is created, and results finished behind a slow
 * call are held until it settles, without a limit (see `pooledMap`'s "Memory").
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
  const { poolLimit, signal } = poolOptions("pool", options, "pooledMapSettled()");
  const job = { what: "pooledMapSettled()", poolLimit, iterable, fn, signal, settled: true, eager: true };
  return startPooled(job) as AsyncGenerator<PromiseSettledResult<R>, void, undefined>;
}

function poolOptions(
  verb: string,
  o: number | PooledMapOptions,
  what = "pooledMap()",
): { poolLimit: number; signal?: AbortSignal } {
  if (typeof o !== "number") checkOptions(what, o, ["poolLimit", "signal"]);
  const { poolLimit, signal } = typeof o === "number" ? { poolLimit: o, signal: undefined } : (o ?? {}) as PooledMapOptions;
  if (!Number.isInteger(poolLimit) || poolLimit < 1) {
    throw new RangeError(`Cannot ${verb} as 'poolLimit' must be a positive integer: received ${poolLimit}`);
  }
  return { poolLimit, signal };
}

/** What a pooled mapping does: the checked arguments and its mode. */
interface PoolJob<T, R> {
  what: string;
  poolLimit: number;
  iterable: Iterable<T> | AsyncIterable<T>;
  fn: PooledMapFunction<T, R>;
  signal: AbortSignal | undefined;
  /** pooledMapSettled: every outcome is yielded, a failure does not stop the mapping. */
  settled: boolean;
  /** @std/async's: the calls start when the mapping is created. */
  eager: boolean;
}

function startPooled<T, R>(job: PoolJob<T, R>): AsyncGenerator<R | PromiseSettledResult<R>, void, undefined> {
  const { what, iterable, fn } = job;
  if (iterable === null || typeof iterable !== "object" ||
    (typeof (iterable as Iterable<T>)[Symbol.iterator] !== "function" &&
      typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] !== "function")) {
    throw new TypeError(`${what}: expects an iterable or async iterable, got ${describeValue(iterable)}`);
  }
  if (typeof fn !== "function") throw new TypeError(`${what}: fn must be a function, got ${describeValue(fn)}`);
  return mapPooled({ ...job, signal: checkSignal(what, job.signal) });
}

type Outcome<R> = PromiseSettledResult<R>;

/** A call's place in the input order; `outcome` is set when the call settles. */
interface Slot<R> {
  outcome: Outcome<R> | null;
}

/** What the pump's wait in the source's `next()` gets when the mapping stops. */
const STOPPED: unique symbol = Symbol("stopped");

/**
 * The mapping: a pump pulls items and starts calls while fewer than `poolLimit` run; the
 * returned generator yields their outcomes in input order. `eager` (@std/async's): the pump
 * runs from creation, whether or not anyone iterates; otherwise it pulls only while the
 * consumer waits in `next()`, so a consumer that leaves on a result starts no further call. Ending the iteration (or `outer` aborting) stops
 * the pump, aborts the running calls' signal and closes the source.
 */
function mapPooled<T, R>(job: PoolJob<T, R>): AsyncGenerator<R | PromiseSettledResult<R>, void, undefined> {
  const { poolLimit, iterable, fn, signal: outer, settled, eager } = job;
  const ac = new AbortController();
  // Every wait below is one waker the stop wakes (no race against a promise that lives as
  // long as the mapping, which kept a reaction per wait: memory growing with the items).
  const stop = (): void => {
    ac.abort(outer!.reason);
    wakeAll();
  };
  // Slots in input order; each gets its call's outcome when the call settles.
  const results = new Ring<Slot<R>>();
  let source: Iterator<T> | AsyncIterator<T> | undefined;
  let running = 0;
  let sourceDone = false;
  let sourceError = null as { error: unknown; first: boolean } | null;
  let failures = 0; // pooledMap: a failed call keeps its slot, as @std/async's
  let pulling = false;
  let pumpEnded = false;
  let slotFreed: (() => void) | null = null; // the pump waits for a call to settle
  let changed: (() => void) | null = null; // the consumer waits for a start, a settle or the pump's end
  let pullStopped: (() => void) | null = null; // the pump waits in the source's next()
  let wanted = eager; // not eager: the pump pulls only while the consumer waits in next()
  let demand: (() => void) | null = null; // the pump waits for `wanted`
  const want = (): void => {
    if (wanted) return;
    wanted = true;
    const w = demand;
    demand = null;
    w?.();
  };
  const wake = (which: "slot" | "consumer"): void => {
    const w = which === "slot" ? slotFreed : changed;
    if (which === "slot") slotFreed = null;
    else changed = null;
    w?.();
  };
  const wakeAll = (): void => {
    const [d, p] = [demand, pullStopped];
    demand = pullStopped = null;
    d?.();
    p?.();
    wake("slot");
    wake("consumer");
  };
  const settle = (slot: Slot<R>, outcome: Outcome<R>): void => {
    running--;
    slot.outcome = outcome;
    // The result the consumer waits for goes to it first: it may leave the loop on it.
    if (!eager && results.peek() === slot) wanted = false;
    wake("slot");
    wake("consumer");
  };
  const start = (item: T): void => {
    running++;
    const slot: Slot<R> = { outcome: null };
    // fn runs now, before the next item is pulled (a source may abort the signal meanwhile).
    callOne(fn, item, ac.signal).then(
      (value) => settle(slot, { status: "fulfilled", value }),
      (reason: unknown) => {
        if (!settled) failures++;
        settle(slot, { status: "rejected", reason });
      },
    );
    results.push(slot);
    wake("consumer");
  };

  // Pull items and start calls while fewer than poolLimit run, until the source ends or the
  // mapping is aborted; as @std/async's, a failure is noticed when the pool is full.
  const pump = async (): Promise<void> => {
    try {
      source = Symbol.asyncIterator in iterable
        ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
        : (iterable as Iterable<T>)[Symbol.iterator]();
      while (!sourceDone && !ac.signal.aborted) {
        if (!wanted) {
          await new Promise<void>((resolve) => (demand = resolve));
          continue;
        }
        if (running + failures >= poolLimit) {
          if (failures > 0) return;
          await new Promise<void>((resolve) => (slotFreed = resolve));
          continue;
        }
        let r: unknown;
        pulling = true;
        try {
          const next = Promise.resolve(source.next());
          r = await new Promise<unknown>((resolve, reject) => {
            pullStopped = () => resolve(STOPPED);
            next.then(resolve, reject);
          });
        } finally {
          pulling = false;
          pullStopped = null;
        }
        if (r === STOPPED) return;
        const result = iterResult<T>(job.what, r);
        if (result.done) sourceDone = true;
        else if (!ac.signal.aborted) start(result.value); // the source itself may have aborted the signal
      }
    } catch (error) {
      sourceDone = true;
      sourceError = { error, first: !ac.signal.aborted };
    } finally {
      pumpEnded = true;
      wake("consumer");
    }
  };

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    closing ??= (async () => {
      outer?.removeEventListener("abort", stop);
      const wasAborted = ac.signal.aborted;
      if (!wasAborted) ac.abort(new CancelledError("pooledMap(): the iteration ended"));
      wakeAll();
      if (!sourceDone && source !== undefined) {
        // Close the source; without waiting when it may be stuck in next() (after an abort,
        // or while the pump pulls).
        const s = source as AsyncIterator<T>;
        const done = Promise.resolve().then(() => s.return?.());
        if (wasAborted || pulling) done.then(undefined, () => {});
        else await done;
      }
    })();

  async function* consume(): AsyncGenerator<R | PromiseSettledResult<R>, void, undefined> {
    try {
      outer?.throwIfAborted();
      const errors: unknown[] = [];
      // Outcomes in input order as they settle; pooledMap yields the successes and keeps the
      // failures for the AggregateError thrown at the end.
      while (!ac.signal.aborted) {
        const head = results.peek();
        if (head === undefined ? !pumpEnded : head.outcome === null) {
          want();
          await new Promise<void>((resolve) => (changed = resolve));
          continue; // something changed: look again
        }
        if (head === undefined) break;
        results.shift();
        const o = head.outcome!;
        if (settled) yield o;
        else if (o.status === "fulfilled") yield o.value;
        else errors.push(o.reason);
      }
      // Aborted: no new call starts; once the running ones settle, their results are yielded
      // in order (for pooledMap, the successes), then the iteration throws.
      while (running > 0) await new Promise<void>((resolve) => (changed = resolve));
      for (const { outcome: o } of results.drain()) {
        if (settled) yield o!;
        else if (o!.status === "fulfilled") yield o!.value;
        else if (o!.reason !== ac.signal.reason) errors.push(o!.reason);
      }
      const se = sourceError as { error: unknown; first: boolean } | null;
      // As @std/async's, `errors` holds the calls' failures only; the source's own error, if
      // any, is the AggregateError's `cause` (std's drops it: an empty list, nothing named).
      const failed = (): AggregateError =>
        se === null ? new AggregateError(errors, MAPPING_FAILED) : new AggregateError(errors, MAPPING_FAILED, { cause: se.error });
      if (!settled && errors.length > 0) throw failed();
      if (settled && se?.first) throw se.error;
      if (ac.signal.aborted) throw ac.signal.reason;
      if (se !== null) throw settled ? se.error : failed();
    } finally {
      await shutdown();
    }
  }

  if (outer?.aborted !== true) {
    outer?.addEventListener("abort", stop, { once: true });
    void pump();
  }
  const gen = consume();
  // Ending the iteration before its first next() never runs consume()'s finally: stop here too.
  const endEarly = gen.return.bind(gen);
  gen.return = async (value) => {
    try {
      return await endEarly(value);
    } finally {
      await shutdown();
    }
  };
  return gen;
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
