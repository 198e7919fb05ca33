/**
 * asyncio docs, as_completed: take results as they come, fastest first, whatever the
 * order they were started in; then a timeout that gives up on the slow ones, and
 * wait(FIRST_COMPLETED) to know *which* one finished (the docs' IPv4/IPv6 race).
 * Real clock, about 1.5 s.
 *
 *   npx tsx examples/04-as-completed.ts
 *   deno run -A examples/04-as-completed.ts
 */
import { asCompleted, type Coroutine, run, sleep, spawn, TimeoutError, wait } from "../mod.ts";

const t0 = performance.now();
const at = (): string => `[${String(Math.round(performance.now() - t0)).padStart(5)} ms]`;

function* download(mirror: string, ms: number): Coroutine<string> {
  yield* sleep(ms);
  return `${mirror} (${ms} ms)`;
}

await run(function* () {
  const mirrors: [string, number][] = [["eu", 450], ["us", 150], ["asia", 300], ["local", 50]];

  console.log(at(), "started in the order:", mirrors.map(([m]) => m).join(", "));
  for (const next of asCompleted(mirrors.map(([m, ms]) => download(m, ms)))) {
    const result = yield* next; // (not inside console.log: its arguments are read first)
    console.log(at(), "got", result);
  }

  // With a timeout: what has not come by then raises TimeoutError (nothing is cancelled).
  try {
    for (const next of asCompleted(mirrors.map(([m, ms]) => download(m, ms + 100)), { timeout: 320 })) {
      const result = yield* next;
      console.log(at(), "got", result);
    }
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(at(), "TimeoutError:", e.message);
  }

  // Which connection won? wait() returns the tasks themselves.
  const ipv4 = spawn(download("ipv4", 120), { name: "ipv4" });
  const ipv6 = spawn(download("ipv6", 80), { name: "ipv6" });
  const { done, pending } = yield* wait([ipv4, ipv6], { returnWhen: "FIRST_COMPLETED" });
  const winner = [...done][0]!;
  console.log(at(), `${winner === ipv6 ? "IPv6" : "IPv4"} connection established first:`, winner.result());
  for (const t of pending) t.cancel();
});

// The async-iterable form, from an async function: the results, fastest first.
await run(async () => {
  const t1 = performance.now();
  const order: string[] = [];
  for await (const r of asCompleted([download("b", 60), download("a", 30), Promise.resolve("now")])) order.push(r);
  console.log(at(), "for await:", order.join(" → "), `in ${Math.round(performance.now() - t1)} ms`);
});
