/**
 * `retry`: @std/async's retry (exponential backoff with jitter), as a cancellable task of
 * the running loop, waiting on the loop's clock.
 * @module
 */
import { checkOptions, describeValue, checkSignal, isGenerator, isCancelledError, type Coroutine, type Future, tryGetRunningLoop } from "../core/index.ts";
import { runCancellable } from "./cancellable.ts";
import { delay } from "./delay.ts";

/**
 * Raised by `retry()` once `maxAttempts` attempts failed; `cause` is the last failure.
 *
 * @example
 * ```ts
 * import { RetryError } from "loopwork";
 *
 * const e = new RetryError(new Error("flaky"), 3);
 * console.log(e.message, (e.cause as Error).message); // "Retrying exceeded the maxAttempts (3)." "flaky"
 * ```
 */
export class RetryError extends Error {
  /** How many attempts were made. */
  readonly attempts: number;
  /** Creates the error for `attempts` failed attempts, the last of which failed with `cause`. */
  constructor(cause: unknown, attempts: number) {
    super(`Retrying exceeded the maxAttempts (${attempts}).`, { cause });
    this.name = "RetryError";
    this.attempts = attempts;
  }
}

/**
 * Options of `retry()`: @std/async's names and defaults.
 *
 * @example
 * ```ts
 * import { type RetryOptions } from "loopwork";
 *
 * const options: RetryOptions = {
 *   maxAttempts: 4, minTimeout: 100, maxTimeout: 2_000, multiplier: 2, jitter: 1,
 *   isRetriable: (e) => !(e instanceof TypeError),
 * };
 * ```
 */
export interface RetryOptions {
  /** Growth of the backoff after each failed attempt. Default 2. */
  multiplier?: number;
  /**
   * Longest backoff, ms. Default 60 000. `Infinity` for no cap: the backoff then stops
   * growing at `Number.MAX_SAFE_INTEGER` ms, so that every wait is a finite time.
   */
  maxTimeout?: number;
  /** Most attempts, the first included. Default 5. */
  maxAttempts?: number;
  /** First (and shortest) backoff, ms. Default 1 000. */
  minTimeout?: number;
  /** Share of the backoff drawn at random: 1 (default) waits between 0 and the backoff, 0 the full backoff. */
  jitter?: number;
  /** Whether a failure is worth another attempt; a failure it refuses is rethrown at once. Default: every failure. */
  isRetriable?: (error: unknown) => boolean;
  /** Aborting it stops retrying (and aborts the attempt's signal); the result rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * What each attempt receives.
 *
 * @example
 * ```ts
 * import { retry, type RetryContext } from "loopwork";
 *
 * const attempt = ({ attempt, signal }: RetryContext) =>
 *   signal.aborted ? Promise.reject(signal.reason) : Promise.resolve(attempt);
 * console.log(await retry(attempt)); // 1
 * ```
 */
export interface RetryContext {
  /** 1 for the first attempt, 2 for the second... */
  attempt: number;
  /** Aborted when the retry is cancelled or its `signal` aborts: pass it to `fetch` and the like. */
  signal: AbortSignal;
}

/**
 * One attempt: returns a value, a promise, a future, or (inside a loop) a coroutine.
 *
 * @example
 * ```ts
 * import { type RetryFunction, sleep } from "loopwork";
 *
 * const viaPromise: RetryFunction<string> = async () => "ok";
 * const viaCoroutine: RetryFunction<number> = function* () { yield* sleep(10); return 1; };
 * ```
 */
export type RetryFunction<T> = (context: RetryContext) => T | PromiseLike<T> | Future<T> | Coroutine<T>;

/**
 * The longest backoff, ms (about 285 000 years): `maxTimeout: Infinity` means no cap, yet
 * `minTimeout * multiplier ** attempt` overflows to Infinity after enough attempts, which
 * waited for ever; the backoff stops growing here instead, a finite time on any clock.
 */
const MAX_BACKOFF = Number.MAX_SAFE_INTEGER;

/**
 * @internal The backoff before attempt `attempt + 2`: @std/async's formula, kept finite. For
 * the options `retry()` accepts it is a number in [0, min(maxTimeout, MAX_BACKOFF)], never
 * NaN or Infinity, however large `attempt` or `multiplier`.
 */
export function backoff(
  attempt: number,
  o: { multiplier: number; maxTimeout: number; minTimeout: number; jitter: number },
  random: () => number = Math.random,
): number {
  // No wait at all: 0 * multiplier ** attempt is NaN once the power overflows.
  if (o.minTimeout === 0) return 0;
  const exp = Math.min(o.maxTimeout, MAX_BACKOFF, o.minTimeout * o.multiplier ** attempt);
  return (1 - o.jitter * random()) * exp;
}

function check(ok: boolean, rule: string): void {
  if (!ok) throw new RangeError(`Cannot retry as ${rule}`);
}

/**
 * Calls `fn` until it succeeds, at most `maxAttempts` times, waiting an exponential
 * backoff with jitter between attempts (on the running loop's clock, so a virtual clock
 * drives it). Resolves to the first success; rejects with `RetryError` (its `cause` the
 * last failure) when the attempts run out, or with the failure itself when `isRetriable`
 * refuses it.
 *
 * The result is a `Task` of the running loop (a cancellable future outside a loop):
 * cancelling it, or the task waiting on it, aborts the attempt's signal and stops the
 * waiting. Inside a loop, `fn` may also return a coroutine (a generator), run as a task.
 *
 * @throws {RangeError} for options out of range (checked when called)
 * @example
 * ```ts
 * import { retry, run } from "loopwork";
 *
 * let calls = 0;
 * const value = await run(() =>
 *   retry(async ({ attempt }) => {
 *     calls++;
 *     if (attempt < 3) throw new Error("flaky");
 *     return "ok";
 *   }, { minTimeout: 100, jitter: 0 }),
 * { clock: "virtual" });
 * console.log(value, calls); // "ok" 3 (after 100 + 200 ms of loop time)
 * ```
 */
export function retry<T>(fn: RetryFunction<T>, options: RetryOptions = {}): Future<T> {
  if (typeof fn !== "function") throw new TypeError(`retry(): fn must be a function, got ${describeValue(fn)}`);
  checkOptions("retry()", options, ["multiplier", "maxTimeout", "maxAttempts", "minTimeout", "jitter", "isRetriable", "signal"]);
  const {
    multiplier = 2,
    maxTimeout = 60_000,
    maxAttempts = 5,
    minTimeout = 1_000,
    jitter = 1,
    isRetriable = () => true,
  } = options;
  // @std/async's checks and messages.
  check(Number.isInteger(maxAttempts) && maxAttempts >= 1,
    `'maxAttempts' must be a positive integer: current value is ${maxAttempts}`);
  check(Number.isFinite(multiplier) && multiplier >= 1,
    `'multiplier' must be a finite number >= 1: current value is ${multiplier}`);
  // Numbers only (a string or null passed std's checks and was coerced); a minTimeout of
  // Infinity waited for ever before the second attempt, so it must be finite.
  check(typeof maxTimeout === "number" && maxTimeout > 0, `'maxTimeout' must be a positive number: current value is ${maxTimeout}`);
  check(typeof minTimeout === "number" && !Number.isNaN(minTimeout) && minTimeout >= 0, `'minTimeout' must be >= 0: current value is ${minTimeout}`);
  check(minTimeout !== Infinity, `'minTimeout' must be finite: current value is Infinity`);
  check(minTimeout <= maxTimeout,
    `'minTimeout' must be <= 'maxTimeout': current values 'minTimeout=${minTimeout}', 'maxTimeout=${maxTimeout}'`);
  check(typeof jitter === "number" && jitter >= 0 && jitter <= 1, `'jitter' must be between 0 and 1: current value is ${jitter}`);
  if (typeof isRetriable !== "function") {
    throw new TypeError(`retry(): isRetriable must be a function, got ${describeValue(isRetriable)}`);
  }
  const signal = checkSignal("retry()", options.signal);
  const o = { multiplier, maxTimeout, minTimeout, jitter };

  return runCancellable("retry", async (sig: AbortSignal): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      sig.throwIfAborted();
      try {
        // As @std/async's: fn is called at once and a synchronous failure starts the wait at
        // once; one hop from the wait's timer to the next attempt (its own promise).
        return await callAttempt(fn, { attempt, signal: sig });
      } catch (error) {
        if (sig.aborted) throw sig.reason;
        if (!isRetriable(error)) throw error;
        if (attempt >= maxAttempts) throw new RetryError(error, maxAttempts);
        await delay(backoff(attempt - 1, o), { signal: sig })._toPromise();
      }
    }
  }, signal);
}

/** Calls `fn`: what it throws is thrown here, synchronously; what it returns is awaitable. */
function callAttempt<T>(fn: RetryFunction<T>, ctx: RetryContext): T | PromiseLike<T> {
  const out = fn(ctx);
  if (isGenerator(out)) return runAttemptTask(out as Coroutine<T>, ctx);
  return out as T | PromiseLike<T>;
}

async function runAttemptTask<T>(out: Coroutine<T>, ctx: RetryContext): Promise<T> {
  const loop = tryGetRunningLoop();
  if (loop === undefined) throw new TypeError("retry(): fn returned a coroutine, which needs a running loop");
  const task = loop.createTask(out, { name: `retry-attempt-${ctx.attempt}` });
  const stop = (): void => {
    task.cancel();
  };
  ctx.signal.addEventListener("abort", stop, { once: true });
  try {
    return await task;
  } catch (e) {
    if (isCancelledError(e) && ctx.signal.aborted) throw ctx.signal.reason;
    throw e;
  } finally {
    ctx.signal.removeEventListener("abort", stop);
  }
}
