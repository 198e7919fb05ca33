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
 * What a lag monitor measured. Lags are in milliseconds past each tick's due time.
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
  /** The median lag. */
  p50Ms: number;
  /** The 99th-percentile lag. */
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

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
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
  const lags: number[] = [];
  let due = performance.now() + interval;
  let handle: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const now = performance.now();
    lags.push(Math.max(0, now - due));
    due = now + interval;
    handle = setTimeout(tick, interval);
    unref(handle);
  };
  handle = setTimeout(tick, interval);
  unref(handle);
  const report = (): LagReport => {
    const sorted = [...lags].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    return {
      samples: sorted.length,
      maxMs: sorted.length ? sorted[sorted.length - 1]! : 0,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      meanMs: sorted.length ? sum / sorted.length : 0,
    };
  };
  return {
    report,
    stop() {
      if (handle !== undefined) {
        clearTimeout(handle);
        handle = undefined;
        // A tick that is overdue but could not fire yet (the thread is still busy) counts:
        // without it, a thread blocked for the whole run would report no lag at all.
        const now = performance.now();
        if (now > due + interval) lags.push(now - due);
      }
      return report();
    },
  };
}
