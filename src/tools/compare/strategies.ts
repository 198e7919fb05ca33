/**
 * The strategies `loopwork compare` runs each workload under. Every strategy does the same
 * calls of the same exported functions; only where and how they run differs:
 *
 * - sequential: one after the other, each awaited before the next starts;
 * - loop: all at once as tasks of one task group on the loop (one thread: waits overlap,
 *   computation does not);
 * - threads / processes: all at once as calls on a worker pool of `workers` threads or
 *   child processes (computation runs in parallel, each worker serves one call at a time);
 * - loop+threads: all at once on the loop, which does each call's waiting half itself and
 *   hands its computing half to a thread pool (for workloads that export the two halves).
 * @module
 */
import { type Coroutine, run, type Task, until } from "../../core/index.ts";
import { taskGroup } from "../../structured/group.ts";
import { type AnyTasks, WorkerPool } from "../../pool/worker-pool.ts";
import type { StrategyName } from "./report.ts";

/** A module's exports as this thread sees them. */
export type ModuleExports = Record<string, unknown>;

/** What is compared: calls of one exported function of one module. */
export interface Workload {
  /** The name in the table and the JSON: `io`, `cpu`, `mixed`, or the user's task name. */
  name: string;
  /** The heading in the table, e.g. "CPU-bound" or "resize()". */
  title: string;
  /** The module, loaded on this thread (sequential, loop, and the loop's half of loop+threads). */
  exports: ModuleExports;
  /** The module's URL, which the pools' workers load. */
  moduleUrl: URL;
  /** The exported function each call runs. */
  task: string;
  /** Each call's arguments, one entry per call. */
  calls: unknown[][];
  /** The two halves for loop+threads: `wait` runs on the loop, `compute(waited)` on the pool. */
  hybrid?: { wait: string; compute: string };
  /** Built-in workloads return `{ value, childCpuMs }`: values are checked across strategies. */
  builtin: boolean;
}

function fn(w: Workload, name: string): (...args: unknown[]) => unknown {
  return w.exports[name] as (...args: unknown[]) => unknown;
}

/** Every call at once, as children of one task group; results in call order. */
function* fanOut(calls: unknown[][], start: (args: unknown[]) => Coroutine<unknown>): Coroutine<unknown[]> {
  const tasks: Task<unknown>[] = [];
  yield* taskGroup(function* (tg) {
    for (const args of calls) tasks.push(tg.spawn(start(args)));
  });
  return tasks.map((t) => t.result());
}

function* onPool(pool: WorkerPool<AnyTasks>, name: string, args: unknown[]): Coroutine<unknown> {
  return yield* pool.run(name, ...args);
}

/** Runs the calls one after the other on this thread. */
export async function runSequential(w: Workload): Promise<unknown[]> {
  const f = fn(w, w.task);
  const out: unknown[] = [];
  for (const args of w.calls) out.push(await f(...args));
  return out;
}

/** Runs the calls all at once as tasks on a loop (this thread). */
export function runOnLoop(w: Workload): Promise<unknown[]> {
  const f = fn(w, w.task);
  return run(() =>
    fanOut(w.calls, function* (args) {
      return yield* until(Promise.resolve().then(() => f(...args)));
    }), { name: "compare:loop" });
}

/** Runs the calls all at once on `pool`, from tasks of a loop that stays free meanwhile. */
export function runOnPool(pool: WorkerPool<AnyTasks>, w: Workload): Promise<unknown[]> {
  return run(() => fanOut(w.calls, (args) => onPool(pool, w.task, args)), { name: "compare:pool" });
}

/** Runs the calls all at once: each waits on the loop, then computes on `pool`. */
export function runHybrid(pool: WorkerPool<AnyTasks>, w: Workload): Promise<unknown[]> {
  const { wait, compute } = w.hybrid!;
  const f = fn(w, wait);
  return run(() =>
    fanOut(w.calls, function* (args) {
      const waited = yield* until(Promise.resolve().then(() => f(...args)));
      return yield* onPool(pool, compute, [waited]);
    }), { name: "compare:loop+threads" });
}

/** A pool of `workers` threads or processes for `w`'s module (see `warmPool`). */
export function newPool(kind: "thread" | "process", workers: number, w: Workload): WorkerPool<AnyTasks> {
  return new WorkerPool<AnyTasks>(w.moduleUrl, { kind, maxWorkers: workers, minWorkers: workers });
}

/**
 * Starts every worker of `pool` with a few rounds of calls (not timed), so the module is
 * loaded and the JIT has compiled the work before anything is measured. The caller owns
 * the pool (and destroys it, whether this succeeds or not).
 */
export async function warmPool(pool: WorkerPool<AnyTasks>, workers: number, w: Workload): Promise<void> {
  const warm = w.builtin ? { name: "cpu", args: [4] } : { name: w.task, args: w.calls[0] ?? [] };
  for (let round = 0; round < (w.builtin ? 3 : 1); round++) {
    await Promise.all(Array.from({ length: workers }, () => pool.run(warm.name, ...warm.args)));
  }
}

/** The pool kind behind a pool strategy (loop+threads computes on the thread pool). */
export const POOL_KIND: Partial<Record<StrategyName, "thread" | "process">> = {
  threads: "thread",
  processes: "process",
  "loop+threads": "thread",
};

/** Runs `w` under `strategy`, on `pool` where the strategy needs one. */
export function runStrategy(strategy: StrategyName, w: Workload, pool: WorkerPool<AnyTasks> | undefined): Promise<unknown[]> {
  switch (strategy) {
    case "sequential":
      return runSequential(w);
    case "loop":
      return runOnLoop(w);
    case "loop+threads":
      return runHybrid(pool!, w);
    default:
      return runOnPool(pool!, w);
  }
}
