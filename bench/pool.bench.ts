/**
 * Benchmarks of the worker-pool bridge, each a ratio against a baseline measured in the
 * same run (the machine is shared and noisy, so absolute figures drift between runs):
 *
 * 1. no-op round-trips, WorkerPool against raw tinypool: latency p50/p99 (one call at a
 *    time) and throughput (64 calls in flight). Goal: overhead <= 10 %.
 * 2. pool.map with chunkSize "auto" against one pool.run per item, on tiny items. Goal >= 5x.
 * 3. CPU speed-up of 16 x 50 ms jobs on 2 workers against 1 worker. Goal >= 1.85 (limit 2).
 *
 *   npx tsx bench/pool.bench.ts [roundtrip|map|cpu]
 *   deno run -A bench/pool.bench.ts [roundtrip|map|cpu]
 */
import { cpus, loadavg } from "node:os";
import Tinypool from "tinypool";
import { run, WorkerPool } from "../mod.ts";
import { spin } from "./fixtures/noop.ts";

type Tasks = typeof import("./fixtures/noop.ts");
const TASKS = new URL("./fixtures/noop.ts", import.meta.url);
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const runtimeName = deno !== undefined ? `Deno ${deno.version.deno}` : `Node ${process.version}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Latencies (µs) of `n` calls made one after the other. */
async function latencies(call: () => PromiseLike<unknown>, n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    out.push((performance.now() - t0) * 1000);
  }
}

/** Calls per second with `window` calls in flight. */
async function throughput(call: () => PromiseLike<unknown>, n: number, window: number): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < n) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return n / ((performance.now() - t0) / 1000);
}

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits);
}

const lines: string[] = [];
function out(line = ""): void {
  console.log(line);
  lines.push(line);
}

const cpu = cpus();
out(`machine: ${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${runtimeName}, load average ${fmt(loadavg()[0]!, 2)}`);
out();

const only = process.argv[2];
const wanted = (section: string) => only === undefined || only === section;

// ---- 1. round-trip against raw tinypool -------------------------------------------------
if (wanted("roundtrip")) {
  const raw = new Tinypool({
    filename: "data:text/javascript,export default function noop() { return null; }",
    minThreads: 2,
    maxThreads: 2,
    useAtomics: deno === undefined,
  });
  const pool = new WorkerPool<Tasks>(TASKS, { maxWorkers: 2, minWorkers: 2 });
  const rawCall = () => raw.run(null);
  const poolCall = () => pool.run("noop");
  for (let i = 0; i < 3_000; i++) {
    await rawCall();
    await poolCall();
  }
  // Latency: the two sides alternate call by call, so that the machine's noise hits both
  // alike, in blocks of 1 000 pairs; the overhead is the median of the blocks' p50 ratios.
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const alternate = async (blocks: number, a: number[], b: number[], ratios: number[]) => {
    for (let block = 0; block < blocks; block++) {
      const ra: number[] = [];
      const rb: number[] = [];
      for (let i = 0; i < 1_000; i++) {
        let t0 = performance.now();
        await rawCall();
        ra.push((performance.now() - t0) * 1000);
        t0 = performance.now();
        await poolCall();
        rb.push((performance.now() - t0) * 1000);
      }
      ra.sort((x, y) => x - y);
      rb.sort((x, y) => x - y);
      ratios.push(percentile(rb, 50) / percentile(ra, 50));
      a.push(...ra);
      b.push(...rb);
    }
  };
  const rawLat: number[] = [];
  const poolLat: number[] = [];
  const plainRatios: number[] = [];
  await alternate(7, rawLat, poolLat, plainRatios);
  const rawLoopLat: number[] = [];
  const loopLat: number[] = [];
  const loopRatios: number[] = [];
  await run(async () => {
    await alternate(7, rawLoopLat, loopLat, loopRatios);
  });
  for (const a of [rawLat, poolLat, rawLoopLat, loopLat]) a.sort((x, y) => x - y);
  // Throughput: alternating blocks; the median block of each side counts.
  const rawTputs: number[] = [];
  const poolTputs: number[] = [];
  for (let block = 0; block < 7; block++) {
    rawTputs.push(await throughput(rawCall, 5_000, 64));
    poolTputs.push(await throughput(poolCall, 5_000, 64));
  }
  const rawTput = median(rawTputs);
  const poolTput = median(poolTputs);
  const p = (xs: number[], q: number) => fmt(percentile(xs, q));
  out("no-op round-trip, 2 thread workers (latency: 7 000 calls one at a time; throughput: 64 in flight):");
  out();
  out("| | p50 µs | p99 µs | calls/s |");
  out("|---|---|---|---|");
  out(`| raw tinypool | ${p(rawLat, 50)} | ${p(rawLat, 99)} | ${fmt(rawTput)} |`);
  out(`| WorkerPool, plain async code | ${p(poolLat, 50)} | ${p(poolLat, 99)} | ${fmt(poolTput)} |`);
  out(`| raw tinypool, inside run() | ${p(rawLoopLat, 50)} | ${p(rawLoopLat, 99)} | |`);
  out(`| WorkerPool, inside run() | ${p(loopLat, 50)} | ${p(loopLat, 99)} | |`);
  out();
  const over = (ours: number, base: number) => `${fmt((ours / base - 1) * 100, 1)} %`;
  out(
    `overhead (goal <= 10 %): p50 latency ${fmt((median(plainRatios) - 1) * 100, 1)} % ` +
      `(inside run() ${fmt((median(loopRatios) - 1) * 100, 1)} %; median of 7 blocks), ` +
      `p99 latency ${over(percentile(poolLat, 99), percentile(rawLat, 99))}, ` +
      `throughput ${over(rawTput, poolTput)}`,
  );
  out();
  await raw.destroy();
  await pool.destroy();
}

// ---- 2. map "auto" against one call per item ------------------------------------------------
if (wanted("map")) {
  const pool = new WorkerPool<Tasks>(TASKS, { maxWorkers: 2, minWorkers: 2 });
  const items = Array.from({ length: 20_000 }, (_, i) => i);
  await Promise.all([pool.run("square", 1), pool.run("square", 2)]);
  let perItemMs = Infinity;
  let autoMs = Infinity;
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    await Promise.all(items.map((i) => pool.run("square", i)));
    perItemMs = Math.min(perItemMs, performance.now() - t0);
    t0 = performance.now();
    let n = 0;
    for await (const _ of pool.map("square", items)) n++;
    if (n !== items.length) throw new Error(`map yielded ${n} results`);
    autoMs = Math.min(autoMs, performance.now() - t0);
  }
  out(`map of ${items.length} tiny items on 2 workers (best of 3):`);
  out(`one pool.run per item ${fmt(perItemMs)} ms; pool.map chunkSize "auto" ${fmt(autoMs)} ms; ` +
    `speed-up ${fmt(perItemMs / autoMs, 1)}× (goal >= 5×)`);
  out();
  await pool.destroy();
}

// ---- 3. CPU speed-up ---------------------------------------------------------------------
if (wanted("cpu")) {
  // Size one job to ~50 ms of CPU on this machine.
  spin(1e6);
  const t0 = performance.now();
  spin(4e6);
  const iterations = Math.round((50 / (performance.now() - t0)) * 4e6);
  out(`CPU speed-up, 16 jobs of ~50 ms (spin ${iterations}), 2 workers against 1 (best of 3):`);
  {
    // Baseline: what raw tinypool threads get on this machine, in this run.
    const spinSource =
      "export default function spin(n) { let x = 0; for (let i = 0; i < n; i++) x = (x + i * i) % 1000003; return x; }";
    const rawPool = (threads: number) =>
      new Tinypool({
        filename: `data:text/javascript,${encodeURIComponent(spinSource)}`,
        minThreads: threads,
        maxThreads: threads,
        useAtomics: deno === undefined,
      });
    const one = rawPool(1);
    const two = rawPool(2);
    await Promise.all([one.run(1e6), two.run(1e6), two.run(1e6)]);
    const jobs = (pool: Tinypool) => Promise.all(Array.from({ length: 16 }, () => pool.run(iterations)));
    let oneMs = Infinity;
    let twoMs = Infinity;
    for (let round = 0; round < 3; round++) {
      let s = performance.now();
      await jobs(one);
      oneMs = Math.min(oneMs, performance.now() - s);
      s = performance.now();
      await jobs(two);
      twoMs = Math.min(twoMs, performance.now() - s);
    }
    out(`raw tinypool threads (baseline): 1 thread ${fmt(oneMs)} ms, 2 threads ${fmt(twoMs)} ms, speed-up ${fmt(oneMs / twoMs, 2)}`);
    await one.destroy();
    await two.destroy();
  }
  for (const kind of ["thread", "process"] as const) {
    const one = new WorkerPool<Tasks>(TASKS, { kind, maxWorkers: 1, minWorkers: 1 });
    const two = new WorkerPool<Tasks>(TASKS, { kind, maxWorkers: 2, minWorkers: 2 });
    await Promise.all([one.run("spin", 1e6), two.run("spin", 1e6), two.run("spin", 1e6)]);
    const jobs = (pool: WorkerPool<Tasks>) => Promise.all(Array.from({ length: 16 }, () => pool.run("spin", iterations)));
    let oneMs = Infinity;
    let twoMs = Infinity;
    for (let round = 0; round < 3; round++) {
      let s = performance.now();
      await jobs(one);
      oneMs = Math.min(oneMs, performance.now() - s);
      s = performance.now();
      await jobs(two);
      twoMs = Math.min(twoMs, performance.now() - s);
    }
    out(`${kind === "thread" ? "threads" : "processes"}: 1 worker ${fmt(oneMs)} ms, 2 workers ${fmt(twoMs)} ms, speed-up ${fmt(oneMs / twoMs, 2)} (goal >= 1.85)`);
    await one.destroy();
    await two.destroy();
  }
}
