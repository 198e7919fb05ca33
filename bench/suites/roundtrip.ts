/**
 * Suite 5: no-op round trips on pools of 2 workers — throughput with 64 calls in flight,
 * the CPU time each call costs, and p50/p99 latency of calls made one at a time.
 * Baseline: raw tinypool. The limit rows (bare worker threads, one call per worker at a time as
 * a pool does it, and pipelined; under Deno also bare Web Workers) show what the machine can
 * do: every contender gets its ratios to the one-call-per-worker limit too (calls/s, lone-call
 * p50, CPU per call).
 *
 * All pools are started at once and measured in interleaved rounds (in a rotating order),
 * and each ratio is the median of the per-round ratios: on a shared machine a burst of
 * load then hits every contender of a round alike instead of whichever ran at that moment.
 */
import process from "node:process";
import { emit, type Entry, isDeno, latencies, median, quantile, runtime, throughput } from "../lib.ts";
import { allContenders, LIMIT_ONE_PER_WORKER } from "./pools.ts";

const WORKERS = 2;
const CALLS = 20_000;
const IN_FLIGHT = 64;
const ROUNDS = 9;
const LATENCY_CALLS = 2_000;

const contenders = await allContenders(WORKERS, true);
const rates: number[][] = contenders.map(() => []);
const cpu: number[][] = contenders.map(() => []);
const lat: number[][] = contenders.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < contenders.length; k++) {
    const i = (r + k) % contenders.length;
    const c = contenders[i]!;
    const c0 = process.cpuUsage();
    rates[i]!.push(await throughput(() => c.call("noop", 0), CALLS, IN_FLIGHT));
    const used = process.cpuUsage(c0);
    cpu[i]!.push((used.user + used.system) / CALLS);
    await latencies(() => c.call("noop", 0), LATENCY_CALLS / ROUNDS, lat[i]);
  }
}
for (const c of contenders) await c.close();

const limit = contenders.findIndex((c) => c.name === LIMIT_ONE_PER_WORKER);
const limitP50 = quantile(lat[limit]!, 0.5);
const limitCpu = median(cpu[limit]!);
const entries: Entry[] = contenders.map((c, i) => {
  const p50 = quantile(lat[i]!, 0.5);
  const extra: Record<string, number> = { "p50 µs": p50, "p99 µs": quantile(lat[i]!, 0.99) };
  // Child processes' CPU time is not this process's: only thread pools get the figure.
  if (c.threads) extra["CPU µs/call"] = median(cpu[i]!);
  if (i !== limit) {
    extra["× limit calls/s"] = median(rates[i]!.map((x, r) => x / rates[limit]![r]!));
    extra["× limit p50"] = p50 / limitP50;
    if (c.threads) extra["× limit CPU"] = median(cpu[i]!) / limitCpu;
  }
  return {
    name: c.name,
    value: median(rates[i]!),
    unit: "calls/s",
    higherIsBetter: true,
    baseline: i === 0,
    ratio: i === 0 ? 1 : median(rates[i]!.map((x, r) => x / rates[0]![r]!)),
    extra,
  };
});

emit({
  suite: "roundtrip",
  title: `no-op round trips on ${WORKERS} workers (${IN_FLIGHT} in flight, ${ROUNDS} interleaved rounds; latency one at a time)`,
  runtime,
  entries,
  notes: [
    `Each ratio is the median of ${ROUNDS} per-round ratios (every pool started at once, measured in turn, in a rotating order). ` +
      "CPU µs/call is the CPU time of this whole process (main thread and worker threads) per call: child processes are not counted, so the process pool has none. " +
      `"× limit" figures compare with "${LIMIT_ONE_PER_WORKER}" (bare worker threads on a MessageChannel, each given one call at a time): ` +
      "calls/s as the median of per-round ratios, lone-call p50 and CPU per call as ratios of the figures.",
    ...(isDeno
      ? [
        "Under Deno, tinypool runs without its Atomics fast path (it hangs there).",
      ]
      : []),
    "loopwork's threads run on its own node:worker_threads backend (src/pool/backends/thread.ts); " +
      '"on tinypool" is the same pool with the option backend: "tinypool".',
  ],
});
