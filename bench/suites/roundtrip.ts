/**
 * Suite 5: no-op round trips on pools of 2 workers — throughput with 64 calls in flight,
 * and p50/p99 latency of calls made one at a time. Baseline: raw tinypool.
 */
import { emit, type Entry, quantile, runtime } from "../lib.ts";
import { type Contender, eachContender } from "./pools.ts";

const WORKERS = 2;
const CALLS = 20_000;
const IN_FLIGHT = 64;
const LATENCY_CALLS = 2_000;

async function throughput(c: Contender): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < CALLS) {
      started++;
      await c.call("noop", 0);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return CALLS / ((performance.now() - t0) / 1000);
}

async function latencies(c: Contender): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < LATENCY_CALLS; i++) {
    const t0 = performance.now();
    await c.call("noop", 0);
    out.push((performance.now() - t0) * 1000);
  }
  return out;
}

const entries: Entry[] = [];
await eachContender(WORKERS, async (c) => {
  // Best of three rounds: the machine is shared, and the best is the least disturbed.
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) rates.push(await throughput(c));
  const lat = await latencies(c);
  entries.push({
    name: c.name,
    value: Math.max(...rates),
    unit: "calls/s",
    higherIsBetter: true,
    baseline: entries.length === 0,
    extra: { "p50 µs": quantile(lat, 0.5), "p99 µs": quantile(lat, 0.99) },
  });
});

emit({ suite: "roundtrip", title: `no-op round trips on ${WORKERS} workers (${IN_FLIGHT} in flight; latency one at a time)`, runtime, entries });
