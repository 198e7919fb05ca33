/**
 * `deadline`: @std/async's deadline, on the running loop's clock.
 * @module
 */
import { checkOptions, checkMs, describeValue, isThenable, checkSignal, TimeoutError, type Future, isFuture, SignalFuture } from "../core/index.ts";
import { setTimer } from "./clock.ts";

/**
 * Options of `deadline()`, as in @std/async.
 *
 * @example
 * ```ts
 * import { deadline, type DeadlineOptions } from "loopwork";
 *
 * const ac = new AbortController();
 * const options: DeadlineOptions = { signal: ac.signal };
 * console.log(await deadline(Promise.resolve(1), 100, options)); // 1
 * ```
 */
export interface DeadlineOptions {
  /** Aborting it stops the wait: the future rejects with the reason. */
  signal?: AbortSignal;
}

/** @internal The reason a deadline expires with: loopwork's `TimeoutError` or, for loopwork/std, std's DOMException. */
export type ExpiryReason = (ms: number) => unknown;

const loopworkExpiry: ExpiryReason = (ms) => new TimeoutError(`deadline(): not settled within ${ms} ms`);

/**
 * Settles as `p` does, or rejects with `TimeoutError` once `ms` milliseconds of the
 * running loop's clock (the host's, outside a loop) have passed. Like @std/async's, it
 * stops the wait, not the work: `p` keeps running. To cancel the work on expiry, give it
 * the same signal, or (for a task) use `waitFor`/`timeout`.
 *
 * @param p a promise, a thenable or a loopwork future
 * @param ms time limit in milliseconds, >= 0 (`Infinity` for none)
 * @throws {RangeError} for a negative or NaN time limit
 * @throws {TypeError} when `p` is not a promise or future, or `signal` is not the platform's
 *   `AbortSignal` (a lookalike or a Proxy)
 * @example
 * ```ts
 * import { deadline, delay, run, TimeoutError } from "loopwork";
 *
 * await run(async () => {
 *   try {
 *     await deadline(delay(5_000), 1_000);
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true, after 1 s of loop time
 *   }
 * }, { clock: "virtual" });
 * ```
 */
export function deadline<T>(p: PromiseLike<T> | Future<T>, ms: number, options: DeadlineOptions = {}): Future<T> {
  return deadlineWith(p, ms, options, loopworkExpiry);
}

/** @internal `deadline`, expiring with `reason(ms)`. */
export function deadlineWith<T>(
  p: PromiseLike<T> | Future<T>,
  ms: number,
  options: DeadlineOptions,
  reason: ExpiryReason,
): Future<T> {
  if (!isFuture(p) && !isThenable(p)) {
    throw new TypeError(`deadline(): p must be a promise or a future, got ${describeValue(p)}`);
  }
  checkOptions("deadline()", options, ["signal"]);
  checkMs("deadline()", "ms", ms, { infinite: true });
  const signal = checkSignal("deadline()", options.signal);
  const f = new SignalFuture<T>();
  f._watch(signal);
  // As @std/async: a time limit of Number.MAX_SAFE_INTEGER or more is none.
  if (!f.done() && ms < Number.MAX_SAFE_INTEGER) {
    f._timer = setTimer(ms, () => {
      f._timer = null;
      if (!f.done()) f.setException(reason(ms));
    });
  }
  settleFrom(f, p); // even when already aborted, so that a rejection of `p` is handled
  return f;
}

/**
 * @internal Settles `f` as `p` settles, unless `f` settled first. As `await` does, a value
 * that is not a thenable settles `f` with itself, and a thenable whose `then` (or its getter)
 * throws rejects `f` with that error: nothing is thrown here, so the caller's timer and abort
 * listener, already set on `f`, always go when `f` settles.
 */
export function settleFrom<T>(f: SignalFuture<T>, p: T | PromiseLike<T> | Future<T>): void {
  if (isFuture(p)) {
    p.addDoneCallback((src) => {
      if (!f.done()) f._copyOutcome(src);
    });
    return;
  }
  try {
    const then = p !== null && (typeof p === "object" || typeof p === "function") ? (p as PromiseLike<T>).then : undefined;
    if (typeof then !== "function") {
      if (!f.done()) f.setResult(p as T);
      return;
    }
    then.call(
      p,
      (v: T) => {
        if (!f.done()) f.setResult(v);
      },
      (e: unknown) => {
        if (!f.done()) f.setException(e);
      },
    );
  } catch (e) {
    if (!f.done()) f.setException(e);
  }
}
