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
 * Throughput with 64 calls in flight, and p50/p99 latency of calls made one at a time. All
 * are started at once, on one Redis (a queue each), and warmed up until each queue holds its
 * full count of finished jobs. Throughput is measured in rounds; in each, every contender
 * and its peer run blocks back to back in the order peer, contender, contender, peer (the
 * reverse in the next round), so a drift of the machine's load over the four blocks weighs
 * on both alike and neither always goes first; a round's ratio is the two calls/s of its
 * blocks (all calls ÷ all time), the figure the median of the per-round ratios. "CPU ratio"
 * is the same ratio of the CPU time a call costs the whole system (the client's process,
 * the worker's process with all its threads, and Redis; from /proc), which other processes'
 * load moves far less than wall time (where /proc is not, it is left out). Latency: the
 * contenders take turns call by call, in an order shuffled afresh for each turn (a fixed
 * order would have each one always follow the same other one, and pay for its wake-ups).
 * The peers' client is `Queue.add` plus one QueueEvents reader settling calls by job id (the
 * leanest); a last row drives the sandboxed peer with BullMQ's own `job.waitUntilFinished()`
 * instead. loopwork's client is a `WorkerPool` of kind "bullmq".
 * Skipped (no result) when `redis-server` is not installed.
 *
 *   npm run bench -- --suites cluster --no-python
 *   npx tsx bench/suites/cluster.ts
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import process from "node:process";
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
/** Calls of one throughput block (each round runs four per pair: peer, contender, contender, peer). */
const BLOCK = Number(process.env.CLUSTER_BLOCK ?? 1_000);
const ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 9);
/** Latency: calls of each side per round. */
const LATENCY_CALLS = 45;

/** CPU time (µs) a process has used so far, all its threads, from /proc (NaN where there is none). */
function processCpu(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * (1e6 / CLOCK_TICKS);
  } catch {
    return NaN;
  }
}
/** USER_HZ of /proc's tick counts (100 on every Linux build in use). */
const CLOCK_TICKS = 100;

/** This process's CPU time so far, µs. */
function ownCpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** A small seeded PRNG (mulberry32), so that a run's shuffles can be repeated. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Side {
  name: string;
  /** The process that serves it (its CPU is counted with the call's). */
  pid?: number;
  /** Index of the contender it is compared with (itself for a baseline). */
  peer: number;
  call(): PromiseLike<unknown>;
  close(): Promise<void>;
}

/** BullMQ's documented request/response client: `Queue.add`, then `job.waitUntilFinished()`. */
async function waitingClient(connection: object, queue: string): Promise<{ call(): Promise<unknown>; close(): Promise<void> }> {
  const q = new Queue(queue, { connection });
  const events = new QueueEvents(queue, { connection });
  // Each waitUntilFinished() listens on the reader (and the queue) while it waits: 64 at once is expected.
  events.setMaxListeners(1_000);
  q.setMaxListeners(1_000);
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
    const pid = (i: number) => procs[i]!.child.pid;
    sides.push(
      { name: `BullMQ sandboxed processor (useWorkerThreads, concurrency ${CONCURRENCY})`, peer: 0, pid: pid(0), ...sandboxed },
      {
        name: `loopwork worker --threads ${THREADS} --concurrency ${CONCURRENCY}`,
        peer: 0,
        pid: pid(1),
        call: () => threads.run("noop"),
        close: () => threads.close(),
      },
      { name: `BullMQ inline processor (concurrency ${CONCURRENCY})`, peer: 2, pid: pid(2), ...inline },
      {
        name: `loopwork worker --threads 0 --concurrency ${CONCURRENCY}`,
        peer: 2,
        pid: pid(3),
        call: () => inline0.run("noop"),
        close: () => inline0.close(),
      },
      {
        name: `BullMQ sandboxed processor, client job.waitUntilFinished() (concurrency ${CONCURRENCY})`,
        peer: 0,
        pid: pid(4),
        ...waiting,
      },
    );
    // Redis's own pid, for its CPU time (it runs on this machine: it was started here).
    const admin = new Queue("admin", { connection });
    const raw = (await (admin.getBackend() as unknown as { client: Promise<unknown> }).client) as { info(s: string): Promise<string> };
    const redisPid = Number(/process_id:(\d+)/.exec(await raw.info("server"))?.[1]);
    await admin.close();
    // Warm-up: every side, some calls one at a time and some in flight, until its queue is
    // as it stays from then on: its full count of finished jobs (1 000) and an event stream
    // at its cap (BullMQ's 10 000 entries, about 4 a job), which is trimmed as it grows. (A
    // queue flushed between rounds would be measured growing, not as it runs.)
    for (const s of sides) {
      for (let i = 0; i < 100; i++) await s.call();
      await throughput(() => s.call(), 2_600, IN_FLIGHT);
    }
    /** One block: [seconds, CPU µs of the whole system]. */
    const block = async (s: Side): Promise<[number, number]> => {
      const cpu0 = ownCpu() + processCpu(s.pid) + processCpu(redisPid);
      const t0 = performance.now();
      await throughput(() => s.call(), BLOCK, IN_FLIGHT);
      const t = (performance.now() - t0) / 1000;
      return [t, ownCpu() + processCpu(s.pid) + processCpu(redisPid) - cpu0];
    };
    // Per side and round: calls/s, and CPU µs per call, of its blocks in that round.
    const rates: number[][] = sides.map(() => []);
    const cpus: number[][] = sides.map(() => []);
    // The pairs measured back to back: [peer, contender].
    const pairs = sides.flatMap((s, i) => (s.peer === i ? [] : [[s.peer, i] as const]));
    // Per contender and round: [calls/s ratio, CPU ratio] against its peer's blocks of that pair.
    const versus: Array<Array<[number, number]>> = sides.map(() => []);
    const lat: number[][] = sides.map(() => []);
    const random = prng(16);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [peer, own] of pairs) {
        const order = r % 2 === 0 ? [peer, own, own, peer] : [own, peer, peer, own];
        const time = new Map<number, number>([[peer, 0], [own, 0]]);
        const cpu = new Map<number, number>([[peer, 0], [own, 0]]);
        for (const i of order) {
          const [t, c] = await block(sides[i]!);
          time.set(i, time.get(i)! + t);
          cpu.set(i, cpu.get(i)! + c);
        }
        for (const i of [peer, own]) {
          // The peer of several contenders: the figure of its first pair in the round.
          if (rates[i]!.length > r) continue;
          rates[i]!.push((2 * BLOCK) / time.get(i)!);
          cpus[i]!.push(cpu.get(i)! / (2 * BLOCK));
        }
        versus[own]!.push([time.get(peer)! / time.get(own)!, cpu.get(peer)! / cpu.get(own)!]);
      }
      // Latency: the sides take turns call by call, in an order shuffled for each turn.
      for (let n = 0; n < LATENCY_CALLS; n++) {
        const order = sides.map((_, i) => i);
        for (let k = order.length - 1; k > 0; k--) {
          const j = Math.floor(random() * (k + 1));
          [order[k], order[j]] = [order[j]!, order[k]!];
        }
        for (const i of order) {
          const t0 = performance.now();
          await sides[i]!.call();
          lat[i]!.push((performance.now() - t0) * 1000);
        }
      }
    }
    const load1 = loadavg()[0]!;
    const entries: Entry[] = sides.map((s, i) => {
      const p50 = quantile(lat[i]!, 0.5);
      // A peer itself (BullMQ inline) against the baseline, the sandboxed one, in the same round
      // (not back to back: for information only).
      const vs = versus[i]!;
      const rs = vs.length > 0 ? vs.map((v) => v[0]) : rates[i]!.map((x, r) => x / rates[0]![r]!);
      const cs = vs.length > 0 ? vs.map((v) => v[1]) : cpus[i]!.map((x, r) => cpus[0]![r]! / x);
      const extra: Record<string, number> = {
        "p50 µs": p50,
        "p99 µs": quantile(lat[i]!, 0.99),
        "p50 vs peer": p50 / quantile(lat[s.peer]!, 0.5),
        // (On the baseline: its own figure's spread.)
        ...(i === 0 ? { min: Math.min(...rates[0]!), max: Math.max(...rates[0]!) } : { "ratio min": Math.min(...rs), "ratio max": Math.max(...rs) }),
        "CPU µs per call": median(cpus[i]!),
      };
      if (cs.every(Number.isFinite)) extra["CPU ratio"] = median(cs);
      else delete extra["CPU µs per call"];
      return {
        name: s.name,
        value: median(rates[i]!),
        unit: "calls/s",
        higherIsBetter: true,
        baseline: i === 0,
        ratio: median(rs),
        extra,
      };
    });
    emit({
      suite: "cluster",
      title: `no-op round trips through a local Redis, one worker process each holding ${CONCURRENCY} jobs ` +
        `(${IN_FLIGHT} in flight, ${ROUNDS} rounds of paired blocks; latency one at a time)`,
      runtime,
      entries,
      notes: [
        `The --threads 0 row's ratios are against BullMQ's inline processor, the others' against the sandboxed one ` +
        `with the lean client (Queue.add, one QueueEvents reader settling calls by job id); the last row is the same ` +
        `sandboxed peer driven by BullMQ's own job.waitUntilFinished(). Each calls/s ratio is the median of ${ROUNDS} ` +
        `per-round ratios, each round's blocks of ${BLOCK} calls run back to back as peer, contender, contender, peer ` +
        `(or the reverse); "CPU ratio" is the peer's CPU time per call over the contender's (client, worker process and ` +
        `Redis together; above 1: the contender costs less). Load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end.`,
      ],
    });
  } finally {
    for (const s of sides) await s.close().catch(() => {});
    await Promise.all(procs.map((p) => p.stop()));
    await redis.stop();
  }
}
