/**
 * Fault tests from a hostile campaign on the BullMQ cluster, for what test/faults/cluster.test.ts,
 * cluster-reader.test.ts and test/cluster.test.ts leave out: Redis paused (SIGSTOP) for a
 * moment and for good, Redis killed (SIGKILL) mid-call, a result the worker cannot send back,
 * a pool destroyed under calls in flight, and `loopwork compare --connection` interrupted.
 * Promises must settle with an error naming what happened, nothing may hang, no process
 * may be left behind. Every time bound is a generous "it did not hang" guard.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { PoolClosedError, PoolConnectionError, WorkerPool } from "../../mod.ts";
import {
  eventually,
  redisAvailable,
  redisRequired,
  type RedisServer,
  runCli as runCliQuick,
  startProcess,
  startRedis,
  startWorker,
  TASKS_FILE,
  type WorkerProcess,
  within,
} from "../cluster-helpers.ts";
import { describe, it, runtime, skip } from "../harness.ts";

type Tasks = typeof import("../fixtures/tasks.ts");

const T = 90_000;
let queues = 0;
const freshQueue = () => `campaign-${process.pid}-${++queues}`;

/** Runs `body` with a Redis and `n` workers of one thread on a fresh queue; stops them all after. */
async function withServers(
  n: number,
  body: (redis: RedisServer, queue: string, workers: WorkerProcess[]) => Promise<void>,
  extra: string[] = [],
): Promise<void> {
  const redis = await startRedis();
  const queue = freshQueue();
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < n; i++) workers.push(await startWorker(redis.url, queue, 1, TASKS_FILE, ["--grace-ms", "2000", ...extra]));
    await body(redis, queue, workers);
  } finally {
    redis.signal("SIGCONT");
    await Promise.all(workers.map((w) => w.kill()));
    await redis.stop();
  }
}

/** The pids of the processes whose command line holds `text` (Linux's /proc). */
function processesWith(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (cmd.includes(text) && !/^\d+ \(.*\) [ZX] /s.test(stat)) out.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

if (!redisAvailable && !redisRequired) {
  skip("cluster campaign (redis-server is not installed)");
} else {
  describe("cluster campaign: a paused or killed Redis", () => {
    it("Redis paused (SIGSTOP) for 2 s under calls in flight, then resumed: they resolve, and so do later calls", async () => {
      await withServers(1, async (redis, queue) => {
        const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue, connectTimeoutMs: 15_000 });
        try {
          assert.equal(await pool.run("add", 1, 2), 3);
          const inFlight = [pool.run("delayedEcho", "a", 500), pool.run("add", 2, 3)];
          redis.signal("SIGSTOP");
          await new Promise((r) => setTimeout(r, 2_000));
          redis.signal("SIGCONT");
          assert.deepEqual(await within(Promise.all(inFlight), 30_000, "the calls in flight"), ["a", 5]);
          assert.equal(await within(Promise.resolve(pool.run("add", 3, 4)), 30_000, "a later call"), 7);
        } finally {
          await within(pool.destroy(), 20_000, "destroy()");
        }
      });
    }, T);

    for (const [how, signal] of [["paused for good (SIGSTOP)", "SIGSTOP"], ["killed (SIGKILL)", "SIGKILL"]] as const) {
      it(`Redis ${how} mid-call: the call in flight and a new call reject with PoolConnectionError, destroy() returns, the worker stops on SIGTERM`, async () => {
        await withServers(1, async (redis, queue, [worker]) => {
          const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue, connectTimeoutMs: 1_000 });
          const failure = (p: PromiseLike<unknown>, what: string) => within(Promise.resolve(p).then(() => null, (e: unknown) => e), 20_000, what);
          try {
            assert.equal(await pool.run("add", 1, 2), 3);
            const inFlight = Promise.resolve(pool.run("delayedEcho", "a", 60_000));
            inFlight.catch(() => {});
            await new Promise((r) => setTimeout(r, 300));
            redis.signal(signal);
            const e = await failure(inFlight, "the call in flight");
            assert.ok(e instanceof PoolConnectionError, `PoolConnectionError, got ${String(e)}`);
            assert.match(e.message, new RegExp(`lost Redis at redis://127\\.0\\.0\\.1:${redis.port}`));
            const later = await failure(pool.run("add", 0, 0), "a call on a lost Redis");
            assert.ok(later instanceof PoolConnectionError, `PoolConnectionError, got ${String(later)}`);
          } finally {
            await within(pool.destroy(), 20_000, "destroy() on a lost Redis");
          }
          worker!.signal("SIGTERM");
          assert.equal(await within(worker!.exit(), 20_000, "the worker's exit after SIGTERM on a lost Redis"), 0, worker!.output());
        });
      }, T);
    }
  });

  describe("cluster campaign: results and pools", () => {
    for (const threads of [1, 0]) {
      it(`a result the worker cannot send back (a function) fails its call naming it; the worker serves on (--threads ${threads})`, async () => {
        const redis = await startRedis();
        const queue = freshQueue();
        const worker = await startWorker(redis.url, queue, threads, TASKS_FILE);
        const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue });
        try {
          const e = await within(Promise.resolve(pool.run("unclonableResult")).then(() => null, (e: unknown) => e), 30_000, "the call");
          assert.ok(e instanceof Error, `an Error, got ${String(e)}`);
          assert.match(e.message, /unclonableResult/);
          assert.match(e.message, /function/);
          assert.equal(await within(Promise.resolve(pool.run("add", 1, 2)), 30_000, "a later call"), 3);
        } finally {
          await within(pool.destroy(), 20_000, "destroy()");
          await worker.kill();
          await redis.stop();
        }
      }, T);
    }

    it("a pool destroyed under calls in flight: each rejects with PoolClosedError, its job stops on the worker, which serves the next pool", async () => {
      await withServers(1, async (redis, queue) => {
        const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue });
        const calls = [pool.run("busy", 60_000), pool.run("delayedEcho", "x", 60_000), pool.run("add", 1, 1)].map((t) => Promise.resolve(t));
        for (const c of calls) c.catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
        await within(pool.destroy(), 20_000, "destroy() under calls in flight");
        for (const c of calls) {
          const e = await within(c.then(() => null, (e: unknown) => e), 20_000, "a call of the destroyed pool");
          assert.ok(e instanceof PoolClosedError, `PoolClosedError, got ${String(e)}`);
        }
        const next = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue });
        try {
          assert.equal(await within(Promise.resolve(next.run("add", 2, 2)), 30_000, "the next pool's call (the worker was freed)"), 4);
        } finally {
          await within(next.destroy(), 20_000, "destroy()");
        }
      });
    }, T);
  });

  describe("cluster campaign: a task that ends the worker's process", () => {
    it(`process.exit(0) in a task under --threads 0: the worker says so and exits 3, not 0 (${runtime})`, async () => {
      const redis = await startRedis();
      const queue = freshQueue();
      const worker = await startWorker(redis.url, queue, 0, TASKS_FILE);
      const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue });
      try {
        // The call waits for another worker to retry its job (at-least-once): none comes here.
        const call = Promise.resolve(pool.run("runtimeExit", 0));
        call.catch(() => {});
        assert.equal(await within(worker.exit(), 20_000, "the worker's exit"), 3, worker.output());
        assert.match(worker.output(), /the process was ended \(exit code 0\) while it served queue .* does a task call process\.exit\(\)\? \(with --threads 0 tasks run on the worker's own thread\)/);
      } finally {
        await within(pool.destroy(), 20_000, "destroy()");
        await worker.kill();
        await redis.stop();
      }
    }, T);
  });

  describe("cluster campaign: a Redis paused from the start", () => {
    it("a pool's call and destroy(), and a worker's start, on a Redis paused before they connect: each ends, naming the server", async () => {
      const redis = await startRedis();
      redis.signal("SIGSTOP");
      try {
        const pool = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue: freshQueue(), connectTimeoutMs: 1_000 });
        const call = Promise.resolve(pool.run("add", 1, 2)).then(() => null, (e: unknown) => e);
        const e = await within(call, 20_000, "a call on a paused Redis");
        assert.ok(e instanceof PoolConnectionError, `PoolConnectionError, got ${String(e)}`);
        assert.match((e as Error).message, new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
        const early = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue: freshQueue(), connectTimeoutMs: 60_000 });
        const pending = Promise.resolve(early.run("add", 1, 2)).then(() => null, (e: unknown) => e);
        await new Promise((r) => setTimeout(r, 200));
        await within(early.destroy(), 20_000, "destroy() while connecting to a paused Redis");
        assert.ok((await within(pending, 20_000, "the call of the destroyed pool")) instanceof PoolClosedError);
        const w = await runCliQuick(["worker", "--connection", redis.url, "--queue", freshQueue(), "--module", TASKS_FILE, "--threads", "1", "--connect-timeout-ms", "1000"]);
        assert.equal(w.code, 1, w.stderr);
        assert.match(w.stderr, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${redis.port} within 1000 ms`));
      } finally {
        await redis.stop();
      }
    }, T);
  });

  describe("cluster campaign: loopwork compare --connection interrupted", () => {
    /**
     * Runs `loopwork compare --connection` on a fresh Redis until it measures the cluster, then
     * `body` with it and the pids of its worker processes (found by the queue name their command
     * lines carry); kills whatever is left after.
     */
    async function comparing(body: (p: WorkerProcess, workers: () => number[]) => Promise<void>): Promise<void> {
      const redis = await startRedis();
      const p = await startProcess(
        ["compare", "--connection", redis.url, "--quick", "--only", "cpu", "--strategies", "cluster", "--runs", "200", "--workers", "2"],
        undefined,
        /measuring \d+\/\d+: cpu \/ cluster/,
      );
      const workers = () => processesWith(`loopwork-compare-${p.child.pid}-`);
      try {
        assert.equal(workers().length, 2, "two worker processes serve");
        await body(p, workers);
      } finally {
        await p.kill();
        for (const pid of workers()) process.kill(pid, "SIGKILL");
        await redis.stop();
      }
    }

    it(`SIGINT once its worker processes serve: they are stopped, nothing is reported, exit code 130 (${runtime})`, async () => {
      await comparing(async (p, workers) => {
        p.signal("SIGINT");
        assert.equal(await within(p.exit(), 30_000, "compare's exit after SIGINT"), 130, p.output());
        await eventually(() => workers().length === 0, "the worker processes are gone", 20_000);
        assert.match(p.output(), /SIGINT: stopping the pools and worker processes; nothing is reported/);
        assert.doesNotMatch(p.output(), /verdict|recommend/i, "nothing measured is claimed");
      });
    }, T);

    it(`one of its worker processes killed: compare stops, names it, reports nothing and exits 1, leaving no process (${runtime})`, async () => {
      await comparing(async (p, workers) => {
        const [victim] = workers();
        process.kill(victim!, "SIGKILL");
        assert.equal(await within(p.exit(), 30_000, "compare's exit after the loss of a worker"), 1, p.output());
        assert.match(p.output(), new RegExp(`a cluster worker process \\(pid ${victim}\\) ended \\(SIGKILL\\) while the comparison ran; nothing is reported`));
        assert.doesNotMatch(p.output(), /^\s+at /m, "no stack trace");
        assert.doesNotMatch(p.output(), /verdict|recommend/i, "nothing measured is claimed");
        await eventually(() => workers().length === 0, "the other worker process is gone", 20_000);
      });
    }, T);

    it(`SIGKILL (no handler can run): its worker processes stop all the same, their standard input ended (${runtime})`, async () => {
      await comparing(async (p, workers) => {
        await p.kill();
        await eventually(() => workers().length === 0, "the orphaned worker processes are gone", 20_000);
      });
    }, T);
  });
}
