/**
 * `loopwork worker --threads 0` (jobs run on the worker's own thread) and the way cancel
 * requests reach a worker (its own pub/sub channel, no queue event stream), on a real
 * `redis-server` and real worker processes. Time bounds are generous "it did not hang"
 * guards, never speed checks.
 */
import assert from "node:assert/strict";
import { CancelledError, WorkerPool } from "../mod.ts";
import {
  type Cluster,
  counts,
  eventually,
  redisAvailable,
  redisCommand,
  redisRequired,
  runCli,
  TASKS_FILE,
  withCluster,
  within,
} from "./cluster-helpers.ts";
import { describe, it, skip } from "./harness.ts";

type Tasks = typeof import("./fixtures/tasks.ts");

const T = 90_000;

function pool(c: Cluster): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(new URL("./fixtures/tasks.ts", import.meta.url), { kind: "bullmq", connection: c.redis.url, queue: c.queue });
}

describe("loopwork worker --threads: validation", () => {
  it("--threads takes an integer from 0 to 1024 and names the option otherwise", async () => {
    for (const bad of ["-1", "1.5", "1025", "x", ""]) {
      const r = await runCli(["worker", "--connection", "redis://127.0.0.1:1", "--queue", "q", "--module", TASKS_FILE, `--threads=${bad}`]);
      assert.equal(r.code, 2, `--threads ${JSON.stringify(bad)}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--threads must be an integer from 0 \\(run jobs on the worker's own thread\\) to 1024, got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)}`));
    }
    const help = await runCli(["worker", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /0 runs each\s+job on the worker's own thread/);
  }, T);
});

if (!redisAvailable && !redisRequired) {
  skip("loopwork worker --threads 0 and cancel channels (redis-server is not installed)");
} else {
  describe("loopwork worker --threads 0: jobs run on the worker's own thread", () => {
    it("a job runs on the worker process's main thread; results, errors and refused names cross as with threads", async () => {
      await withCluster(1, 0, async (c) => {
        const worker = c.workers[0]!;
        assert.match(worker.output(), /started: queue "[^"]+", 0 threads \(jobs run on its own thread\) \(2 jobs at once\)/);
        await using p = pool(c);
        const info = await p.run("threadInfo");
        assert.equal(info.pid, worker.child.pid, "the worker process ran it");
        assert.equal(info.threadId, 0, "on its main thread");
        assert.equal(await p.run("add", 2, 3), 5);
        await assert.rejects(Promise.resolve(p.run("fail", "boom")), (e: Error) => e.name === "ValidationError" && e.message === "boom");
        await assert.rejects(Promise.resolve(p.run("nope" as "add", 1, 2)), (e: Error) => e instanceof TypeError && /unknown task "nope"/.test(e.message));
        const squares: number[] = [];
        for await (const s of p.map("square", [1, 2, 3, 4, 5], { chunkSize: 2 })) squares.push(s);
        assert.deepEqual(squares, [1, 4, 9, 16, 25]);
        // Two I/O-bound jobs overlap on the one thread (--concurrency 2).
        const both = [p.run("delayedEcho", "a", 3_000), p.run("delayedEcho", "b", 3_000)];
        await eventually(async () => (await counts(c)).active === 2, "both jobs are active at once", 20_000);
        assert.deepEqual(await Promise.all(both), ["a", "b"]);
        assert.equal(worker.child.exitCode, null, "the worker is still up");
      }, ["--concurrency", "2"]);
    }, T);

    it("cancelling a call running inline fails its job at once and frees its slot; the worker stays up", async () => {
      await withCluster(1, 0, async (c) => {
        await using p = pool(c);
        const long = p.run("delayedEcho", "late", 120_000);
        await eventually(async () => (await counts(c)).active === 1, "the call runs");
        long.cancel();
        await assert.rejects(Promise.resolve(long), CancelledError);
        // One job at a time: the next call runs only once the cancelled job gave its slot back.
        assert.equal(await within(Promise.resolve(p.run("add", 1, 2)), 40_000, "the next call"), 3);
        const n = await counts(c);
        assert.deepEqual([n.active, n.failed, n.completed], [0, 1, 1], JSON.stringify(n));
        assert.equal(c.workers[0]!.child.exitCode, null, "the worker is still up");
      }, ["--concurrency", "1"]);
    }, T);
  });

  describe("cancel requests reach the worker holding the job on its own channel", () => {
    it("a worker reads no queue event stream: no connection waits in XREAD, each worker subscribes to its own cancel channel", async () => {
      await withCluster(2, 1, async (c) => {
        const list = String(await redisCommand(c, "CLIENT", "LIST"));
        assert.doesNotMatch(list, /cmd=xread/, `no worker reads the event stream:\n${list}`);
        const channels = (await redisCommand(c, "PUBSUB", "CHANNELS", `bull:${c.queue}:loopwork:cancel:*`)) as string[];
        assert.equal(channels.length, 2, `one channel per worker: ${channels.join(", ")}`);
        // Two long jobs, one on each worker: cancelling one stops it, the other runs on.
        await using p = pool(c);
        const a = p.run("busy", 120_000);
        const b = p.run("busy", 4_000);
        await eventually(async () => (await counts(c)).active === 2, "both calls run", 20_000);
        a.cancel();
        await assert.rejects(Promise.resolve(a), CancelledError);
        await eventually(async () => (await counts(c)).failed === 1, "the cancelled job failed on its worker", 20_000);
        assert.ok((await b) > 0, "the other call was not cancelled");
      });
    }, T);
  });
}
