/**
 * 01 — Sequential awaits vs tasks.
 *
 * Sending a message takes 2 s of waiting (for a network, say) and almost no CPU. Awaited one
 * after the other, two sends take ~4 s. Started as tasks, they wait at the same time and
 * take ~2 s: concurrency on one thread, because the waiting overlaps.
 *
 *   npx tsx examples/01-sequential-vs-tasks.ts
 *   deno run -A examples/01-sequential-vs-tasks.ts
 */
import { getRunningLoop, run, sleep, spawn } from "../mod.ts";

function* sendMessage(to: string) {
  const loop = getRunningLoop();
  const t0 = loop.time();
  console.log(`  sending to ${to}…`);
  yield* sleep(2_000); // stands for the network round trip
  console.log(`  sent to ${to} after ${((loop.time() - t0) / 1000).toFixed(2)} s`);
  return `delivered to ${to}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

await run(function* () {
  const loop = getRunningLoop();

  console.log("one after the other:");
  let t0 = loop.time();
  yield* sendMessage("alice");
  yield* sendMessage("bob");
  const sequential = loop.time() - t0;
  console.log(`sequential: ${seconds(sequential)}\n`);

  console.log("as tasks:");
  t0 = loop.time();
  const a = spawn(sendMessage("alice"));
  const b = spawn(sendMessage("bob"));
  const results = [yield* a, yield* b];
  const concurrent = loop.time() - t0;
  console.log(`as tasks: ${seconds(concurrent)} (${results.join(", ")})\n`);

  console.log(`tasks were ${(sequential / concurrent).toFixed(2)}× faster: the two waits overlapped.`);
});
