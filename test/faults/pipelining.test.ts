/**
 * Fault tests: calls posted ahead to a busy worker of the own thread backend (`pipelineDepth`,
 * issue 16), and `concurrentTasksPerWorker`. A call posted ahead that has not started is never
 * blamed for its worker, never run twice, never left behind a long call while another worker
 * could run it; cancelling it means it never runs; `taskTimeoutMs` counts from its start.
 *
 * What a task did is counted in cells of a shared Int32Array (see pipeline-tasks.ts). Each
 * case checks first that calls were indeed posted ahead (the backend counts them), so that it
 * tests that path. Bounds on time are "it did not hang" guards, never speed checks.
 */
import assert from "node:assert/strict";
import { CancelledError, type Task, TimeoutError, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { ThreadBackend } from "../../src/pool/backends/thread.ts";
import { describe, it } from "../harness.ts";

type Tasks = typeof import("../fixtures/pipeline-tasks.ts");
const TASKS = new URL("../fixtures/pipeline-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 120_000;

function pool(options: WorkerPoolOptions): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(TASKS, { kind: "thread", ...options });
}

function cells(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Ends every `block` call still waiting on `c`, once the checks are done: a thread stopped
 * while blocked in Atomics.wait may otherwise live on (under Deno) until its wait times out,
 * slowing the worker starts of later tests.
 */
function releaseAll(c: Int32Array): void {
  for (let i = 0; i < c.length; i++) {
    if (Atomics.compareExchange(c, i, 1, 2) === 1) Atomics.notify(c, i);
  }
}

/** How many calls the pool's own thread backend posted ahead of their start so far. */
function postedAhead(p: WorkerPool<Tasks>): number {
  const backend = (p as unknown as { _backend: { postedAhead?: number } | null })._backend;
  return backend?.postedAhead ?? 0;
}

/** Waits until `cond()` holds; a guard against a hang, not a speed check. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + HANG_GUARD_MS / 2;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} never happened`);
    await delay(5);
  }
}

/** Starts `n` workers (each has answered once), so that calls reach warm workers at once. */
async function warm(p: WorkerPool<Tasks>, c: Int32Array, i: number, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => p.run("mark", c, i)));
}

/**
 * Runs `body` with a new pool of `options` and `n` shared cells (8 by default), then ends
 * every call still blocked on the cells and destroys the pool, whatever `body` did.
 */
async function withPool(
  options: WorkerPoolOptions,
  body: (p: WorkerPool<Tasks>, c: Int32Array) => Promise<void>,
  n = 8,
): Promise<void> {
  const p = pool(options);
  const c = cells(n);
  try {
    await body(p, c);
  } finally {
    releaseAll(c);
    await p.destroy();
  }
}

/**
 * `withPool` with calls held behind a blocked one (no stall rule): the faults then meet calls
 * still posted ahead, whatever the machine's load (the stall rule would otherwise take them
 * back after a few ms, which the fairness case tests).
 */
async function withHeldPool(options: WorkerPoolOptions, body: (p: WorkerPool<Tasks>, c: Int32Array) => Promise<void>): Promise<void> {
  const stallMs = ThreadBackend.stallMs;
  ThreadBackend.stallMs = 600_000;
  try {
    await withPool(options, body);
  } finally {
    ThreadBackend.stallMs = stallMs;
  }
}

async function settle(t: Task<unknown>): Promise<unknown> {
  return await Promise.resolve(t).then(
    (v) => v,
    (e: unknown) => e,
  );
}

describe("pipelining on the own thread backend: faults", () => {
  it("a worker that dies blames only the call it started; calls posted behind it run once, elsewhere", () =>
    withHeldPool({ maxWorkers: 1 }, async (p, c) => {
      await warm(p, c, 7, 1);
      const before = postedAhead(p);
      const dying = p.run("markThenExit", c, 0, 3);
      const behind = [1, 2, 3].map((i) => p.run("mark", c, i));
      await until(() => postedAhead(p) > before, "a call posted ahead");
      const e = await settle(dying);
      assert.ok(e instanceof WorkerCrashedError, `the started call fails: ${String(e)}`);
      const threads = await Promise.all(behind);
      assert.equal(new Set(threads).size, 1, "they ran on the replacement");
      assert.deepEqual([...c.subarray(0, 4)], [1, 1, 1, 1], "each call ran exactly once");
    }),
  HANG_GUARD_MS);

  it("cancelling a call posted ahead: it never runs, counts as cancelled at once, and its worker is kept", () =>
    withHeldPool({ maxWorkers: 1, cancelGraceMs: 60_000 }, async (p, c) => {
      const first = await p.run("mark", c, 7);
      const before = postedAhead(p);
      const running = p.run("block", c, 0);
      const ahead = p.run("mark", c, 1);
      await until(() => Atomics.load(c, 0) === 1, "the blocking call's start");
      assert.ok(postedAhead(p) > before, "the second call was posted ahead");
      ahead.cancel("not needed");
      assert.ok((await settle(ahead)) instanceof CancelledError, "cancelled at once, while its worker is blocked");
      Atomics.store(c, 0, 2);
      Atomics.notify(c, 0);
      assert.equal(await running, first, "the running call finished on the same worker");
      assert.equal(await p.run("mark", c, 2), first, "the worker was kept");
      assert.equal(Atomics.load(c, 1), 0, "the cancelled call never ran");
      assert.equal(p.stats().workers, 1);
    }),
  HANG_GUARD_MS);

  it("a cancelled running call that ignores its signal: its worker is stopped, the calls posted behind it run once on the replacement", async () => {
    for (const grace of [0, 200]) {
      await withHeldPool({ maxWorkers: 1, cancelGraceMs: grace }, async (p, c) => {
        await warm(p, c, 7, 1);
        const before = postedAhead(p);
        const stuck = p.run("block", c, 0); // it ignores its signal
        const behind = [1, 2].map((i) => p.run("mark", c, i));
        await until(() => postedAhead(p) > before, "a call posted ahead");
        await until(() => Atomics.load(c, 0) === 1, "the stuck call's start");
        stuck.cancel("enough");
        assert.ok((await settle(stuck)) instanceof CancelledError);
        await Promise.all(behind);
        assert.deepEqual([...c.subarray(0, 3)], [1, 1, 1], `each ran exactly once (cancelGraceMs ${grace})`);
      });
    }
  }, HANG_GUARD_MS);

  it("taskTimeoutMs counts from a call's start, not from its post to a busy worker", () =>
    withHeldPool({ maxWorkers: 1, taskTimeoutMs: 4_000 }, async (p, c) => {
      await warm(p, c, 7, 1);
      const before = postedAhead(p);
      const a = p.run("markThenSpin", c, 0, 3_000);
      const b = p.run("markThenSpin", c, 1, 1_500);
      await until(() => postedAhead(p) > before, "a call posted ahead");
      // b is done 4.5 s after its post, 1.5 s after its start.
      assert.equal(typeof (await a), "number");
      assert.equal(typeof (await b), "number", "the call behind was not timed out");
      // A call that does run too long still times out.
      const e = await settle(p.run("block", c, 2));
      assert.ok(e instanceof TimeoutError, String(e));
    }),
  HANG_GUARD_MS);

  it("fairness: short calls posted behind a long call finish on the other worker, before the long one", () =>
    withPool({ maxWorkers: 2 }, async (p, c) => {
      await warm(p, c, 63, 2);
      const before = postedAhead(p);
      const long = p.run("block", c, 0);
      const shorts = Array.from({ length: 40 }, (_, i) => p.run("mark", c, 1 + i));
      await until(() => postedAhead(p) > before, "calls posted ahead");
      let allDone = false;
      void Promise.all(shorts).then(() => (allDone = true), () => {});
      try {
        await until(() => allDone, "every short call's end while the long one runs");
      } finally {
        // Released either way, so that a failure here does not hang the pool's destroy.
        Atomics.store(c, 0, 2);
        Atomics.notify(c, 0);
      }
      assert.equal(long.done(), false, "the long call was still running");
      const longThread = await long;
      const shortThreads = await Promise.all(shorts);
      assert.ok(shortThreads.every((t) => t !== longThread), "no short call ran on the long call's worker after it");
      assert.ok([...c.subarray(1, 41)].every((n) => n === 1), "each short call ran once");
    }, 64),
  HANG_GUARD_MS);

  it("destroy() rejects calls posted ahead as not started, and leaves no worker", () =>
    withHeldPool({ maxWorkers: 1 }, async (p, c) => {
      await warm(p, c, 7, 1);
      const before = postedAhead(p);
      const running = p.run("block", c, 0);
      const ahead = p.run("mark", c, 1);
      await until(() => postedAhead(p) > before, "a call posted ahead");
      await until(() => Atomics.load(c, 0) === 1, "the blocking call's start");
      await p.destroy();
      releaseAll(c);
      assert.match(String(await settle(running)), /while pool:block was running/);
      assert.match(String(await settle(ahead)), /before pool:mark started/);
      assert.equal(p.stats().workers, 0);
      assert.equal(Atomics.load(c, 1), 0);
    }),
  HANG_GUARD_MS);
});

describe("concurrentTasksPerWorker", () => {
  const flavours: Array<[string, WorkerPoolOptions]> = [["thread", {}]];
  for (const [flavour, options] of flavours) {
    it(`one worker with concurrentTasksPerWorker 4 overlaps four async calls (${flavour})`, () =>
      withPool({ maxWorkers: 1, concurrentTasksPerWorker: 4, ...options }, async (p) => {
        const runs = await Promise.all(Array.from({ length: 4 }, () => p.run("overlap", 200)));
        assert.equal(new Set(runs.map((r) => `${r.pid}:${r.thread}`)).size, 1, "all on one worker");
        const lastStart = Math.max(...runs.map((r) => r.start));
        const firstEnd = Math.min(...runs.map((r) => r.end));
        assert.ok(lastStart < firstEnd, `every call started before any ended: ${JSON.stringify(runs)}`);
      }),
    HANG_GUARD_MS);
  }

  it("a worker that dies fails every call it was running; the pool goes on", () =>
    withPool({ maxWorkers: 1, concurrentTasksPerWorker: 3 }, async (p, c) => {
      await warm(p, c, 7, 1);
      const waiting = [p.run("overlap", 60_000), p.run("overlap", 60_000)];
      await delay(50);
      const dying = p.run("markThenExit", c, 0, 5);
      for (const t of [...waiting, dying]) assert.ok((await settle(t)) instanceof WorkerCrashedError);
      assert.equal(typeof (await p.run("mark", c, 1)), "number");
    }),
  HANG_GUARD_MS);

  it("is checked: a positive integer; above 1 for threads on the own backend only", () => {
    for (const bad of [0, -1, 1.5, "2", Number.NaN, Infinity]) {
      assert.throws(() => pool({ concurrentTasksPerWorker: bad as never }), /concurrentTasksPerWorker must be an integer >= 1/);
    }
    assert.throws(() => pool({ kind: "inline", concurrentTasksPerWorker: 2 }), /concurrentTasksPerWorker is for kind "thread"/);
    // tinypool runs each cancellable call alone on its worker.
    assert.throws(() => pool({ kind: "process", concurrentTasksPerWorker: 2 }), /concurrentTasksPerWorker above 1 needs kind "thread" on the own backend/);
    assert.throws(() => pool({ backend: "tinypool", concurrentTasksPerWorker: 2 }), /concurrentTasksPerWorker above 1 needs/);
    pool({ kind: "process", concurrentTasksPerWorker: 1 }).destroy();
    assert.throws(() => pool({ pipelineDepth: -1 }), /pipelineDepth must be an integer >= 0/);
    assert.throws(() => pool({ backend: "tinypool", pipelineDepth: 2 }), /pipelineDepth is for kind "thread" on the own backend/);
  });
});
