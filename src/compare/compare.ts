/**
 * The comparison itself: start the latency server and the pools, run every workload
 * under every strategy while measuring wall time, CPU time and the main thread's lag,
 * then stop everything. Sequential runs first for each workload: it is the baseline.
 * @module
 */
import { availableParallelism, cpus, totalmem } from "node:os";
import { monitorLag } from "../lag.ts";
import type { WorkerPool } from "../pool/worker-pool.ts";
import type { CompareReport, CompareSettings, MachineInfo, Row, StrategyName, WorkloadName } from "./report.ts";
import { startLatencyServer } from "./server.ts";
import { type ComparisonCluster, startCluster } from "./cluster.ts";
import { burn } from "../../workers/workloads.ts";
import {
  POOL_KIND,
  runOnLoop,
  runOnPool,
  runSequential,
  startPool,
  type WorkloadCall,
  type Workloads,
} from "./strategies.ts";

/** What to compare. */
export interface CompareOptions extends CompareSettings {
  /** The workloads to run, in order. */
  workloads: WorkloadName[];
  /** The strategies to run each workload under, in order; sequential comes first. */
  strategies: StrategyName[];
  /** Redis for the `cluster` strategy (two local `loopwork worker` processes). */
  connection?: string;
  /** Called before each cell starts. */
  onCell?: (workload: WorkloadName, strategy: StrategyName, index: number, total: number) => void;
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

function callsFor(workload: WorkloadName, s: CompareSettings, url: string): WorkloadCall[] {
  return Array.from({ length: s.tasks }, (): WorkloadCall => {
    switch (workload) {
      case "io":
        return { name: "io", args: [url] };
      case "cpu":
        return { name: "cpu", args: [s.cpuSize] };
      case "mixed":
        return { name: "mixed", args: [url, s.cpuSize] };
    }
  });
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs the comparison and returns every measured row. */
export async function compare(options: CompareOptions): Promise<CompareReport> {
  const settings: CompareSettings = {
    tasks: options.tasks,
    workers: options.workers,
    ioLatencyMs: options.ioLatencyMs,
    cpuSize: options.cpuSize,
  };
  const strategies: StrategyName[] = ["sequential", ...options.strategies.filter((s) => s !== "sequential")];
  const server = await startLatencyServer(options.ioLatencyMs);
  const pools = new Map<StrategyName, WorkerPool<Workloads>>();
  let cluster: ComparisonCluster | undefined;
  const rows: Row[] = [];
  try {
    for (const s of strategies) {
      const kind = POOL_KIND[s];
      if (kind !== undefined) pools.set(s, await startPool(kind, options.workers));
      if (s === "cluster") {
        if (options.connection === undefined) throw new TypeError("the cluster strategy needs a Redis connection");
        cluster = await startCluster(options.connection, options.workers);
        pools.set(s, cluster.pool);
      }
    }
    // Warm up the computation on this thread (the pools' workers were warmed when started),
    // so the first CPU-bound cell does not pay for the JIT.
    for (let i = 0; i < 5; i++) burn(4);
    const total = options.workloads.length * strategies.length;
    let index = 0;
    for (const workload of options.workloads) {
      const calls = callsFor(workload, settings, server.url);
      let baselineMs = NaN;
      let reference: number[] | undefined;
      for (const strategy of strategies) {
        options.onCell?.(workload, strategy, index++, total);
        const pool = pools.get(strategy);
        const lag = monitorLag({ intervalMs: 5 });
        const cpu0 = cpuMs();
        const t0 = performance.now();
        const results = strategy === "sequential"
          ? await runSequential(calls)
          : strategy === "loop"
          ? await runOnLoop(calls)
          : await runOnPool(pool!, calls);
        const wallMs = performance.now() - t0;
        const cpu = cpuMs() - cpu0 + results.reduce((sum, r) => sum + r.childCpuMs, 0);
        const lagReport = lag.stop();
        // The same calls must compute the same values, whatever ran them.
        const values = results.map((r) => r.value);
        if (reference === undefined) reference = values;
        else if (values.some((v, i) => v !== reference![i])) {
          throw new Error(`compare: ${workload}/${strategy} computed different results than sequential`);
        }
        if (strategy === "sequential") baselineMs = wallMs;
        rows.push({
          workload,
          strategy,
          wallMs,
          speedup: baselineMs / wallMs,
          cpuPercent: (cpu / wallMs) * 100,
          lagMaxMs: lagReport.maxMs,
          lagP99Ms: lagReport.p99Ms,
        });
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.destroy()));
    await cluster?.stop();
    await server.close();
  }
  return { machine: machineInfo(), settings, rows };
}
