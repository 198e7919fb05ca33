/**
 * Benchmarks of the `"bullmq"` pool, each a ratio against a baseline measured in the same
 * run (the machine is shared and noisy): a local `redis-server` on a free port, one
 * `loopwork worker` process (2 threads) and one raw BullMQ worker process, each holding 8
 * jobs at once.
 *
 * 1. no-op round trip, `pool.run("noop")` against raw BullMQ `queue.add()` +
 *    `job.waitUntilFinished()`: latency p50/p99 (one call at a time, the two sides
 *    alternating) and throughput (64 in flight). Goal: overhead <= 10 %.
 * 2. `pool.map` of tiny items with chunkSize "auto" against one job per item. Goal >= 20×.
 *
 *   npx tsx bench/cluster.bench.ts
 *   deno run -A bench/cluster.bench.ts
 */
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents } from "bullmq";
import { WorkerPool } from "../mod.ts";
import { redisAvailable, startProcess, startRedis, startWorker } from "../test/cluster-helpers.ts";
import { quantile, runtime, throughput } from "./lib.ts";

type Tasks = typeof import("./fixtures/noop.ts");
const NOOP = fileURLToPath(new URL("./fixtures/noop.ts", import.meta.url));
const RAW = fileURLToPath(new URL("./fixtures/raw-bullmq-worker.ts", import.meta.url));

/** Jobs each worker process holds at once, on both sides. */
const CONCURRENCY = 8;

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits);
}

if (!redisAvailable) {
  console.log("bench/cluster.bench.ts needs redis-server (apt-get install -y redis-server): skipped");
} else {
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${runtime}, load average ${fmt(loadavg()[0]!, 2)}`);
  console.log();
  const redis = await startRedis();
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const ours = await startWorker(redis.url, "ours", 2, NOOP, ["--concurrency", String(CONCURRENCY)]);
  const raw = await startProcess([redis.url, "raw", String(CONCURRENCY)], RAW, /started/);
  const rawQueue = new Queue("raw", { connection });
  // Each raw waitUntilFinished() listens on the queue while it waits: 64 at once is expected.
  rawQueue.setMaxListeners(1_000);
  const rawEvents = new QueueEvents("raw", { connection });
  await Promise.all([rawQueue.waitUntilReady(), rawEvents.waitUntilReady()]);
  const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue: "ours" });
  try {
    const keep = { count: 1_000 };
    const rawCall = async () => {
      const job = await rawQueue.add("noop", {}, { removeOnComplete: keep, removeOnFail: keep });
      return job.waitUntilFinished(rawEvents);
    };
    const poolCall = () => pool.run("noop");
    for (let i = 0; i < 300; i++) {
      await rawCall();
      await poolCall();
    }
    // ---- 1. round trip ------------------------------------------------------------------
    const rawLat: number[] = [];
    const poolLat: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      let t0 = performance.now();
      await rawCall();
      rawLat.push(performance.now() - t0);
      t0 = performance.now();
      await poolCall();
      poolLat.push(performance.now() - t0);
    }
    const rawTputs: number[] = [];
    const poolTputs: number[] = [];
    for (let block = 0; block < 5; block++) {
      rawTputs.push(await throughput(rawCall, 2_000, 64));
      poolTputs.push(await throughput(poolCall, 2_000, 64));
    }
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const rawTput = med(rawTputs);
    const poolTput = med(poolTputs);
    const over = (a: number, b: number) => `${fmt((a / b - 1) * 100, 1)} %`;
    console.log(`no-op round trip through a local Redis, one worker process each, ${CONCURRENCY} jobs at once (ours on 2 threads; latency: 1 000 calls one at a time; throughput: 64 in flight, median of 5 blocks of 2 000):`);
    console.log();
    console.log("| | p50 ms | p99 ms | calls/s |");
    console.log("|---|---|---|---|");
    console.log(`| raw BullMQ (Queue.add + waitUntilFinished) | ${fmt(quantile(rawLat, 0.5), 2)} | ${fmt(quantile(rawLat, 0.99), 2)} | ${fmt(rawTput)} |`);
    console.log(`| WorkerPool kind "bullmq" + loopwork worker | ${fmt(quantile(poolLat, 0.5), 2)} | ${fmt(quantile(poolLat, 0.99), 2)} | ${fmt(poolTput)} |`);
    console.log();
    console.log(
      `overhead (goal <= 10 %): p50 latency ${over(quantile(poolLat, 0.5), quantile(rawLat, 0.5))}, ` +
        `p99 latency ${over(quantile(poolLat, 0.99), quantile(rawLat, 0.99))}, throughput ${over(rawTput, poolTput)}`,
    );
    console.log();

    // ---- 2. map "auto" against one job per item -------------------------------------------
    const items = Array.from({ length: 5_000 }, (_, i) => i);
    let perItemMs = Infinity;
    let autoMs = Infinity;
    for (let round = 0; round < 2; round++) {
      let t0 = performance.now();
      let n = 0;
      for await (const _ of pool.map("square", items, { chunkSize: 1 })) n++;
      perItemMs = Math.min(perItemMs, performance.now() - t0);
      t0 = performance.now();
      for await (const _ of pool.map("square", items)) n++;
      autoMs = Math.min(autoMs, performance.now() - t0);
      if (n !== 2 * items.length) throw new Error(`map yielded ${n} results`);
    }
    console.log(`map of ${items.length} tiny items on one worker process of 2 threads (best of 2):`);
    console.log(
      `one job per item (chunkSize 1) ${fmt(perItemMs)} ms; chunkSize "auto" ${fmt(autoMs)} ms; ` +
        `speed-up ${fmt(perItemMs / autoMs, 1)}× (goal >= 20×)`,
    );
  } finally {
    await pool.close();
    await rawEvents.close();
    await rawQueue.close();
    await Promise.all([ours.stop(), raw.stop()]);
    await redis.stop();
  }
}
