/**
 * `debounce`: @std/async's debounce, on the running loop's clock.
 * @module
 */
import { checkOptions, describeValue, checkSignal } from "../core/index.ts";
import { setTimer, type Timer } from "./clock.ts";

/**
 * A debounced function, as @std/async's: call it, `clear()` the pending call, `flush()` it now.
 *
 * @example
 * ```ts
 * import { debounce, type DebouncedFunction } from "loopwork";
 *
 * const log: DebouncedFunction<[string]> = debounce((s: string) => console.log(s), 100);
 * log("a");
 * log.flush(); // prints "a" now
 * console.log(log.pending); // false
 * ```
 */
export interface DebouncedFunction<T extends unknown[]> {
  (...args: T): void;
  /** Drops the pending call, if any. */
  clear(): void;
  /** Runs the pending call now, if any. */
  flush(): void;
  /** Whether a call is pending. */
  readonly pending: boolean;
}

/**
 * Options of `debounce()`, as in @std/async.
 *
 * @example
 * ```ts
 * import { debounce, type DebounceOptions } from "loopwork";
 *
 * const ac = new AbortController();
 * const options: DebounceOptions = { signal: ac.signal };
 * const save = debounce(() => console.log("saved"), 100, options);
 * save();
 * ac.abort(); // the pending call is dropped
 * ```
 */
export interface DebounceOptions {
  /** Aborting it drops the pending call; later calls are ignored. */
  signal?: AbortSignal;
}

/**
 * Returns a function that calls `fn` with the latest arguments once `wait` milliseconds
 * have passed without another call. Time is the running loop's clock when a loop runs at
 * the time of the call (so a virtual clock drives it), the host's otherwise.
 *
 * @param fn the function to debounce
 * @param wait quiet time in milliseconds, an integer >= 0
 * @throws {RangeError} "'wait' must be a positive integer" (@std/async's message) otherwise
 * @example
 * ```ts
 * import { debounce, run, sleep } from "loopwork";
 *
 * const saved: string[] = [];
 * await run(function* () {
 *   const save = debounce((text: string) => saved.push(text), 200);
 *   save("h"); save("he"); save("hello"); // within 200 ms: one call
 *   yield* sleep(300);
 * }, { clock: "virtual" });
 * console.log(saved); // ["hello"]
 * ```
 */
export function debounce<T extends unknown[]>(
  fn: (this: DebouncedFunction<T>, ...args: T) => void,
  wait: number,
  options: DebounceOptions = {},
): DebouncedFunction<T> {
  if (typeof fn !== "function") throw new TypeError(`debounce(): fn must be a function, got ${describeValue(fn)}`);
  if (!Number.isInteger(wait) || wait < 0) throw new RangeError("'wait' must be a positive integer");
  checkOptions("debounce()", options, ["signal"]);
  const signal = checkSignal("debounce()", options.signal);
  signal?.throwIfAborted();
  let timer: Timer | null = null;
  let pendingArgs: T | null = null;
  // The abort listener is on the signal only while a call is pending: a long-lived signal
  // given to many debounced functions holds none of them once they are idle.
  const onAbort = (): void => debounced.clear();

  const disarm = (): void => {
    if (timer === null) return;
    timer.cancel();
    timer = null;
    signal?.removeEventListener("abort", onAbort);
  };

  const run = (): void => {
    const args = pendingArgs!;
    disarm();
    pendingArgs = null;
    fn.apply(debounced, args);
  };

  const debounced = ((...args: T): void => {
    if (signal?.aborted) return;
    if (timer === null) signal?.addEventListener("abort", onAbort, { once: true });
    else timer.cancel();
    pendingArgs = args;
    timer = setTimer(wait, run);
  }) as DebouncedFunction<T>;

  debounced.clear = (): void => {
    disarm();
    pendingArgs = null;
  };
  debounced.flush = (): void => {
    if (timer === null) return;
    run();
  };
  Object.defineProperty(debounced, "pending", { get: () => timer !== null });
  return debounced;
}
