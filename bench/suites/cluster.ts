/**
 * Suite "cluster": no-op round trips through a local Redis, `loopwork worker` against its
 * fair peers, each worker in its own process holding the same number of jobs at once:
 *
 * - `loopwork worker --threads 2` (a job hops to a local thread, so CPU work never starves
 *   lock renewal) against BullMQ's sandboxed processor on worker threads
 *   (`useWorkerThreads: true`): the baseline;
 * - `loopwork worker --threads 0` (a job runs on the worker's own thread) against BullMQ's
 *   inline processor.
 *
 * Throughput with 64 calls in flight, and p50/p99 latency of calls made one at a time; the
 * four are started at once and measured in interleaved rounds (in a rotating order), each
 * ratio the median of the per-round ratios against its own peer. The peers' client is
 * `Queue.add` plus one QueueEvents reader settling calls by job id (the leanest); a last row
 * drives the sandboxed peer with BullMQ's own `job.waitUntilFinished()` instead. loopwork's
 * client is a `WorkerPool` of kind "bullmq".
 * Skipped (no result) when `redis-server` is not installed.
 *
 *   npm run bench -- --suites cluster --no-python
 *   npx tsx bench/suites/cluster.ts
 */
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents } from "bullmq";
import { WorkerPool } from "../../mod.ts";
import { redisAvailable, startProcess, startRedis, startWorker, type WorkerProcess } from "../../test/cluster-helpers.ts";
import { emit, type Entry, median, quantile, runtime, throughput } from "../lib.ts";

const NOOP = fileURLToPath(new URL("../fixtures/noop.ts", import.meta.url));
const PEER = fileURLToPath(new URL("../fixtures/raw-bullmq-worker.ts", import.meta.url));

/** Jobs each worker process holds at once, on every side. */
const CONCURRENCY = Number(process.env.CLUSTER_CONCURRENCY ?? 8);
/** Threads of `loopwork worker` (the sandboxed peer starts one per job it holds). */
const THREADS = 2;
const IN_FLIGHT = 64;
const CALLS = 2_000;
const ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 7);
const LATENCY_CALLS = 210;

interface Side {
  name: string;
  /** Index of the contender it is compared with (itself for a baseline). */
  peer: number;
  call(): PromiseLike<unknown>;
  close(): Promise<void>;
}

/** BullMQ's documented request/response client: `Queue.add`, then `job.waitUntilFinished()`. */
async function waitingClient(connection: object, queue: string): Promise<{ call(): Promise<unknown>; close(): Promise<void> }> {
  const q = new Queue(queue, { connection });
  const events = new QueueEvents(queue, { connection });
  // Each waitUntilFinished() listens on the reader while it waits: 64 at once is expected.
  events.setMaxListeners(1_000);
  await Promise.all([q.waitUntilReady(), events.waitUntilReady()]);
  const keep = { count: 1_000 };
  return {
    async call() {
      const job = await q.add("noop", {}, { removeOnComplete: keep, removeOnFail: keep });
      return job.waitUntilFinished(events);
    },
    async close() {
      await events.close();
      await q.close();
    },
  };
}

/** A lean raw BullMQ client: `Queue.add`, settled by one QueueEvents reader by job id. */
async function rawClient(connection: object, queue: string): Promise<{ call(): Promise<unknown>; close(): Promise<void> }> {
  const q = new Queue(queue, { connection });
  const events = new QueueEvents(queue, { connection });
  const waiting = new Map<string, { resolve(v: unknown): void; reject(e: unknown): void }>();
  events.on("completed", ({ jobId, returnvalue }) => {
    waiting.get(jobId)?.resolve(returnvalue);
    waiting.delete(jobId);
  });
  events.on("failed", ({ jobId, failedReason }) => {
    waiting.get(jobId)?.reject(new Error(failedReason));
    waiting.delete(jobId);
  });
  await Promise.all([q.waitUntilReady(), events.waitUntilReady()]);
  const keep = { count: 1_000 };
  let n = 0;
  return {
    call() {
      const jobId = `j${++n}`;
      const done = new Promise((resolve, reject) => waiting.set(jobId, { resolve, reject }));
      q.add("noop", {}, { jobId, removeOnComplete: keep, removeOnFail: keep }).catch((e) => waiting.get(jobId)?.reject(e));
      return done;
    },
    async close() {
      await events.close();
      await q.close();
    },
  };
}

if (!redisAvailable) {
  console.error("suite cluster: redis-server is not installed (apt-get install -y redis-server): skipped");
} else {
  const load0 = loadavg()[0]!;
  const redis = await startRedis();
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const procs: WorkerProcess[] = [];
  const sides: Side[] = [];
  try {
    const c = String(CONCURRENCY);
    procs.push(
      ...(await Promise.all([
        startProcess([redis.url, "sandboxed", c, "sandboxed"], PEER, /started/),
        startWorker(redis.url, "threads", THREADS, NOOP, ["--concurrency", c]),
        startProcess([redis.url, "inline", c, "inline"], PEER, /started/),
        startWorker(redis.url, "inline0", 0, NOOP, ["--concurrency", c]),
        startProcess([redis.url, "sandboxed-wait", c, "sandboxed"], PEER, /started/),
      ])),
    );
    const sandboxed = await rawClient(connection, "sandboxed");
    const inline = await rawClient(connection, "inline");
    const waiting = await waitingClient(connection, "sandboxed-wait");
    const pool = (queue: string) => new WorkerPool<typeof import("../fixtures/noop.ts")>(null, { kind: "bullmq", connection: redis.url, queue });
    const threads = pool("threads");
    const inline0 = pool("inline0");
    sides.push(
      { name: `BullMQ sandboxed processor (useWorkerThreads, concurrency ${CONCURRENCY})`, peer: 0, ...sandboxed },
      {
        name: `loopwork worker --threads ${THREADS} --concurrency ${CONCURRENCY}`,
        peer: 0,
        call: () => threads.run("noop"),
        close: () => threads.close(),
      },
      { name: `BullMQ inline processor (concurrency ${CONCURRENCY})`, peer: 2, ...inline },
      {
        name: `loopwork worker --threads 0 --concurrency ${CONCURRENCY}`,
        peer: 2,
        call: () => inline0.run("noop"),
        close: () => inline0.close(),
      },
      {
        name: `BullMQ sandboxed processor, client job.waitUntilFinished() (concurrency ${CONCURRENCY})`,
        peer: 0,
        ...waiting,
      },
    );
    // Warm-up: every side, some calls one at a time and some in flight.
    for (const s of sides) {
      for (let i = 0; i < 100; i++) await s.call();
      await throughput(() => s.call(), 1_000, IN_FLIGHT);
    }
    const rates: number[][] = sides.map(() => []);
    const lat: number[][] = sides.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (r + k) % sides.length;
        rates[i]!.push(await throughput(() => sides[i]!.call(), CALLS, IN_FLIGHT));
      }
      // Latency: the sides alternate call by call, so a burst of load hits them alike.
      for (let n = 0; n < LATENCY_CALLS / ROUNDS; n++) {
        for (let k = 0; k < sides.length; k++) {
          const i = (r + k) % sides.length;
          const t0 = performance.now();
          await sides[i]!.call();
          lat[i]!.push((performance.now() - t0) * 1000);
        }
      }
    }
    const load1 = loadavg()[0]!;
    const entries: Entry[] = sides.map((s, i) => {
      const p50 = quantile(lat[i]!, 0.5);
      return {
        name: s.name,
        value: median(rates[i]!),
        unit: "calls/s",
        higherIsBetter: true,
        baseline: i === 0,
        // Against its peer; a peer itself (BullMQ inline) against the baseline, the sandboxed one.
        ratio: median(rates[i]!.map((x, r) => x / rates[s.peer === i ? 0 : s.peer]![r]!)),
        extra: {
          "p50 µs": p50,
          "p99 µs": quantile(lat[i]!, 0.99),
          "p50 vs peer": p50 / quantile(lat[s.peer]!, 0.5),
        },
      };
    });
    emit({
      suite: "cluster",
      title: `no-op round trips through a local Redis, one worker process each holding ${CONCURRENCY} jobs ` +
        `(${IN_FLIGHT} in flight, ${ROUNDS} interleaved rounds; latency one at a time)`,
      runtime,
      entries,
      notes: [
        `The --threads 0 row's ratios are against BullMQ's inline processor, the others' against the sandboxed one ` +
        `with the lean client (Queue.add, one QueueEvents reader settling calls by job id); the last row is the same ` +
        `sandboxed peer driven by BullMQ's own job.waitUntilFinished(). Each calls/s ratio is the median of ${ROUNDS} ` +
        `per-round ratios. Load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end.`,
      ],
    });
  } finally {
    for (const s of sides) await s.close().catch(() => {});
    await Promise.all(procs.map((p) => p.stop()));
    await redis.stop();
  }
}
