/**
 * Faults of the BullMQ cluster, on a real `redis-server` and real `loopwork worker`
 * processes (issue 14, items 5–7): Redis stopped for good, a worker given a bad module, a
 * wrong password or an unreachable Redis, signals, and a client and a worker serving
 * different modules. Every time bound here is a generous "it did not hang" guard, never a
 * speed check.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { CancelledError, PoolConnectionError, WorkerPool } from "../../mod.ts";
import {
  eventually,
  freePort,
  redisAvailable,
  redisCommand,
  redisRequired,
  runCli,
  startRedis,
  startWorker,
  TASKS_FILE,
  withCluster,
  within,
} from "../cluster-helpers.ts";
import { describe, it, skip } from "../harness.ts";

type Tasks = typeof import("../fixtures/tasks.ts");

const T = 90_000;
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let queues = 0;
const freshQueue = () => `faults-${process.pid}-${++queues}`;

/** The queue's jobs by state, read with BullMQ itself. */
async function counts(port: number, queue: string, password?: string): Promise<Record<string, number>> {
  const q = new Queue(queue, { connection: { host: "127.0.0.1", port, ...(password ? { password } : {}) } });
  try {
    return await q.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
  } finally {
    await q.close();
  }
}

/** Checks a failed start: the exit code, a message naming `reason` on stderr, no stack, no "started". */
function assertFailedStart(r: { code: number; stdout: string; stderr: string }, code: number, reason: RegExp): void {
  assert.equal(r.code, code, `exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  assert.match(r.stderr, reason);
  assert.doesNotMatch(r.stdout + r.stderr, /started/, "it never announced 'started'");
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

if (!redisAvailable && !redisRequired) {
  skip("cluster faults (redis-server is not installed)");
} else {
  describe("cluster faults: Redis lost after connecting", () => {
    it("Redis stopped for good: calls in flight and new calls reject with PoolConnectionError, close() and destroy() return, a worker stops on SIGTERM", async () => {
      const redis = await startRedis();
      const queue = freshQueue();
      const worker = await startWorker(redis.url, queue, 1, TASKS_FILE, ["--grace-ms", "2000"]);
      try {
        const connectTimeoutMs = 1_000;
        const opts = { kind: "bullmq", connection: redis.url, queue, connectTimeoutMs } as const;
        const closed = new WorkerPool<Tasks>(null, opts);
        const destroyed = new WorkerPool<Tasks>(null, opts);
        assert.equal(await closed.run("add", 1, 2), 3);
        assert.equal(await destroyed.run("add", 2, 3), 5);
        const inFlight = [closed.run("busy", 30_000), destroyed.run("busy", 30_000)];
        await eventually(async () => (await counts(redis.port, queue)).active === 1, "a call runs on the worker");
        await redis.stop();
        const later = [closed.run("add", 3, 4), destroyed.run("add", 4, 5)];
        // Bound: connectTimeoutMs after the connection closed, plus a little; the guard is generous.
        const outcomes = await within(Promise.allSettled([...inFlight, ...later]), 20_000, "the calls settling");
        for (const o of outcomes) {
          assert.equal(o.status, "rejected");
          const e = (o as PromiseRejectedResult).reason as Error;
          assert.ok(e instanceof PoolConnectionError, `${e.name}: ${e.message}`);
          assert.match(e.message, new RegExp(`lost Redis at redis://127\\.0\\.0\\.1:${redis.port}`));
        }
        // A call made now connects afresh and fails within connectTimeoutMs.
        await assert.rejects(within(Promise.resolve(closed.run("add", 0, 0)), 20_000, "a call on a dead Redis"), PoolConnectionError);
        await within(closed.close(), 20_000, "close()");
        await within(destroyed.destroy(), 20_000, "destroy()");
        // The worker keeps trying to reconnect, and stops on the first SIGTERM.
        assert.equal(worker.child.exitCode, null, "the worker waited for Redis");
        worker.signal("SIGTERM");
        assert.equal(await within(worker.exit(), 20_000, "the worker's exit after SIGTERM"), 0, worker.output());
        const out = worker.output();
        assert.match(out, /lost Redis at/);
        assert.match(out, /stopped: queue/);
      } finally {
        await worker.kill();
        await redis.stop();
      }
    }, T);

    it("a program whose bullmq pool is never closed exits once no call is in flight", async () => {
      const redis = await startRedis();
      const queue = freshQueue();
      const worker = await startWorker(redis.url, queue, 1);
      try {
        const [cmd, argv] = deno !== undefined
          ? [deno.execPath(), ["run", "-A", fixture("cluster-idle-program.ts"), redis.url, queue]]
          : [process.execPath, ["--import", "tsx", fixture("cluster-idle-program.ts"), redis.url, queue]];
        const r = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>((resolve) => {
          execFile(cmd, argv, { timeout: 40_000, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
            resolve({ code: err ? (err.killed ? "killed: it did not exit" : err.code ?? 1) : 0, stdout, stderr });
          });
        });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /result: 3/);
        assert.match(r.stdout, /late: late/, "a call in flight kept the process alive until it settled");
      } finally {
        await worker.stop();
        await redis.stop();
      }
    }, T);
  });

  describe("cluster faults: loopwork worker fails fast and says why", () => {
    it("a missing or broken --module exits 2 before 'started', naming the module", async () => {
      const redis = await startRedis();
      try {
        const missing = await runCli(["worker", "--connection", redis.url, "--queue", "q", "--module", "./missing-module.js"]);
        assertFailedStart(missing, 2, /loopwork worker: the task module \S*missing-module\.js does not exist/);
        const broken = await runCli(["worker", "--connection", redis.url, "--queue", "q", "--module", fixture("broken.ts")]);
        assertFailedStart(broken, 2, /loopwork worker: the task module \S*broken\.ts cannot be loaded: broken on purpose/);
      } finally {
        await redis.stop();
      }
    }, T);

    it("a wrong or missing password exits 1 at once (not after the connect timeout), naming the server and not the password", async () => {
      const redis = await startRedis("s3cret");
      try {
        const wrong = redis.url.replace("s3cret", "wrong-pass");
        // A connect timeout far beyond the guard: the refusal must not wait for it.
        const r = await runCli(["worker", "--connection", wrong, "--queue", "q", "--module", TASKS_FILE, "--connect-timeout-ms", "600000"], 45_000);
        assertFailedStart(r, 1, new RegExp(`Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}/? refused the connection: WRONGPASS`));
        assert.doesNotMatch(r.stderr, /wrong-pass/);
        const none = await runCli(
          ["worker", "--connection", `redis://127.0.0.1:${redis.port}`, "--queue", "q", "--module", TASKS_FILE, "--connect-timeout-ms", "600000"],
          45_000,
        );
        assertFailedStart(none, 1, /refused the connection: NOAUTH/);
        // The pool says the same, at once.
        const p = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: wrong, queue: "q", connectTimeoutMs: 600_000 });
        await assert.rejects(within(Promise.resolve(p.run("add", 1, 2)), 30_000, "the refused call"), (e: Error) => {
          assert.ok(e instanceof PoolConnectionError, `${e.name}: ${e.message}`);
          assert.match(e.message, /refused the connection: WRONGPASS/);
          assert.doesNotMatch(e.message, /wrong-pass/);
          return true;
        });
        await within(p.destroy(), 20_000, "destroy()");
      } finally {
        await redis.stop();
      }
    }, T);

    it("an unreachable Redis exits 1 after --connect-timeout-ms; compare --connection says why and exits 1", async () => {
      const port = await freePort();
      const r = await runCli(
        ["worker", "--connection", `redis://127.0.0.1:${port}`, "--queue", "q", "--module", TASKS_FILE, "--connect-timeout-ms", "1000"],
        45_000,
      );
      assertFailedStart(r, 1, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/? within 1000 ms`));
      const c = await runCli(
        ["compare", "--quick", "--json", "--tasks", "2", "--only", "cpu", "--strategies", "sequential,cluster", "--connection", `redis://127.0.0.1:${port}`],
        60_000,
      );
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/? within \\d+ ms`));
      assert.doesNotMatch(c.stderr, /^\s+at /m, "no stack trace");
    }, T);
  });

  describe("cluster faults: signals", () => {
    it("the first SIGTERM finishes the job it holds and exits 0; a second one hands a long job back at once", async () => {
      const redis = await startRedis();
      const queue = freshQueue();
      try {
        await using p = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue });
        const graceful = await startWorker(redis.url, queue, 1);
        const finishing = p.run("busy", 1_500);
        await eventually(async () => (await counts(redis.port, queue)).active === 1, "the call runs");
        graceful.signal("SIGTERM");
        assert.ok((await finishing) > 0, "the held job finished");
        assert.equal(await within(graceful.exit(), 20_000, "the exit after SIGTERM"), 0, graceful.output());
        assert.match(graceful.output(), /SIGTERM: finishing the 1 jobs it holds/);

        // A job far longer than the guard, and a grace period as long: only the second signal stops it in time.
        const forced = await startWorker(redis.url, queue, 1, TASKS_FILE, ["--grace-ms", "600000"]);
        const long = p.run("busy", 120_000);
        Promise.resolve(long).catch(() => {});
        await eventually(async () => (await counts(redis.port, queue)).active === 1, "the long call runs");
        forced.signal("SIGTERM");
        await eventually(() => /finishing the 1 jobs/.test(forced.output()), "the first signal was taken");
        forced.signal("SIGINT");
        assert.equal(await within(forced.exit(), 30_000, "the exit after a second signal"), 0, forced.output());
        assert.match(forced.output(), /SIGINT: handing back the jobs it holds/);
        assert.match(forced.output(), /stopped: queue/);
      } finally {
        await redis.stop();
      }
    }, T);
  });

  describe("cluster faults: a cancel request while the worker's channel is down", () => {
    it("a cancel published while the worker's subscription was cut reaches the job once it is back", async () => {
      await withCluster(1, 1, async (c) => {
        await using p = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: c.redis.url, queue: c.queue });
        const long = p.run("busy", 120_000);
        await eventually(async () => (await counts(c.redis.port, c.queue)).active === 1, "the call runs");
        // Cut the worker's subscription: it reconnects after a second or more (BullMQ's retry).
        await redisCommand(c, "CLIENT", "KILL", "TYPE", "pubsub");
        long.cancel();
        await assert.rejects(Promise.resolve(long), CancelledError);
        // The job held the worker's one thread for 120 s unless the request reached it.
        await eventually(async () => (await counts(c.redis.port, c.queue)).failed === 1, "the job was cancelled on the worker", 40_000);
        assert.equal(await within(Promise.resolve(p.run("add", 1, 2)), 40_000, "the next call"), 3);
        assert.equal(c.workers[0]!.child.exitCode, null, "the worker is still up");
      });
    }, T);
  });

  describe("cluster faults: a client and a worker serving different modules", () => {
    it("a job for another module is refused with an error naming both, the worker stays up; a missing module file sends no job", async () => {
      const redis = await startRedis();
      const queue = freshQueue();
      const worker = await startWorker(redis.url, queue, 1);
      try {
        const opts = { kind: "bullmq", connection: redis.url, queue } as const;
        await using other = new WorkerPool<Tasks>(new URL("../fixtures/transfer-tasks.ts", import.meta.url), opts);
        await assert.rejects(Promise.resolve(other.run("add", 1, 2)), (e: Error) => {
          assert.match(e.message, /sent for the task module "transfer-tasks" \(\d+ exported functions?, exports hash [0-9a-f]{12}\)/);
          assert.match(e.message, /serves "tasks" \(\d+ exported functions, exports hash [0-9a-f]{12}\)/);
          return true;
        });
        await using missing = new WorkerPool<Tasks>(new URL("../fixtures/no-such-module.ts", import.meta.url), opts);
        await assert.rejects(Promise.resolve(missing.run("add", 1, 2)), /pool:add was not sent: the task module \S*no-such-module\.ts does not exist/);
        await using same = new WorkerPool<Tasks>(new URL("../fixtures/tasks.ts", import.meta.url), opts);
        assert.equal(await same.run("add", 20, 22), 42);
        const n = await counts(redis.port, queue);
        assert.equal(n.failed, 1, `only the mismatched job failed; none was sent for the missing module: ${JSON.stringify(n)}`);
        assert.equal(n.completed, 1);
        assert.equal(worker.child.exitCode, null, "the worker is still up");
      } finally {
        await worker.stop();
        await redis.stop();
      }
    }, T);
  });
}
