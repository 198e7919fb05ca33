/**
 * The same task module on a thread pool and on a process pool: what each costs and gives.
 *
 * Threads start fast and talk fast (a message between threads of one process); processes
 * start slower and pay for every message (a pipe between processes), but each has its own
 * memory and pid, so nothing a task does can corrupt the caller. Both spread CPU-bound
 * calls over the cores, and both survive a worker that dies.
 *
 *   npx tsx examples/09-threads-vs-processes.ts
 *   deno run -A examples/09-threads-vs-processes.ts
 */
import { type PoolKind, WorkerCrashedError, WorkerPool } from "../mod.ts";

type Cpu = typeof import("./tasks/cpu.ts");
const TASKS = new URL("./tasks/cpu.ts", import.meta.url);
const JOBS = 8;
const FIB = 34;

async function measure(kind: PoolKind): Promise<string[]> {
  const pool = new WorkerPool<Cpu>(TASKS, { kind, maxWorkers: 2 });
  try {
    let t0 = performance.now();
    await Promise.all([pool.run("noop"), pool.run("noop")]);
    const startMs = performance.now() - t0;

    const rounds = 500;
    t0 = performance.now();
    for (let i = 0; i < rounds; i++) await pool.run("noop");
    const roundTripUs = ((performance.now() - t0) / rounds) * 1000;

    await Promise.all([pool.run("fib", FIB), pool.run("fib", FIB)]); // warm both workers' JIT
    t0 = performance.now();
    for (let i = 0; i < JOBS; i++) await pool.run("fib", FIB);
    const oneByOneMs = performance.now() - t0;
    t0 = performance.now();
    await Promise.all(Array.from({ length: JOBS }, () => pool.run("fib", FIB)));
    const allJobsMs = performance.now() - t0;

    const pids = new Set(await Promise.all([pool.run("whereAmI"), pool.run("whereAmI")]));
    const samePid = pids.has(process.pid);

    let crash = "not reported";
    try {
      await pool.run("crash");
    } catch (e) {
      if (e instanceof WorkerCrashedError) crash = "WorkerCrashedError";
    }
    const after = await pool.run("fib", 10);

    return [
      kind,
      `${startMs.toFixed(0)} ms`,
      `${roundTripUs.toFixed(0)} µs`,
      `${oneByOneMs.toFixed(0)} ms`,
      `${allJobsMs.toFixed(0)} ms (${(oneByOneMs / allJobsMs).toFixed(2)}×)`,
      samePid ? "the caller's" : "its own",
      `${crash}, then fib(10) = ${after}`,
    ];
  } finally {
    await pool.destroy();
  }
}

const header = [
  "kind",
  "2 workers up",
  "no-op round-trip",
  `${JOBS} × fib(${FIB}) one by one`,
  "all at once on 2",
  "pid",
  "a worker that exits",
];
const rows = [header, await measure("thread"), await measure("process")];
const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
