/**
 * Fault tests: cooperative cancellation inside workers (issue 19). Cancelling a running call
 * aborts it in its worker first; a task that honours that (its signal, or CancelledError in a
 * generator task) runs its `finally` and keeps its worker; one that does not has its worker
 * stopped after `cancelGraceMs`. A call cancelled counts as cancelled even if its worker
 * answers later. Streams (`pool.stream`) stop their task when the reader leaves.
 *
 * What a task did is read from marks it writes in a directory (threads and processes alike);
 * `where()` names the worker, so a reused worker is told from a new one. Bounds on time are
 * "it did not hang" guards, never speed checks.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CancelledError, type Task, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { fileURLToPath } from "node:url";
import { redisAvailable, redisRequired, runCli, startRedis, startWorker } from "../cluster-helpers.ts";
import { describe, it, runtime, skip } from "../harness.ts";

type Tasks = typeof import("../fixtures/cancel-tasks.ts");
const TASKS = new URL("../fixtures/cancel-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 120_000;
/** A grace no test outlives: a worker stopped by it would fail the test (a new worker id). */
const LONG_GRACE_MS = 60_000;

/** "thread" is the own thread backend (the default); "tinypool threads" the same kind on tinypool. */
type Flavour = "thread" | "process" | "tinypool threads";
const FLAVOURS: Flavour[] = ["thread", "process", "tinypool threads"];

function pool(flavour: Flavour, options: WorkerPoolOptions): WorkerPool<Tasks> {
  const kind = flavour === "process" ? "process" : "thread";
  const backend = flavour === "tinypool threads" ? "tinypool" : undefined;
  return new WorkerPool<Tasks>(TASKS, { kind, maxWorkers: 1, ...(backend ? { backend } : {}), ...options });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for the mark `name` in `dir` and returns its text. */
async function waitFor(dir: string, name: string): Promise<string> {
  const file = join(dir, name);
  const end = Date.now() + HANG_GUARD_MS / 2;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`the mark ${name} never came`);
    await delay(10);
  }
  return readFileSync(file, "utf8");
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "loopwork-cancel-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cancelled(t: Task<unknown>): Promise<void> {
  await assert.rejects(Promise.resolve(t), (e: unknown) => e instanceof CancelledError);
}

/**
 * On the pool `make()` gives: names its worker (`where()`), starts the call `start` makes
 * and cancels it once it marked "started" (the call then fails with CancelledError at once),
 * and hands `check` the pool, that first worker's id, the directory and the call. The pool
 * is destroyed after.
 */
async function cancelOnceStarted(
  make: () => WorkerPool<Tasks>,
  start: (p: WorkerPool<Tasks>, dir: string) => Task<unknown>,
  check: (p: WorkerPool<Tasks>, first: string, dir: string, t: Task<unknown>) => Promise<void>,
): Promise<void> {
  await withDir(async (dir) => {
    const p = make();
    try {
      const first = await p.run("where");
      const t = start(p, dir);
      await waitFor(dir, "started");
      t.cancel();
      await cancelled(t);
      await check(p, first, dir, t);
    } finally {
      await p.destroy();
    }
  });
}

for (const flavour of FLAVOURS) {
  describe(`cooperative cancellation (${flavour})`, () => {
    it("a task that honours its signal runs its finally and keeps its worker", async () => {
      await cancelOnceStarted(
        () => pool(flavour, { cancelGraceMs: LONG_GRACE_MS }),
        (p, dir) => p.run("honours", dir),
        async (p, first, dir) => {
          assert.equal(await waitFor(dir, "finally"), first, "its finally ran, on the same worker");
          assert.equal(await p.run("where"), first, "the worker was reused");
        },
      );
    }, HANG_GUARD_MS);

    it("a task that ignores its signal has its worker stopped after the grace", async () => {
      await cancelOnceStarted(
        () => pool(flavour, { cancelGraceMs: 200 }),
        (p, dir) => p.run("ignores", dir),
        async (p, first) => {
          assert.notEqual(await p.run("where"), first, "a new worker runs the next call");
          assert.equal(p.stats().workers, 1);
        },
      );
    }, HANG_GUARD_MS);

    it("a late answer after a cancel still counts as cancelled, and the worker is reused", async () => {
      await cancelOnceStarted(
        () => pool(flavour, { cancelGraceMs: LONG_GRACE_MS }),
        (p, dir) => p.run("late", dir, 300),
        async (p, first, dir, t) => {
          await waitFor(dir, "answered");
          // The next call waits for the late answer, which frees the worker.
          assert.equal(await p.run("where"), first, "the worker was reused");
          assert.equal(t.cancelled(), true);
          const s = p.stats();
          assert.equal(s.completed, 2, "only the two where() calls completed");
          assert.equal(s.failed, 1);
        },
      );
    }, HANG_GUARD_MS);

    it("a generator task gets CancelledError at its yield* and keeps its worker", async () => {
      await cancelOnceStarted(
        () => pool(flavour, { cancelGraceMs: LONG_GRACE_MS }),
        (p, dir) => p.run("coroutine", dir),
        async (p, first, dir) => {
          await waitFor(dir, "cancelled");
          assert.equal(await waitFor(dir, "finally"), first);
          assert.equal(await p.run("where"), first, "the worker was reused");
        },
      );
    }, HANG_GUARD_MS);

    it("cancelGraceMs 0 stops the worker at once (its finally never runs)", async () => {
      await cancelOnceStarted(
        () => pool(flavour, { cancelGraceMs: 0 }),
        (p, dir) => p.run("honours", dir),
        async (p, first, dir) => {
          assert.notEqual(await p.run("where"), first);
          assert.equal(existsSync(join(dir, "finally")), false);
        },
      );
    }, HANG_GUARD_MS);

    if (flavour !== "process") {
      it("a streamed generator stops mid-way when its reader leaves: its finally runs, its worker is kept", async () => {
        await withDir(async (dir) => {
          const p = pool(flavour, { cancelGraceMs: LONG_GRACE_MS });
          try {
            const first = await p.run("where");
            const seen: number[] = [];
            for await (const x of p.stream("numbers", dir)) {
              seen.push(x);
              if (x === 5) break;
            }
            assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
            const reached = Number(await waitFor(dir, "finally"));
            // Back-pressure: 16 values of credit ahead, plus one per value read.
            assert.ok(reached >= 6 && reached <= 6 + 16 + 1, `the task ran ${reached} values ahead`);
            assert.equal(await p.run("where"), first, "the worker was reused");
          } finally {
            await p.destroy();
          }
        });
      }, HANG_GUARD_MS);

      it("a stream yields every value of a generator, and the task's error after its values", async () => {
        const p = pool(flavour, { cancelGraceMs: LONG_GRACE_MS });
        try {
          const all: number[] = [];
          for await (const x of p.stream("count", 100)) all.push(x);
          assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
          const got: number[] = [];
          await assert.rejects(async () => {
            for await (const x of p.stream("failing")) got.push(x);
          }, (e: unknown) => e instanceof RangeError && e.message === "the stream broke");
          assert.deepEqual(got, [1, 2]);
        } finally {
          await p.destroy();
        }
      }, HANG_GUARD_MS);
    } else {
      it("a stream on processes fails with a clear error", async () => {
        const p = pool(flavour, {});
        try {
          await assert.rejects(async () => {
            for await (const _ of p.stream("count", 3)) {
              // never
            }
          }, /pool\.stream\(\) needs kind "thread" or "inline"/);
        } finally {
          await p.destroy();
        }
      }, HANG_GUARD_MS);
    }
  });
}

describe("cooperative cancellation (inline)", () => {
  it("a cancelled inline call aborts its signal; a stream stops when its reader leaves", async () => {
    await withDir(async (dir) => {
      const p = new WorkerPool<Tasks>(TASKS, { kind: "inline" });
      try {
        const t = p.run("honours", dir);
        await waitFor(dir, "started");
        t.cancel();
        await cancelled(t);
        await waitFor(dir, "finally");
        const seen: number[] = [];
        for await (const x of p.stream("numbers", dir)) {
          seen.push(x);
          if (x === 2) break;
        }
        assert.deepEqual(seen, [0, 1, 2]);
      } finally {
        await p.destroy();
      }
    });
  }, HANG_GUARD_MS);

  it("cancelGraceMs is checked", () => {
    assert.throws(() => new WorkerPool(TASKS, { cancelGraceMs: -1 }), /cancelGraceMs must be a finite number of milliseconds >= 0, got number -1/);
    assert.throws(() => new WorkerPool(TASKS, { cancelGraceMs: Infinity }), /cancelGraceMs/);
  });
});

describe("cooperative cancellation (cluster worker's options)", () => {
  it("loopwork worker --cancel-grace-ms takes an integer from 0 and names the option otherwise", async () => {
    for (const bad of ["-1", "1.5", "x", "", "86400001"]) {
      const r = await runCli(["worker", "--connection", "redis://127.0.0.1:1", "--queue", "q", "--module", fileURLToPath(TASKS), `--cancel-grace-ms=${bad}`]);
      assert.equal(r.code, 2, `--cancel-grace-ms ${JSON.stringify(bad)}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--cancel-grace-ms must be an integer from 0 to 86400000, got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)}`));
    }
    const help = await runCli(["worker", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--cancel-grace-ms N\s+how long a cancelled job's task may take to stop/);
  }, HANG_GUARD_MS);
});

if (!redisAvailable && !redisRequired) {
  skip("cooperative cancellation on the cluster (redis-server is not installed)");
} else {
  describe("cooperative cancellation (cluster)", () => {
    it("loopwork worker aborts the job on the thread running it: its finally runs, the thread is reused", async () => {
      const redis = await startRedis();
      const queue = `coop-${process.pid}`;
      // Its thread is reused only if the task stops within the grace: a long one, so that a
      // loaded machine cannot make the answer late (the default, 100 ms, sometimes was).
      const worker = await startWorker(redis.url, queue, 1, fileURLToPath(TASKS), ["--cancel-grace-ms", String(LONG_GRACE_MS)]);
      try {
        await cancelOnceStarted(
          () => new WorkerPool<Tasks>(TASKS, { kind: "bullmq", connection: redis.url, queue }),
          (p, dir) => p.run("honours", dir),
          async (p, first, dir) => {
            assert.equal(await waitFor(dir, "finally"), first, "its finally ran, on the same thread");
            assert.equal(await p.run("where"), first, "the thread was reused");
          },
        );
      } finally {
        await worker.stop();
        await redis.stop();
      }
    }, HANG_GUARD_MS);

    it("loopwork worker --cancel-grace-ms 0 stops the thread of a cancelled job at once and replaces it", async () => {
      const redis = await startRedis();
      const queue = `coop0-${process.pid}`;
      const worker = await startWorker(redis.url, queue, 1, fileURLToPath(TASKS), ["--cancel-grace-ms", "0"]);
      try {
        await cancelOnceStarted(
          () => new WorkerPool<Tasks>(TASKS, { kind: "bullmq", connection: redis.url, queue }),
          (p, dir) => p.run("honours", dir),
          async (p, first) => {
            const next = await p.run("where");
            assert.notEqual(next, first, "a new thread ran the next job");
            assert.equal(next.split(":")[0], first.split(":")[0], "in the same worker process");
          },
        );
      } finally {
        await worker.stop();
        await redis.stop();
      }
    }, HANG_GUARD_MS);
  });
}
