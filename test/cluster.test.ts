import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CancelledError, PoolConnectionError, WorkerPool, type WorkerPoolOptions } from "../mod.ts";
import {
  type Cluster,
  counts,
  eventually,
  freePort,
  redisAvailable,
  redisRequired,
  withCluster,
} from "./cluster-helpers.ts";
import { describe, it, runtime, skip } from "./harness.ts";

type Tasks = typeof import("./fixtures/tasks.ts");

function pool(c: Cluster, options: Partial<WorkerPoolOptions> = {}): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(null, { kind: "bullmq", connection: c.redis.url, queue: c.queue, ...options });
}

const T = 60_000;

const cliPath = fileURLToPath(new URL("../src/tools/cli.ts", import.meta.url));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, argv] = deno
    ? [deno.execPath(), ["run", "-A", cliPath, ...args]]
    : [process.execPath, ["--import", "tsx", cliPath, ...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("a bullmq pool: the unreachable server", () => {
  it("an unreachable Redis rejects a call with PoolConnectionError within connectTimeoutMs, never a hang", async () => {
    const port = await freePort();
    const p = new WorkerPool<Tasks>(null, {
      kind: "bullmq",
      connection: `redis://:secret@127.0.0.1:${port}`,
      queue: "nowhere",
      connectTimeoutMs: 500,
    });
    const started = Date.now();
    await assert.rejects(Promise.resolve(p.run("add", 1, 2)), (e: Error) => {
      assert.ok(e instanceof PoolConnectionError, `${e.name}: ${e.message}`);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}.*500 ms`));
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
    assert.ok(Date.now() - started < 20_000, "rejected, not left hanging"); // a hang guard, not a speed check
    await p.destroy();
  }, T);

  it("bad worker and compare arguments exit 2 with a message naming the option", async () => {
    const w = await cli("worker", "--connection", "http://x", "--queue", "q", "--module", "m.ts");
    assert.equal(w.code, 2);
    assert.match(w.stderr, /--connection must be a redis:\/\/ or rediss:\/\/ URL/);
    const c = await cli("compare", "--strategies", "cluster");
    assert.equal(c.code, 2);
    assert.match(c.stderr, /--strategies cluster needs --connection URL/);
  }, T);

  it("bad bullmq options throw in the constructor, naming the option", () => {
    assert.throws(() => new WorkerPool(null, { kind: "bullmq", queue: "q" }), /needs option connection/);
    assert.throws(() => new WorkerPool(null, { kind: "bullmq", connection: "http://x", queue: "q" }), /redis:\/\//);
    assert.throws(() => new WorkerPool(null, { kind: "bullmq", connection: "redis://x" }), /needs option queue/);
    assert.throws(() => new WorkerPool(null, { kind: "bullmq", connection: "redis://x", queue: "a:b" }), /queue/);
    assert.throws(() => new WorkerPool(null, { kind: "thread", queue: "q" }), /queue is for kind "bullmq" only/);
    assert.throws(
      () => new WorkerPool(null, { kind: "bullmq", connection: "redis://x", queue: "q", attempts: 0 }),
      /attempts must be an integer >= 1/,
    );
  });
});

if (!redisAvailable && !redisRequired) {
  console.warn(
    "cluster tests SKIPPED: redis-server is not installed (apt-get install -y redis-server); " +
      "set LOOPWORK_REQUIRE_REDIS=1 to make this an error",
  );
  skip("a bullmq pool on real Redis and loopwork worker processes (redis-server is not installed)");
} else {
  describe("a bullmq pool on real Redis and loopwork worker processes", () => {
    it("redis-server is installed (LOOPWORK_REQUIRE_REDIS=1)", () => {
      assert.ok(redisAvailable, "redis-server is not on PATH but LOOPWORK_REQUIRE_REDIS=1 requires these tests");
    });

    it("results and errors (name, message) cross; map chunks come back in order", async () => {
      await withCluster(1, 2, async (c) => {
        await using p = pool(c);
        assert.equal(await p.run("add", 2, 3), 5);
        assert.deepEqual(await p.run("echo", { when: new Date(0), set: new Set([1]) }), {
          when: new Date(0),
          set: new Set([1]),
        });
        await assert.rejects(Promise.resolve(p.run("fail", "boom")), (e: Error) => e.name === "ValidationError" && e.message === "boom");
        await assert.rejects(Promise.resolve(p.run("failType", "typed")), (e: Error) => e instanceof TypeError && e.message === "typed");
        const squares: number[] = [];
        for await (const s of p.map("square", [1, 2, 3, 4, 5, 6, 7], { chunkSize: 3 })) squares.push(s);
        assert.deepEqual(squares, [1, 4, 9, 16, 25, 36, 49]);
        await assert.rejects(Promise.resolve(p.run("echo", () => 1)), /argument 0 \(function.*cannot be sent/);
        const s = p.stats();
        assert.equal(s.completed, 5); // add, echo and three chunks
        assert.equal(s.failed, 3); // fail, failType and the echo whose argument cannot cross
      });
    }, T);

    it("a task that throws is not retried, unless attempts (with backoff) ask for it", async () => {
      const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const dir = mkdtempSync(join(tmpdir(), "loopwork-retry-"));
      try {
        await withCluster(1, 1, async (c) => {
          await using once = pool(c);
          const a = join(dir, "a");
          await assert.rejects(Promise.resolve(once.run("failUntil", a, 2)), (e: Error) => e instanceof RangeError && e.message === "run 1 fails");
          assert.equal(readFileSync(a, "utf8"), "1", "ran once");
          await using retried = pool(c, { attempts: 3, backoff: { type: "fixed", delay: 50 } });
          assert.equal(await retried.run("failUntil", join(dir, "b"), 3), 3);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, T);

    it("calls run in parallel on two workers: two jobs are active at once, one on each", async () => {
      await withCluster(2, 1, async (c) => {
        await using p = pool(c);
        // Each worker has one thread: two jobs active at once are on two workers. (No wall-clock
        // speed-up is asserted: a loaded machine may not give the two processes two cores.)
        const calls = [p.run("busy", 6_000), p.run("busy", 6_000)];
        await eventually(async () => (await counts(c)).active === 2, "both calls run at once", 20_000);
        const results = await Promise.all(calls);
        assert.ok(results.every((n) => n > 0));
      });
    }, T);

    it("cancelling a waiting call removes its job: it never runs", async () => {
      await withCluster(1, 1, async (c) => {
        await using p = pool(c);
        const first = p.run("busy", 6_000); // long enough to watch the second call wait on a loaded machine
        await eventually(async () => (await counts(c)).active === 1, "the first call runs");
        const second = p.run("add", 1, 1);
        await eventually(async () => (await counts(c)).waiting === 1, "the second call waits");
        second.cancel();
        await assert.rejects(Promise.resolve(second), CancelledError);
        await eventually(async () => (await counts(c)).waiting === 0, "its job left the queue", 15_000);
        const n = await counts(c);
        assert.equal(n.active, 1, "the first call still runs");
        await first;
        assert.equal((await counts(c)).completed, 1, "only the first call ran");
      });
    }, T);

    it("cancelling a running call stops it on its worker, which is free again at once", async () => {
      await withCluster(1, 1, async (c) => {
        await using p = pool(c);
        const long = p.run("busy", 120_000);
        await eventually(async () => (await counts(c)).active === 1, "the call runs");
        const cancelledAt = Date.now();
        long.cancel();
        await assert.rejects(Promise.resolve(long), CancelledError);
        assert.equal(await p.run("add", 1, 2), 3);
        const freedIn = Date.now() - cancelledAt;
        // A guard: the job it holds would keep the worker busy for 120 s.
        assert.ok(freedIn < 40_000, `the worker took ${freedIn} ms to take the next call`);
        await eventually(async () => (await counts(c)).active === 0, "no job left active");
      });
    }, T);

    it("taskTimeoutMs stops a remote call with TimeoutError and frees its worker", async () => {
      await withCluster(1, 1, async (c) => {
        await using p = pool(c, { taskTimeoutMs: 500 });
        await assert.rejects(Promise.resolve(p.run("busy", 120_000)), { name: "TimeoutError" });
        await eventually(async () => (await counts(c)).active === 0, "the job stopped on the worker", 30_000);
        // The follow-up goes through a pool without the timeout: it waits for the worker's
        // replacement thread to start, which a loaded machine may take longer than 500 ms for.
        await using q = pool(c);
        assert.equal(await q.run("add", 4, 5), 9);
      });
    }, T);

    it("a worker killed with SIGKILL mid-call: its call is retried on the other worker and resolves", async () => {
      await withCluster(2, 1, async (c) => {
        await using p = pool(c);
        const calls = [p.run("busy", 5_000), p.run("busy", 5_000)];
        await eventually(async () => (await counts(c)).active === 2, "both calls run, one on each worker");
        await c.workers[0]!.kill();
        const results = await Promise.all(calls);
        assert.equal(results.length, 2);
        assert.ok(results.every((n) => n > 0));
      });
    }, T);

    it("a Redis restart mid-run is survived: pool and worker reconnect and later calls resolve", async () => {
      await withCluster(1, 1, async (c) => {
        // A restart takes well under a second; the connect timeout (the time a closed connection
        // may stay down before the calls fail) leaves a loaded machine ample room for it.
        await using p = pool(c, { connectTimeoutMs: 30_000 });
        assert.equal(await p.run("add", 1, 2), 3);
        const inFlight = p.run("busy", 6_000); // still running when Redis restarts on a loaded machine
        await eventually(async () => (await counts(c)).active === 1, "a call runs");
        await c.redis.restart(); // without persistence: its job is lost, and the call says so
        await assert.rejects(Promise.resolve(inFlight), /its job is gone from Redis/);
        assert.equal(await p.run("add", 2, 3), 5);
        assert.equal(c.workers[0]!.child.exitCode, null, "the worker is still up");
      });
    }, T);

    it("only own exported functions run: other names are refused by name and the worker stays up", async () => {
      await withCluster(1, 1, async (c) => {
        await using p = pool(c);
        for (const name of ["constructor", "__proto__", "toString", "nope", "notAFunction", "hasOwnProperty"]) {
          await assert.rejects(Promise.resolve(p.run(name as "add", 1, 2)),
            (e: Error) => e instanceof TypeError && e.message.includes(`unknown task ${JSON.stringify(name)}`),
            name,
          );
        }
        assert.equal(await p.run("add", 20, 22), 42);
        assert.equal(c.workers[0]!.child.exitCode, null);
      });
    }, T);

    it("nothing is left waiting or active after close() and after destroy()", async () => {
      await withCluster(1, 1, async (c) => {
        const p = pool(c);
        const pending = [p.run("busy", 200), p.run("busy", 200), p.run("add", 1, 2)];
        await new Promise((r) => setTimeout(r, 0)); // the calls reach the pool
        await p.close();
        assert.equal((await Promise.all(pending))[2], 3);
        const after = await counts(c);
        assert.equal(after.waiting + after.active + after.delayed + after.prioritized, 0, JSON.stringify(after));

        const q = pool(c);
        const dropped = [q.run("busy", 5_000), q.run("busy", 5_000), q.run("busy", 5_000)];
        await eventually(async () => (await counts(c)).active === 1, "one call runs");
        await q.destroy();
        for (const d of dropped) await assert.rejects(Promise.resolve(d), { name: "PoolClosedError" });
        await eventually(async () => {
          const n = await counts(c);
          return n.waiting + n.active + n.delayed + n.prioritized === 0;
        }, "the queue is empty", 20_000);
      });
    }, T);

    it("loopwork compare --connection adds a cluster row computed by two local worker processes", async () => {
      await withCluster(0, 1, async (c) => {
        const r = await cli(
          "compare", "--quick", "--json", "--tasks", "4", "--only", "cpu",
          "--strategies", "sequential,cluster", "--connection", c.redis.url,
        );
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as { rows: { workload: string; strategy: string; wallMs: number }[] };
        assert.deepEqual(report.rows.map((row) => `${row.workload}/${row.strategy}`), ["cpu/sequential", "cpu/cluster"]);
        assert.ok(report.rows.every((row) => row.wallMs > 0));
      });
    }, T);

    it(`a worker prints one line at start and one at stop, with queue, threads and host (${runtime})`, async () => {
      await withCluster(1, 2, async (c) => {
        const out = await c.workers[0]!.stop();
        assert.match(out, /started: queue "test-[^"]+", 2 threads, host \S+/);
        assert.match(out, /stopped: queue "test-[^"]+", 2 threads, host \S+/);
      });
    }, T);
  });
}
