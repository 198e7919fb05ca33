/**
 * What kind of work a workload is, from what `loopwork compare` measured, and which
 * strategy to run it with. The kind comes from the share of one call's time the CPU was
 * busy (sequential calls on this thread; time spent waiting for a core on a busy machine
 * does not count) and is checked against how the strategies scaled; the recommendation is
 * the fastest strategy beyond the noise, the calmer one among those level with it.
 * @module
 */
import type { CompareReport, Row, StrategyName } from "./report.ts";
import { clearlyFaster } from "./stats.ts";

/** CPU-bound, I/O-bound or mixed. */
export type WorkKind = "CPU-bound" | "I/O-bound" | "mixed";

/** The classification of one workload and the strategy recommended for it. */
export interface Classification {
  workload: string;
  kind: WorkKind;
  /** CPU time over wall time (less time spent waiting for a core) of the sequential calls, 0..1. */
  cpuShare: number;
  /** Speed-up of the loop over sequential, if measured. */
  loopSpeedup: number | null;
  /** Speed-up of the fastest pool strategy (threads, processes) over sequential, if measured. */
  poolSpeedup: number | null;
  /** The recommended strategy. */
  strategy: StrategyName;
  /** The recommended number of workers, for a pool strategy; else null. */
  workers: number | null;
  /** One sentence: the kind, the numbers behind it, and the recommendation. */
  sentence: string;
}

/** A call busy on the CPU at least this share of its time is CPU-bound. */
export const CPU_BOUND_SHARE = 0.75;
/** A call busy on the CPU at most this share of its time is I/O-bound. */
export const IO_BOUND_SHARE = 0.25;

/** Strategies in order of preference when their times are level: the simpler first. */
const PREFERENCE: StrategyName[] = ["loop", "threads", "loop+threads", "processes", "cluster", "sequential"];

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits);
}

function spreadOf(r: Pick<Row, "wallMs" | "wallMinMs" | "wallMaxMs">) {
  return { median: r.wallMs, min: r.wallMinMs, max: r.wallMaxMs };
}

/**
 * Where a strategy's speed-up stopped growing: of its cells (one per worker count), the one
 * with the fewest workers whose samples are level with the fastest cell's (not clearly
 * slower). Both the recommendation and the sweep's "no faster beyond N workers" use it.
 *
 * @example
 * ```ts
 * import { fewestLevel } from "./classify.ts";
 *
 * const cell = (workers: number, min: number, median: number, max: number) =>
 *   ({ workers, wallMinMs: min, wallMs: median, wallMaxMs: max });
 * // 4 workers have the best median, but 2 are level with them within the samples' spread.
 * console.log(fewestLevel([cell(1, 790, 800, 810), cell(2, 405, 430, 460), cell(4, 390, 400, 410)], 5).workers); // 2
 * ```
 */
export function fewestLevel<R extends Pick<Row, "workers" | "wallMs" | "wallMinMs" | "wallMaxMs">>(cells: R[], runs: number): R {
  if (cells.length === 0) throw new RangeError("fewestLevel(): no cells");
  const fastest = cells.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  return cells
    .filter((r) => r === fastest || !clearlyFaster(spreadOf(fastest), spreadOf(r), runs))
    .reduce((a, b) => ((b.workers ?? 0) < (a.workers ?? 0) ? b : a));
}

/** The kind of work, from the CPU share and the speed-ups (see the module doc). */
export function kindOf(cpuShare: number, loopSpeedup: number | null): WorkKind {
  if (!Number.isFinite(cpuShare)) {
    // No CPU share measured: only the scaling speaks; waits that overlap on one thread are I/O.
    return loopSpeedup !== null && loopSpeedup >= 1.5 ? "I/O-bound" : "CPU-bound";
  }
  // The share decides: a call busy a share s of its time can overlap at most 1/s on one
  // thread, so a loop speed-up beyond that is the machine's noise, not the work's kind.
  return cpuShare >= CPU_BOUND_SHARE ? "CPU-bound" : cpuShare <= IO_BOUND_SHARE ? "I/O-bound" : "mixed";
}

function how(strategy: StrategyName, workers: number | null): string {
  switch (strategy) {
    case "sequential":
      return "as it is, one call after another: no strategy beat sequential beyond the spread of the samples";
    case "loop":
      return "as tasks on the loop, no workers needed";
    case "threads":
      return `on a thread pool of ${workers} worker${workers === 1 ? "" : "s"}`;
    case "processes":
      return `on a process pool of ${workers} worker${workers === 1 ? "" : "s"}`;
    case "loop+threads":
      return `waiting on the loop and computing on a thread pool of ${workers} worker${workers === 1 ? "" : "s"}`;
    case "cluster":
      return `on the cluster (${workers} workers)`;
  }
}

/**
 * Classifies workload `name` of `report` and recommends a strategy, in one sentence.
 *
 * @example
 * ```ts
 * import { kindOf } from "./classify.ts";
 *
 * console.log(kindOf(0.98, 1.0)); // "CPU-bound"
 * console.log(kindOf(0.02, 14)); // "I/O-bound"
 * console.log(kindOf(0.4, 2.7)); // "mixed"
 * ```
 */
export function classify(report: CompareReport, name: string, title: string): Classification {
  const rows = report.rows.filter((r) => r.workload === name);
  const runs = report.settings.runs;
  const seq = rows.find((r) => r.strategy === "sequential");
  let busy = 0;
  let running = 0;
  for (const s of seq?.samples ?? []) {
    busy += s.cpuMs;
    running += Math.max(s.wallMs - (s.coreWaitMs ?? 0), 1e-6);
  }
  const cpuShare = running > 0 ? Math.min(1, busy / running) : NaN;
  const loop = rows.find((r) => r.strategy === "loop");
  const pools = rows.filter((r) => r.strategy === "threads" || r.strategy === "processes");
  const bestPool = pools.length > 0 ? pools.reduce((a, b) => (b.wallMs < a.wallMs ? b : a)) : undefined;
  const loopSpeedup = loop?.speedup ?? null;
  const kind = kindOf(cpuShare, loopSpeedup);

  // The fastest cell, and every cell level with it within the samples' spread.
  const fastest = rows.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const level = rows.filter((r) => r === fastest || !clearlyFaster(spreadOf(fastest), spreadOf(r), runs));
  // Among those, leave out any that froze the main thread where another kept it free.
  const calmest = Math.min(...level.map((r) => r.lagMaxMs));
  const calm = level.filter((r) => !(r.lagMaxMs > 4 * calmest && r.lagMaxMs > 20));
  // Among those, the fastest median; a simpler strategy within 5% of it is as good and cheaper.
  const quickest = calm.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const preferred = calm.filter((r) => r.wallMs <= quickest.wallMs * 1.05).reduce((a, b) =>
    PREFERENCE.indexOf(b.strategy) < PREFERENCE.indexOf(a.strategy) ? b : a
  );
  // Its worker count is where its own speed-up stopped growing, as the sweep line says.
  const choice = fewestLevel(rows.filter((r) => r.strategy === preferred.strategy), runs);
  const strategy = level.some((r) => r.strategy === "sequential") ? "sequential" : choice.strategy;
  const chosen = strategy === "sequential" ? seq! : choice;
  const workers = chosen.workers;

  const share = Number.isFinite(cpuShare) ? `one call kept the CPU busy ${fmt(cpuShare * 100)}% of its time` : "its CPU share is unknown";
  const impossible = loop !== null && loop !== undefined && Number.isFinite(cpuShare) && cpuShare > 0 &&
    loop.speedup > (1 / cpuShare) * 1.25;
  const scaled = [
    loop ? `the loop ran the calls ${fmt(loop.speedup, 2)}× as fast as sequential` : undefined,
    bestPool ? `${bestPool.strategy} ${fmt(bestPool.speedup, 2)}×` : undefined,
  ].filter(Boolean).join(" and ");
  const outcome = strategy === "sequential"
    ? ""
    : ` (${fmt(chosen.speedup, 2)}× sequential's speed, the main thread's worst lag ${fmt(chosen.lagMaxMs, chosen.lagMaxMs < 10 ? 1 : 0)} ms)`;
  const noise = impossible ? " (more than one thread can gain from overlapping: noise)" : "";
  const sentence = `${title} is ${kind}: ${share}${scaled ? `, ${scaled}${noise}` : ""}; run it ${how(strategy, workers)}${outcome}.`;
  return {
    workload: name,
    kind,
    cpuShare,
    loopSpeedup,
    poolSpeedup: bestPool?.speedup ?? null,
    strategy,
    workers,
    sentence,
  };
}
