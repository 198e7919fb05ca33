/**
 * The strategies `loopwork compare` runs each workload under. Every strategy does the same
 * calls of the same workload functions; only where and how they run differs:
 *
 * - sequential: one after the other, each awaited before the next starts;
 * - loop: all at once as tasks of one task group on the loop (one thread: waits overlap,
 *   computation does not);
 * - threads / processes: all at once as calls on a worker pool of `workers` threads or
 *   child processes (computation runs in parallel, each worker serves one call at a time).
 * @module
 */
import type { Coroutine } from "../future.ts";
import { taskGroup } from "../group.ts";
import { WorkerPool } from "../pool/worker-pool.ts";
import { run } from "../run.ts";
import type { Task } from "../task.ts";
import { until } from "../until.ts";
import * as workloads from "../../workers/workloads.ts";
import type { WorkloadResult } from "../../workers/workloads.ts";
import type { StrategyName, WorkloadName } from "./report.ts";

/** One call of a workload function. */
export interface WorkloadCall {
  name: WorkloadName;
  args: [string] | [number] | [string, number];
}

/** The workload module as a pool sees it. */
export type Workloads = typeof workloads;

function callLocal(call: WorkloadCall): Promise<WorkloadResult> {
  const fn = workloads[call.name] as (...args: unknown[]) => Promise<WorkloadResult>;
  return fn(...call.args);
}

function* callOnLoop(call: WorkloadCall): Coroutine<WorkloadResult> {
  return yield* until(callLocal(call));
}

function* callOnPool(pool: WorkerPool<Workloads>, call: WorkloadCall): Coroutine<WorkloadResult> {
  const run = pool.run as (name: string, ...args: unknown[]) => Task<WorkloadResult>;
  return yield* run.call(pool, call.name, ...call.args);
}

/** Every call at once, as children of one task group; results in call order. */
function* fanOut(calls: WorkloadCall[], start: (call: WorkloadCall) => Coroutine<WorkloadResult>): Coroutine<WorkloadResult[]> {
  const tasks: Task<WorkloadResult>[] = [];
  yield* taskGroup(function* (tg) {
    for (const call of calls) tasks.push(tg.spawn(start(call)));
  });
  return tasks.map((t) => t.result());
}

/** Runs `calls` one after the other on this thread. */
export async function runSequential(calls: WorkloadCall[]): Promise<WorkloadResult[]> {
  const out: WorkloadResult[] = [];
  for (const call of calls) out.push(await callLocal(call));
  return out;
}

/** Runs `calls` all at once as tasks on a loop (this thread). */
export function runOnLoop(calls: WorkloadCall[]): Promise<WorkloadResult[]> {
  return run(() => fanOut(calls, callOnLoop), { name: "compare:loop" });
}

/** Runs `calls` all at once on `pool`, from tasks of a loop that stays free meanwhile. */
export function runOnPool(pool: WorkerPool<Workloads>, calls: WorkloadCall[]): Promise<WorkloadResult[]> {
  return run(() => fanOut(calls, (call) => callOnPool(pool, call)), { name: "compare:pool" });
}

/** The URL of the workload module, next to this file's build (`.ts` from source, `.js` from dist). */
export function workloadModuleUrl(): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`../../workers/workloads.${ext}`, import.meta.url);
}

/** Creates a pool of `workers` for the workloads and starts every worker (not timed). */
export async function startPool(kind: "thread" | "process", workers: number): Promise<WorkerPool<Workloads>> {
  const pool = new WorkerPool<Workloads>(workloadModuleUrl(), {
    kind,
    maxWorkers: workers,
    minWorkers: workers,
  });
  // Warm up: calls on every worker at once load the module and let the JIT compile the
  // computation before anything is timed.
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: workers }, () => pool.run("cpu", 4)));
  }
  return pool;
}

/** The pool kind behind a pool strategy. */
export const POOL_KIND: Partial<Record<StrategyName, "thread" | "process">> = {
  threads: "thread",
  processes: "process",
};
