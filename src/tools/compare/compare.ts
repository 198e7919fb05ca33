/**
 * The comparison itself: start the latency server and the pools, run every workload under
 * every strategy `runs` times (after a warm-up, strategies taking turns so a change in the
 * machine's load hits them alike) while measuring wall time, CPU time and the main thread's
 * lag, then stop everything. Sequential runs first: it is the baseline.
 * @module
 */
import { availableParallelism, cpus, totalmem } from "node:os";
import { monitorLag } from "../../inspect/lag.ts";
import type { AnyTasks, WorkerPool } from "../../pool/worker-pool.ts";
import { type BuiltinName, builtinWorkload, warmThisThread } from "./builtin.ts";
import { classify } from "./classify.ts";
import { type ComparisonCluster, startCluster } from "./cluster.ts";
import { measureLoad, processCpuMs, runQueueWaitMs } from "./load.ts";
import {
  type CompareReport,
  type CompareSettings,
  type MachineInfo,
  type Row,
  type Sample,
  type StrategyName,
  verdict,
  warnings,
} from "./report.ts";
import { startLatencyServer } from "./server.ts";
import { summarize } from "./stats.ts";
import { newPool, POOL_KIND, runStrategy, type Workload, warmPool } from "./strategies.ts";
import { CompareInputError, taskFailed, userWorkload, type UserWorkloadSpec } from "./user-module.ts";

/** What to compare. */
export interface CompareOptions extends Omit<CompareSettings, "module" | "task"> {
  /** The built-in workloads to run, in order (ignored with `user`). */
  workloads: BuiltinName[];
  /** The user's own workload instead of the built-in ones. */
  user?: UserWorkloadSpec;
  /** The strategies to run each workload under, in order; sequential comes first. */
  strategies: StrategyName[];
  /** Redis for the `cluster` strategy (two local `loopwork worker` processes). */
  connection?: string;
  /** Called before each measured run of a cell. */
  onCell?: (workload: string, strategy: StrategyName, index: number, total: number) => void;
  /**
   * Stops the comparison: once aborted, `compare()` stops its pools (their threads and
   * processes), the cluster's worker processes and the latency server, and rejects with the
   * signal's reason; nothing is reported. A call running on this thread (sequential, loop)
   * cannot be stopped: it is left behind.
   */
  signal?: AbortSignal;
}

/** `p`, or the abort of `signal` (rejecting with its reason), whichever comes first. */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  // The loser of the race is handled by it; the listener goes once either settles.
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** The machine this runs on. */
export function machineInfo(): MachineInfo {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return {
    runtime: deno ? `Deno ${deno.version.deno}` : `Node ${process.version}`,
    platform: `${process.platform}-${process.arch}`,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

/** The strategies that run on a pool and whose worker count a sweep varies. */
const SWEPT: StrategyName[] = ["threads", "processes", "loop+threads"];

/** A group of strategies measured together, taking turns, on pools of `workers`. */
interface Phase {
  workers: number;
  strategies: StrategyName[];
}

function phases(strategies: StrategyName[], workers: number, sweep: number[] | null): Phase[] {
  if (sweep === null) return [{ workers, strategies }];
  const fixed = strategies.filter((s) => !SWEPT.includes(s));
  const swept = strategies.filter((s) => SWEPT.includes(s));
  return [
    ...(fixed.length > 0 ? [{ workers, strategies: fixed }] : []),
    ...(swept.length > 0 ? sweep.map((n) => ({ workers: n, strategies: swept })) : []),
  ];
}

interface Measured {
  wallMs: number;
  sample: Sample;
  values: unknown[];
}

async function measure(strategy: StrategyName, w: Workload, pool: WorkerPool<AnyTasks> | undefined): Promise<Measured> {
  const lag = monitorLag({ intervalMs: 5 });
  const queued0 = runQueueWaitMs();
  const cpu0 = processCpuMs();
  const t0 = performance.now();
  let results: unknown[];
  try {
    results = await runStrategy(strategy, w, pool);
  } catch (e) {
    lag.stop();
    if (w.builtin) throw e;
    throw taskFailed(w, strategy, e);
  }
  const wallMs = performance.now() - t0;
  const childCpu = w.builtin ? results.reduce<number>((s, r) => s + (r as { childCpuMs: number }).childCpuMs, 0) : 0;
  const cpuMs = processCpuMs() - cpu0 + childCpu;
  const queued1 = runQueueWaitMs();
  const lagReport = lag.stop();
  return {
    wallMs,
    values: w.builtin ? results.map((r) => (r as { value: number }).value) : [],
    sample: {
      wallMs,
      cpuMs,
      coreWaitMs: queued0 === undefined || queued1 === undefined ? null : queued1 - queued0,
      lagMaxMs: lagReport.maxMs,
      lagP99Ms: lagReport.p99Ms,
    },
  };
}

function applies(strategy: StrategyName, w: Workload): boolean {
  return strategy !== "loop+threads" || w.hybrid !== undefined;
}

/** Runs the comparison and returns every measured row, the classification and the verdict. */
export async function compare(options: CompareOptions): Promise<CompareReport> {
  const settings: CompareSettings = {
    tasks: options.tasks,
    workers: options.workers,
    ioLatencyMs: options.ioLatencyMs,
    cpuSize: options.cpuSize,
    runs: options.runs,
    sweep: options.sweep,
    ...(options.user ? { module: options.user.module, task: options.user.task } : {}),
  };
  // Aborted by the caller's signal, or by the loss of a cluster worker process.
  const stopper = new AbortController();
  const signal = stopper.signal;
  const onAbort = () => stopper.abort(options.signal!.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  const step = <T>(p: Promise<T>): Promise<T> => unlessAborted(p, signal);
  // The user's input is checked before anything starts: a bad module costs no pool.
  const user = options.user ? await step(userWorkload(options.user)) : undefined;
  const strategies: StrategyName[] = ["sequential", ...options.strategies.filter((s) => s !== "sequential")];
  const before = await step(measureLoad());
  // Started, then stopped below whatever happens (an abort meanwhile included).
  const serving = user ? undefined : startLatencyServer(options.ioLatencyMs);
  serving?.catch(() => {});
  const server = serving === undefined ? undefined : await step(serving).catch(async (e) => {
    await serving.then((s) => s.close(), () => {});
    throw e;
  });
  const workloads: Workload[] = user ? [user] : options.workloads.map((n) => builtinWorkload(n, settings, server!.url));
  const samples = new Map<string, { workload: string; strategy: StrategyName; workers: number | null; samples: Sample[] }>();
  const plan = phases(strategies, options.workers, options.sweep);
  const total = plan.reduce(
    (sum, p) => sum + workloads.reduce((s, w) => s + p.strategies.filter((st) => applies(st, w)).length, 0),
    0,
  ) * options.runs;
  let index = 0;
  let cluster: ComparisonCluster | undefined;
  const pools = new Map<string, WorkerPool<AnyTasks>>();
  const stopPools = async () => {
    const all = [...pools.values()];
    pools.clear();
    await Promise.all(all.map((p) => p.destroy()));
    await cluster?.stop();
    cluster = undefined;
  };
  try {
    if (user) {
      // One call on this thread first: a task that throws is named before any pool starts.
      try {
        await step(runStrategy("sequential", { ...user, calls: user.calls.slice(0, 1) }, undefined));
      } catch (e) {
        throw signal?.aborted ? e : taskFailed(user, "sequential (its first call)", e);
      }
    } else warmThisThread();
    for (const phase of plan) {
      for (const w of workloads) {
        const cells = phase.strategies.filter((s) => applies(s, w));
        // Pools for this phase's worker count: built-in workloads share them, a user
        // module gets its own.
        for (const s of cells) {
          const kind = POOL_KIND[s];
          if (kind !== undefined && !pools.has(kind)) {
            // Owned at once, so the finally below stops it even while it warms up.
            const pool = newPool(kind, phase.workers, w);
            pools.set(kind, pool);
            try {
              await step(warmPool(pool, phase.workers, w));
            } catch (e) {
              if (w.builtin || signal?.aborted) throw e;
              throw taskFailed(w, s, e);
            }
          }
          if (s === "cluster" && cluster === undefined) {
            if (options.connection === undefined) throw new TypeError("the cluster strategy needs a Redis connection");
            cluster = await step(startCluster(options.connection, phase.workers, signal));
            cluster.lost.catch((e) => stopper.abort(e));
            pools.set("cluster", cluster.pool as unknown as WorkerPool<AnyTasks>);
          }
        }
        const poolOf = (s: StrategyName) => pools.get(s === "cluster" ? "cluster" : POOL_KIND[s] ?? "");
        // Warm-up: a few calls under each strategy, not timed.
        const warm: Workload = { ...w, calls: w.calls.slice(0, Math.min(w.calls.length, 2 * phase.workers)) };
        for (const s of cells) await step(measure(s, warm, poolOf(s)));
        let reference: unknown[] | undefined;
        for (let run = 0; run < options.runs; run++) {
          for (const s of cells) {
            options.onCell?.(w.name, s, index++, total);
            const m = await step(measure(s, w, poolOf(s)));
            if (w.builtin) {
              // The same calls must compute the same values, whatever ran them.
              if (reference === undefined) reference = m.values;
              else if (m.values.some((v, i) => v !== reference![i])) {
                throw new Error(`compare: ${w.name}/${s} computed different results than the first strategy`);
              }
            }
            const workers = POOL_KIND[s] !== undefined || s === "cluster" ? phase.workers : null;
            const key = `${w.name}/${s}/${workers}`;
            const cell = samples.get(key) ?? { workload: w.name, strategy: s, workers, samples: [] };
            cell.samples.push(m.sample);
            samples.set(key, cell);
          }
        }
        if (!w.builtin) await stopPools();
      }
      await stopPools();
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await stopPools();
    await server?.close();
  }
  const after = await measureLoad();
  const rows = toRows([...samples.values()]);
  const report: CompareReport = {
    machine: machineInfo(),
    settings,
    load: { before, after },
    rows,
    classifications: [],
    warnings: [],
    verdict: "",
  };
  report.classifications = workloads.map((w) => classify(report, w.name, w.builtin ? `The built-in ${w.name} workload` : w.title));
  report.warnings = warnings(report);
  report.verdict = verdict(report);
  return report;
}

/** Summarizes each cell's samples into a row; speed-up is against the workload's sequential median. */
export function toRows(cells: { workload: string; strategy: StrategyName; workers: number | null; samples: Sample[] }[]): Row[] {
  const rows = cells.map((c): Row => {
    const wall = summarize(c.samples.map((s) => s.wallMs));
    return {
      workload: c.workload,
      strategy: c.strategy,
      workers: c.workers,
      wallMs: wall.median,
      wallMinMs: wall.min,
      wallMaxMs: wall.max,
      speedup: NaN,
      cpuPercent: summarize(c.samples.map((s) => (s.cpuMs / s.wallMs) * 100)).median,
      lagMaxMs: summarize(c.samples.map((s) => s.lagMaxMs)).median,
      lagP99Ms: summarize(c.samples.map((s) => s.lagP99Ms)).median,
      samples: c.samples,
    };
  });
  for (const r of rows) {
    const base = rows.find((b) => b.workload === r.workload && b.strategy === "sequential");
    r.speedup = base ? base.wallMs / r.wallMs : NaN;
  }
  return rows;
}

export { CompareInputError };
