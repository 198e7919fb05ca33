/**
 * The lag monitor: how responsive is this thread? A host timer ticks every `intervalMs`;
 * each tick measures how late it fired. CPU work on the thread (on the loop or anywhere
 * else) delays every tick behind it, so the worst and 99th-percentile lag show what a
 * user of a server on this thread would feel. It runs on the host's timers, not on a loop,
 * so it measures the thread whether or not a loop runs, and it never keeps a process alive.
 * @module
 */
import { checkOptions, checkMs, MAX_HOST_TIMEOUT } from "../core/index.ts";

/**
 * Options of `monitorLag()`.
 *
 * @example
 * ```ts
 * import { monitorLag, type LagMonitorOptions } from "loopwork";
 *
 * const options: LagMonitorOptions = { intervalMs: 20 };
 * const monitor = monitorLag(options);
 * console.log(monitor.stop().samples >= 0); // true
 * ```
 */
export interface LagMonitorOptions {
  /** How often to tick, in ms (default 10). */
  intervalMs?: number;
}

/**
 * What a lag monitor measured. Lags are in milliseconds past each tick's due time. The
 * monitor keeps a histogram, not the samples, so its memory stays bounded however long it
 * runs: `samples`, `maxMs` and `meanMs` are exact; `p50Ms` and `p99Ms` are the top of the
 * histogram bucket the percentile falls in, never below the true figure, at most 1/128 of it
 * (or 1 µs) above, and never above `maxMs`.
 *
 * @example
 * ```ts
 * import { monitorLag, type LagReport } from "loopwork";
 *
 * const monitor = monitorLag({ intervalMs: 10 });
 * await new Promise((r) => setTimeout(r, 50));
 * const report: LagReport = monitor.stop();
 * console.log(report.maxMs >= 0); // true
 * ```
 */
export interface LagReport {
  /** Number of ticks measured. */
  samples: number;
  /** The worst lag. */
  maxMs: number;
  /** The median lag (within 1/128 above, see above). */
  p50Ms: number;
  /** The 99th-percentile lag (within 1/128 above, see above). */
  p99Ms: number;
  /** The mean lag. */
  meanMs: number;
}

/**
 * A running lag monitor; `stop()` ends it and reports.
 *
 * @example
 * ```ts
 * import { type LagMonitor, monitorLag } from "loopwork";
 *
 * const monitor: LagMonitor = monitorLag();
 * console.log(typeof monitor.stop().meanMs); // "number"
 * ```
 */
export interface LagMonitor {
  /** The figures so far, without stopping. */
  report(): LagReport;
  /** Stops ticking and returns the figures. */
  stop(): LagReport;
}

/** Sub-buckets per power of two: a bucket is at most 1/128 of its values wide. */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
/** Lags are counted in microseconds, up to 2^52 µs (143 years): at most this many buckets. */
const MAX_EXP = 52;

/**
 * The histogram bucket of a lag of `ms`: one per microsecond below 2·128 µs, then 128 per
 * power of two, so a bucket's width is under 1/128 of the values in it.
 */
function bucketOf(ms: number): number {
  const us = Math.min(Math.floor(ms * 1000), 2 ** MAX_EXP - 1);
  if (us < 2 * SUB) return us;
  let e = Math.floor(Math.log2(us)); // the power of two at or below us (corrected for rounding)
  if (2 ** e > us) e--;
  else if (2 ** (e + 1) <= us) e++;
  const shift = e - SUB_BITS;
  return (shift + 1) * SUB + (Math.floor(us / 2 ** shift) - SUB);
}

/** The highest lag, in ms, that falls in bucket `i`. */
function bucketTop(i: number): number {
  if (i < 2 * SUB) return (i + 1) / 1000;
  const shift = Math.floor(i / SUB) - 1;
  const m = SUB + (i % SUB);
  return ((m + 1) * 2 ** shift) / 1000;
}

/**
 * The lags a monitor measured, in bounded memory however long it runs: their count, sum
 * and maximum, and a histogram for the percentiles, grown up to the highest bucket used:
 * 512 buckets for lags under a millisecond, about 2 300 up to ten seconds, 5 888 at most.
 */
class LagHistogram {
  /** how many lags fell in each bucket, grown up to the highest bucket used */
  readonly counts: number[] = [];
  samples = 0;
  sum = 0;
  max = 0;

  add(ms: number): void {
    this.samples++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    const i = bucketOf(ms);
    const counts = this.counts;
    while (counts.length <= i) counts.push(0);
    counts[i]!++;
  }

  /**
   * The lag at quantile `q` (the ⌈q·n⌉-th smallest): the top of its bucket, so at most 1/128
   * (or 1 µs) above the true figure and never below it, and never above the maximum.
   */
  quantile(q: number): number {
    const n = this.samples;
    if (n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * n));
    const counts = this.counts;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(bucketTop(i), this.max);
    }
    return this.max;
  }
}

function unref(handle: ReturnType<typeof setTimeout>): void {
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (deno?.unrefTimer && typeof handle === "number") deno.unrefTimer(handle);
  else (handle as { unref?(): void }).unref?.();
}

/**
 * Starts measuring how late the host's timers fire on this thread.
 *
 * @throws {RangeError} when `intervalMs` is not a positive finite number
 * @example
 * ```ts
 * import { monitorLag } from "loopwork";
 *
 * const lag = monitorLag({ intervalMs: 5 });
 * const until = performance.now() + 100;
 * while (performance.now() < until) {} // 100 ms of CPU on this thread
 * await new Promise((r) => setTimeout(r, 20));
 * console.log(lag.stop().maxMs > 50); // true: a tick waited behind the loop
 * ```
 */
export function monitorLag(options: LagMonitorOptions = {}): LagMonitor {
  checkOptions("monitorLag()", options, ["intervalMs"]);
  const interval = checkMs("monitorLag()", "intervalMs", options.intervalMs ?? 10, { zero: false });
  if (interval > MAX_HOST_TIMEOUT) {
    // A host fires a longer timer after 1 ms: the monitor would tick every millisecond.
    throw new RangeError(`monitorLag(): intervalMs must be at most 2^31 - 1 (${MAX_HOST_TIMEOUT}) ms, got ${interval}`);
  }
  const lags = new LagHistogram();
  let due = performance.now() + interval;
  let handle: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const now = performance.now();
    lags.add(Math.max(0, now - due));
    due = now + interval;
    handle = setTimeout(tick, interval);
    unref(handle);
  };
  handle = setTimeout(tick, interval);
  unref(handle);
  const report = (): LagReport => ({
    samples: lags.samples,
    maxMs: lags.max,
    p50Ms: lags.quantile(0.5),
    p99Ms: lags.quantile(0.99),
    meanMs: lags.samples > 0 ? lags.sum / lags.samples : 0,
  });
  const monitor: LagMonitor & { _heldBuckets(): number } = {
    report,
    /** @internal How many histogram buckets the monitor holds: bounded, however many samples it took. */
    _heldBuckets: () => lags.counts.length,
    stop() {
      if (handle !== undefined) {
        clearTimeout(handle);
        handle = undefined;
        // A tick that is overdue but could not fire yet (the thread is still busy) counts:
        // without it, a thread blocked for the whole run would report no lag at all.
        const now = performance.now();
        if (now > due + interval) lags.add(now - due);
      }
      return report();
    },
  };
  return monitor;
}
