/**
 * Suite 5: no-op round trips on pools of 2 workers — throughput with 64 calls in flight,
 * and p50/p99 latency of calls made one at a time. Baseline: raw tinypool.
 */
import { emit, type Entry, latencies, quantile, runtime, throughput } from "../lib.ts";
import { eachContender } from "./pools.ts";

const WORKERS = 2;
const CALLS = 20_000;
const IN_FLIGHT = 64;
const LATENCY_CALLS = 2_000;

const entries: Entry[] = [];
await eachContender(WORKERS, async (c) => {
  // Best of three rounds: the machine is shared, and the best is the least disturbed.
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) rates.push(await throughput(() => c.call("noop", 0), CALLS, IN_FLIGHT));
  const lat = await latencies(() => c.call("noop", 0), LATENCY_CALLS);
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
