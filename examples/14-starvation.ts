/**
 * 14 — CPU work starves the loop, and its two cures.
 *
 * A heartbeat task wants to beat every 10 ms. A long computation on the loop's thread stops
 * every other task until it returns: the heartbeat starves. Cure 1: cut the computation into
 * slices and `yield* yieldNow()` between them, so the loop can run others (the work takes as
 * long, but the loop stays responsive). Cure 2: move the computation to a worker pool, where
 * it runs in parallel and the loop is free altogether.
 *
 * The loop runs in debug mode (`run(main, { debug: { slowStepMs: 100 } })`): it names the
 * task whose step held the loop too long and says what to do about it.
 *
 *   npx tsx examples/14-starvation.ts
 *   deno run -A examples/14-starvation.ts
 */
import { type Coroutine, getRunningLoop, run, sleep, spawn, WorkerPool, yieldNow } from "../mod.ts";
import { sumOfSquares } from "./tasks/cpu.ts";

const N = 400_000_000;
const SLICE = 4_000_000;

interface Beats {
  count: number;
  worstGapMs: number;
}

function* heartbeat(beats: Beats): Coroutine<void> {
  const loop = getRunningLoop();
  let last = loop.time();
  for (;;) {
    yield* sleep(10);
    const now = loop.time();
    beats.count++;
    beats.worstGapMs = Math.max(beats.worstGapMs, now - last);
    last = now;
  }
}

function* sliced(n: number): Coroutine<number> {
  let total = 0;
  for (let from = 0; from < n; from += SLICE) {
    total = (total + sumOfSquares(from, Math.min(n, from + SLICE))) >>> 0;
    yield* yieldNow(); // let the loop run the others between slices
  }
  return total;
}

await using pool = new WorkerPool<typeof import("./tasks/cpu.ts")>(
  new URL("./tasks/cpu.ts", import.meta.url),
  { maxWorkers: 1, minWorkers: 1 },
);
// Start the worker and warm the JIT on both sides before timing anything.
for (let i = 0; i < 20; i++) await pool.run("sumOfSquares", 0, SLICE);
for (let i = 0; i < 20; i++) sumOfSquares(0, SLICE); // warm this thread's JIT too

await run(function* () {
  const loop = getRunningLoop();
  const ways: Array<[string, () => Coroutine<number>]> = [
    ["on the loop, in one go", function* () {
      return sumOfSquares(0, N); // blocks the thread until done
    }],
    ["on the loop, yieldNow() per slice", () => sliced(N)],
    ["on a WorkerPool thread", function* () {
      return yield* pool.run("sumOfSquares", 0, N);
    }],
  ];
  for (const [label, work] of ways) {
    const beats: Beats = { count: 0, worstGapMs: 0 };
    const beat = spawn(heartbeat(beats));
    yield* sleep(20);
    beats.count = 0;
    beats.worstGapMs = 0;
    const t0 = loop.time();
    const result = yield* work();
    const ms = loop.time() - t0;
    yield* sleep(11); // let a starved heartbeat notice the gap
    beat.cancel();
    console.log(
      `${label.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms, result ${result}; ` +
        `heartbeats ${String(beats.count).padStart(3)}, worst gap ${beats.worstGapMs.toFixed(0).padStart(4)} ms`,
    );
  }
}, { debug: { slowStepMs: 100 } });
