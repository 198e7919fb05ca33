/**
 * `throttle`: @std/async's (unstable) throttle, on the running loop's clock.
 * @module
 */
import { describeValue } from "../future.ts";
import { checkMs, checkSignal, now, setTimer, type Timer } from "./clock.ts";

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
  /** Forgets the last execution (the next call runs at once) and drops a trailing call. */
  clear(): void;
  /** Runs the trailing call now, if one is pending. */
  flush(): void;
  /** Whether a call made now would be throttled. */
  readonly throttling: boolean;
  /** When `fn` last finished, in clock milliseconds (`-Infinity` before the first call). */
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
  if (typeof timeframe !== "function") checkMs("throttle()", "timeframe", timeframe, false);
  const ensureLast = Boolean(options.ensureLastCall);
  const signal = checkSignal("throttle()", options.signal);
  let tf = typeof timeframe === "function" ? 0 : timeframe;
  let lastExecution = -Infinity;
  let running = false;
  let trailing: T | null = null;
  let timer: Timer | null = null;

  const execute = (args: T): void => {
    timer?.cancel();
    timer = null;
    trailing = null;
    const start = now();
    const done = (): void => {
      running = false;
      lastExecution = now();
      if (typeof timeframe === "function") tf = checkMs("throttle()", "timeframe()", timeframe(lastExecution - start), false);
    };
    let out: unknown;
    try {
      out = fn.apply(throttled, args);
    } catch (e) {
      done();
      throw e;
    }
    if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
      running = true;
      (out as PromiseLike<unknown>).then(done, done);
    } else {
      done();
    }
  };

  const isThrottling = (): boolean => running || now() - lastExecution < tf;

  const throttled = ((...args: T): void => {
    if (signal?.aborted) return;
    if (!isThrottling()) {
      execute(args);
      return;
    }
    if (!ensureLast) return;
    trailing = args;
    schedule();
  }) as ThrottledFunction<T>;

  // As @std/async: the trailing call runs `timeframe` ms after the last throttled call.
  const schedule = (): void => {
    timer?.cancel();
    timer = setTimer(tf, () => {
      timer = null;
      if (trailing === null) return;
      if (running) schedule(); // the previous execution is still running: wait again
      else execute(trailing);
    });
  };

  throttled.clear = (): void => {
    timer?.cancel();
    timer = null;
    trailing = null;
    lastExecution = -Infinity;
    running = false;
  };
  throttled.flush = (): void => {
    if (trailing !== null) execute(trailing);
  };
  Object.defineProperties(throttled, {
    throttling: { get: isThrottling },
    lastExecution: { get: () => lastExecution },
  });
  signal?.addEventListener("abort", () => {
    timer?.cancel();
    timer = null;
    trailing = null;
  }, { once: true });
  return throttled;
}
