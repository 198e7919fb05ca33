/**
 * Suite 6: CPU speed-up of 16 jobs of ~50 ms on 2 workers. Baseline: the same jobs one
 * after the other on the main thread. Figures are wall times; speed-up = baseline / figure.
 */
import { availableParallelism } from "node:os";
import { emit, type Entry, median, runtime } from "../lib.ts";
import { spin } from "../fixtures/work.mjs";
import { eachContender } from "./pools.ts";

const WORKERS = 2;
const JOBS = 16;
const JOB_MS = 50;

// Calibrate a job to ~50 ms of this machine's CPU.
for (let i = 0; i < 5; i++) spin(1e6);
let n = 1e6;
for (;;) {
  const t0 = performance.now();
  spin(n);
  const ms = performance.now() - t0;
  if (ms > 10) {
    n = Math.round((n * JOB_MS) / ms);
    break;
  }
  n *= 2;
}

function sequential(): number {
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i++) spin(n);
  return performance.now() - t0;
}

const seq = median([sequential(), sequential(), sequential()]);
const entries: Entry[] = [{ name: "sequential, main thread", value: seq, unit: "ms", baseline: true }];
await eachContender(WORKERS, async (c) => {
  const walls: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: JOBS }, () => c.call("spin", n)));
    walls.push(performance.now() - t0);
  }
  const wall = Math.min(...walls);
  entries.push({ name: c.name, value: wall, unit: "ms", extra: { "speed-up": seq / wall } });
});

emit({
  suite: "cpu",
  title: `CPU speed-up: ${JOBS} jobs of ~${JOB_MS} ms on ${WORKERS} workers (${availableParallelism()} cores)`,
  runtime,
  entries,
});
