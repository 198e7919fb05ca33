/**
 * asyncio docs, "Coroutines and Tasks" → Running Tasks Concurrently: three factorials
 * gathered, each step taking 200 ms. They run concurrently: ~600 ms, not 1800 ms. Then
 * `returnExceptions` and what cancelling a gather does. Real clock, about 1.5 s.
 *
 *   npx tsx examples/03-gather.ts
 *   deno run -A examples/03-gather.ts
 */
import { CancelledError, type Coroutine, gather, run, sleep, spawn } from "../mod.ts";

const t0 = performance.now();
const at = (): string => `[${String(Math.round(performance.now() - t0)).padStart(5)} ms]`;

function* factorial(name: string, n: number): Coroutine<number> {
  let f = 1;
  for (let i = 2; i <= n; i++) {
    console.log(at(), `Task ${name}: Compute factorial(${n}), currently i=${i}...`);
    yield* sleep(200);
    f *= i;
  }
  console.log(at(), `Task ${name}: factorial(${n}) = ${f}`);
  return f;
}

await run(function* () {
  const start = performance.now();
  const results = yield* gather([factorial("A", 2), factorial("B", 3), factorial("C", 4)]);
  const ms = Math.round(performance.now() - start);
  console.log(at(), "results:", results, `in ${ms} ms (sequentially it would take 1200 ms)`);

  // Errors in place of results, instead of the first error propagating.
  const mixed = yield* gather(
    [factorial("D", 2), Promise.reject(new Error("network down")), sleep(100, "a plain future")],
    { returnExceptions: true },
  );
  console.log(at(), "with returnExceptions:", mixed.map(String));

  // Cancelling the gather cancels every child still running.
  const slow = [spawn(function* () { yield* sleep(5_000); }), spawn(function* () { yield* sleep(5_000); })];
  const g = gather(slow);
  yield* sleep(100);
  g.cancel("changed my mind");
  try {
    yield* g;
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    console.log(at(), `gather cancelled (${e.message}); children cancelled:`, slow.map((t) => t.cancelled()));
  }
});
