/**
 * How busy the machine was around a comparison: the load average, and the CPU that other
 * processes used while this one stood idle (from /proc/stat on Linux). Numbers measured on
 * a busy machine are slower and noisier; the report says so instead of drawing conclusions.
 * @module
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** What the machine was doing besides the comparison. */
export interface MachineLoad {
  /** The 1-minute load average when the comparison started (NaN where unknown). */
  loadAverage: number;
  /**
   * Cores' worth of CPU other processes used during a short idle window before the
   * comparison (e.g. 0.8 = 80% of one core); null where /proc/stat is not readable.
   */
  otherCores: number | null;
}

function readBusyMs(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return (busy * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Measures the machine's load over an idle window of `windowMs` (this process waits). */
export async function measureLoad(windowMs = 300): Promise<MachineLoad> {
  let loadAverage = NaN;
  try {
    loadAverage = loadavg()[0] ?? NaN;
  } catch {
    // not every runtime and platform has it
  }
  const busy0 = readBusyMs();
  const own0 = ownCpuMs();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const busy1 = readBusyMs();
  const elapsed = performance.now() - t0;
  const otherCores = busy0 === undefined || busy1 === undefined
    ? null
    : Math.max(0, (busy1 - busy0 - (ownCpuMs() - own0)) / elapsed);
  return { loadAverage, otherCores };
}

/**
 * Milliseconds this thread has spent ready to run but waiting for a core (Linux
 * /proc/thread-self/schedstat), or undefined where unknown. Subtracted from wall time, it
 * leaves the time the thread ran or waited for I/O, whatever else the machine was doing.
 */
export function runQueueWaitMs(): number | undefined {
  try {
    const f = readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(/\s+/);
    const ns = Number(f[1]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms this process has used (every thread). */
export function processCpuMs(): number {
  return ownCpuMs();
}
