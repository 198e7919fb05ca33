/**
 * CPU-bound work blocks the loop; a worker pool does not.
 *
 * A ticker wants to run every 10 ms and records how late each tick is. First fib(N) runs on
 * the loop itself: no tick can run until it returns. Then the same fib(N) runs on a worker
 * thread through a WorkerPool while the loop keeps ticking on time.
 *
 *   npx tsx examples/08-cpu-offload.ts
 *   deno run -A examples/08-cpu-offload.ts
 */
import { type Coroutine, getRunningLoop, run, sleep, spawn, WorkerPool } from "../mod.ts";
import { fib } from "./tasks/cpu.ts";

const N = 38;
const TICK_MS = 10;

interface Ticks {
  count: number;
  worstLagMs: number;
}

function* ticker(ticks: Ticks): Coroutine<void> {
  const loop = getRunningLoop();
  for (;;) {
    const due = loop.time() + TICK_MS;
    yield* sleep(TICK_MS);
    ticks.count++;
    ticks.worstLagMs = Math.max(ticks.worstLagMs, loop.time() - due);
  }
}

function report(where: string, ms: number, ticks: Ticks): void {
  const expected = Math.floor(ms / TICK_MS);
  console.log(
    `${where.padEnd(22)} fib(${N}) took ${ms.toFixed(0).padStart(5)} ms; ` +
      `ticks: ${String(ticks.count).padStart(3)} of ~${expected}; worst tick lag ${ticks.worstLagMs.toFixed(0)} ms`,
  );
}

await using pool = new WorkerPool<typeof import("./tasks/cpu.ts")>(
  new URL("./tasks/cpu.ts", import.meta.url),
  { maxWorkers: 1, minWorkers: 1 },
);
await pool.run("noop"); // start the worker first: start-up is not what this example shows

await run(function* () {
  const loop = getRunningLoop();

  // 1. On the loop: the ticker is starved until fib returns.
  let ticks: Ticks = { count: 0, worstLagMs: 0 };
  let t = spawn(ticker(ticks));
  yield* sleep(TICK_MS * 2);
  ticks.count = 0;
  ticks.worstLagMs = 0;
  let start = loop.time();
  fib(N);
  yield* sleep(0);
  const onLoopMs = loop.time() - start;
  yield* sleep(TICK_MS); // let the starved tick report its lag
  t.cancel();
  report("on the loop:", onLoopMs, ticks);

  // 2. On a worker thread: the loop stays free and the ticker keeps time.
  ticks = { count: 0, worstLagMs: 0 };
  t = spawn(ticker(ticks));
  yield* sleep(TICK_MS * 2);
  ticks.count = 0;
  ticks.worstLagMs = 0;
  start = loop.time();
  yield* pool.run("fib", N);
  const onPoolMs = loop.time() - start;
  t.cancel();
  report("on a WorkerPool thread:", onPoolMs, ticks);
});
