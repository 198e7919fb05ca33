/**
 * `delay`: @std/async's delay, on the running loop's clock.
 * @module
 */
import { checkOptions, describeValue, checkSignal, type Future, SignalFuture } from "../core/index.ts";
import { setTimer } from "./clock.ts";

/**
 * Options of `delay()`, as in @std/async.
 *
 * @example
 * ```ts
 * import { delay, type DelayOptions } from "loopwork";
 *
 * const options: DelayOptions = { signal: AbortSignal.timeout(1_000) };
 * await delay(10, options);
 * // Outside a loop, a delay that must not keep the process alive:
 * delay(60_000, { persistent: false }).then(() => console.log("only if still running"));
 * ```
 */
export interface DelayOptions {
  /** Aborting it stops the delay: the future rejects with the reason (or is cancelled, for a `CancelledError`). */
  signal?: AbortSignal;
  /**
   * Outside a loop, `false` lets the process exit while the delay is pending (the host
   * timer is unref'd). Default `true`. A loop's timers always keep its `run()` going.
   */
  persistent?: boolean;
}

function resolveDelay(f: SignalFuture<void>): void {
  f._timer = null;
  if (!f.done()) f.setResult();
}

/**
 * A future that resolves after `ms` milliseconds: of the running loop's clock when a loop
 * runs (so a virtual clock drives it), of the host's otherwise. `await` it or `yield*` it;
 * cancelling it (or the task waiting on it) removes its timer. `Infinity` waits until the
 * signal aborts.
 *
 * @param ms delay in milliseconds; a negative or NaN delay is 0, as in @std/async
 * @throws {TypeError} when `ms` is not a number, or `signal` is not the platform's
 *   `AbortSignal` (a lookalike or a Proxy)
 * @example
 * ```ts
 * import { delay, run } from "loopwork";
 *
 * await delay(10); // plain async code: a host timer
 * await run(async () => {
 *   await delay(60_000); // on the virtual clock: no wall time
 * }, { clock: "virtual" });
 *
 * const ac = new AbortController();
 * const waiting = delay(1_000, { signal: ac.signal });
 * ac.abort(new Error("no longer needed"));
 * await waiting.then(undefined, (e) => console.log((e as Error).message)); // "no longer needed"
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Future<void> {
  if (typeof ms !== "number") throw new TypeError(`delay(): ms must be a number, got ${describeValue(ms)}`);
  checkOptions("delay()", options, ["signal", "persistent"]);
  // As @std/async (and asyncio's sleep): a negative or NaN delay is 0; fractions are truncated.
  ms = ms === Infinity ? ms : Math.trunc(Math.max(ms, 0) || 0);
  const signal = checkSignal("delay()", options.signal);
  const f = new SignalFuture<void>();
  f._watch(signal);
  if (f.done() || ms === Infinity) return f;
  f._timer = setTimer(ms, () => resolveDelay(f), options.persistent ?? true);
  return f;
}
