/**
 * `throttle`: @std/async's (unstable) throttle, on the running loop's clock.
 * @module
 */
import { checkOptions, describeValue, checkMs, checkSignal, reportException, tryGetRunningLoop } from "../core/index.ts";
import { clockNow, setTimer, type Timer } from "./clock.ts";

/**
 * A throttled function, as @std/async's.
 *
 * @example
 * ```ts
 * import { throttle, type ThrottledFunction } from "loopwork";
 *
 * const tick: ThrottledFunction<[number]> = throttle((n: number) => console.log(n), 1_000);
 * tick(1); // prints 1
 * tick(2); // dropped: within the timeframe
 * console.log(tick.throttling); // true
 * ```
 */
export interface ThrottledFunction<T extends unknown[]> {
  (...args: T): void;
  /** Forgets the last execution: the next call runs at once (a scheduled trailing call stays, as in @std/async). */
  clear(): void;
  /** Runs the latest call that has not run (throttled or trailing) now, if any. */
  flush(): void;
  /** Whether a call made now would be throttled. */
  readonly throttling: boolean;
  /** When `fn` last finished: `Date.now()` ms as @std/async (the loop's clock inside a loop); `-Infinity` before. */
  readonly lastExecution: number;
}

/**
 * Options of `throttle()`, as in @std/async.
 *
 * @example
 * ```ts
 * import { throttle, type ThrottleOptions } from "loopwork";
 *
 * const options: ThrottleOptions = { ensureLastCall: true };
 * const onResize = throttle(() => console.log("layout"), 100, options);
 * onResize();
 * onResize.clear();
 * ```
 */
export interface ThrottleOptions {
  /** Make the last call made while throttling run once the timeframe has passed. Default `false`. */
  ensureLastCall?: boolean;
  /** Aborting it drops the trailing call; later calls are ignored. */
  signal?: AbortSignal;
}

/**
 * Returns a function that calls `fn` at most once per `timeframe` milliseconds; calls in
 * between are dropped (or, with `ensureLastCall`, the last of them runs `timeframe` ms
 * after it was made, unless a later call runs first). While a promise returned by `fn` is pending, calls are throttled too. `timeframe`
 * may be a function of how long the previous execution took. Time is the running loop's
 * clock when a loop runs, the host's otherwise.
 *
 * @throws {RangeError} for a negative or NaN `timeframe`
 * @example
 * ```ts
 * import { run, sleep, throttle } from "loopwork";
 *
 * const seen: number[] = [];
 * await run(function* () {
 *   const onScroll = throttle((y: number) => seen.push(y), 100, { ensureLastCall: true });
 *   for (let y = 0; y < 10; y++) {
 *     onScroll(y);
 *     yield* sleep(30);
 *   }
 *   yield* sleep(200);
 * }, { clock: "virtual" });
 * console.log(seen); // [0, 4, 8, 9]
 * ```
 */
export function throttle<T extends unknown[]>(
  fn: (this: ThrottledFunction<T>, ...args: T) => unknown,
  timeframe: number | ((previousDuration: number) => number),
  options: ThrottleOptions = {},
): ThrottledFunction<T> {
  if (typeof fn !== "function") throw new TypeError(`throttle(): fn must be a function, got ${describeValue(fn)}`);
  if (typeof timeframe !== "function") checkMs("throttle()", "timeframe", timeframe, { infinite: false });
  checkOptions("throttle()", options, ["ensureLastCall", "signal"]);
  const ensureLast = Boolean(options.ensureLastCall);
  const signal = checkSignal("throttle()", options.signal);
  let tf = typeof timeframe === "function" ? 0 : timeframe;
  let lastExecution = -Infinity;
  let throttlingAsync = false;
  // As @std/async: the latest call, throttled or not, until it runs; `flush()` runs it.
  let pending: (() => void) | null = null;
  let timer: Timer | null = null;

  // The abort listener is on the signal only while a trailing call is scheduled: a
  // long-lived signal given to many throttled functions holds none of them once idle.
  const onAbort = (): void => {
    cancelTimer();
    pending = null;
  };
  const cancelTimer = (): void => {
    if (timer === null) return;
    timer.cancel();
    timer = null;
    signal?.removeEventListener("abort", onAbort);
  };

  const throttled = ((...args: T): void => {
    if (signal?.aborted) return;
    pending = () => {
      const start = clockNow();
      const done = (): void => {
        throttlingAsync = false;
        lastExecution = clockNow();
        if (typeof timeframe === "function") tf = timeframe(lastExecution - start);
      };
      let out: unknown;
      try {
        cancelTimer();
        out = fn.apply(throttled, args);
      } finally {
        if (out !== null && typeof (out as PromiseLike<unknown>)?.then === "function") {
          throttlingAsync = true;
          // Unlike @std/async's `.finally(done)`, a rejection of `out` is not left unhandled:
          // nobody else can see it, so it is reported (to the loop it was called on).
          const loop = tryGetRunningLoop();
          (out as PromiseLike<unknown>).then(done, (error: unknown) => {
            done();
            reportException(loop, { message: "a throttled function rejected", exception: error });
          });
        } else {
          done();
        }
        pending = null;
      }
    };
    if (throttled.throttling) {
      if (ensureLast) {
        if (timer === null) signal?.addEventListener("abort", onAbort, { once: true });
        else timer.cancel();
        timer = setTimer(tf, () => {
          cancelTimer();
          pending?.();
        });
      }
      return;
    }
    pending();
  }) as ThrottledFunction<T>;

  throttled.clear = (): void => {
    throttlingAsync = false;
    lastExecution = -Infinity;
  };
  throttled.flush = (): void => {
    if (signal?.aborted) pending = null;
    pending?.();
  };
  Object.defineProperties(throttled, {
    // As @std/async: throttling up to and including `timeframe` ms after the last execution.
    throttling: { get: () => clockNow() - lastExecution <= tf || throttlingAsync },
    lastExecution: { get: () => lastExecution },
  });
  return throttled;
}
