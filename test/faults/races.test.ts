/**
 * Fault tests: cancellation races and shutdown (issue 14, items 8 and 10a).
 *
 * A call nobody cancelled must never fail because a neighbour was cancelled, whatever the
 * moment of that cancel: while the neighbour waits, as it starts, as its answer is on its way
 * back, or right after it finished. And `destroy()` (or `close()`) resolves only once every
 * worker process and thread has exited.
 */
import assert from "node:assert/strict";
import {
  CancelledError,
  getRunningLoop,
  run,
  sleep,
  spawn,
  type Task,
  WorkerPool,
  type WorkerPoolOptions,
} from "../../mod.ts";
import { describe, it, runtime } from "../harness.ts";

type Tasks = typeof import("../fixtures/tasks.ts");
const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 180_000;

type Flavour = "thread" | "process" | "tinypool threads";

/**
 * A pool of `flavour`: `"thread"` is loopwork's own thread backend (the default),
 * `"tinypool threads"` the same kind on tinypool (the option `backend`).
 */
function pool(flavour: Flavour, options: WorkerPoolOptions = {}): WorkerPool<Tasks> {
  const kind = flavour === "process" ? "process" : "thread";
  return new WorkerPool<Tasks>(TASKS, { kind, ...(flavour === "tinypool threads" ? { backend: "tinypool" } : {}), ...options });
}

/** Blocks this thread (not the workers) for `ms`: a worker's answer arrives meanwhile, unread. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What became of a call: its value, or the error it failed with. */
async function outcome(t: Task<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await t };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

const flavours: Flavour[] = runtime === "node" ? ["thread", "process", "tinypool threads"] : ["thread", "process"];

describe("faults: a worker that dies never fails a neighbour", () => {
  // Threads only. A post on parentPort used to reach the pool after the worker's answer, when
  // the worker ran the next call: tinypool dropped the worker and the next call died with it
  // ("Terminating worker thread"). Now such a post fails the task that made it, at once.
  for (const flavour of flavours.filter((f) => f !== "process")) {
    it(`${flavour}: calls queued behind a call whose worker is dropped all get their own results`, async () => {
      const p = pool(flavour, { maxWorkers: 1 });
      const failures: string[] = [];
      try {
        assert.equal(await p.run("add", 0, 0), 0);
        for (let i = 0; i < 12; i++) {
          const victim = i % 2 === 0
            ? p.run("postOnParentPortThenAnswer", `round ${i}`)
            : p.run("postOnParentPort", `round ${i}`, i % 3);
          const innocents = [1, 2, 3].map((k) => p.run("add", i, k * 1_000));
          const v = await outcome(victim);
          // It fails (its worker is dropped), or, when its answer won the race, has its own result.
          if (v.ok) assert.equal(v.value, `result of round ${i}`);
          for (const [k, t] of innocents.entries()) {
            const got = await outcome(t);
            if (!got.ok) failures.push(`round ${i}, call ${k}: ${describeError(got.error)}`);
            else if (got.value !== i + (k + 1) * 1_000) failures.push(`round ${i}, call ${k}: wrong result`);
          }
          // And a call made after the failure was seen.
          const after = await outcome(p.run("add", i, 7));
          if (!after.ok) failures.push(`round ${i}, the next call: ${describeError(after.error)}`);
        }
      } finally {
        await p.destroy();
      }
      assert.deepEqual(failures, [], `innocent calls failed: ${failures.join("; ")}`);
    }, HANG_GUARD_MS);
  }
});

describe("faults: a cancel never fails a neighbour", () => {
  for (const flavour of flavours) {
    it(`${flavour}: cancelling a call as its answer comes back never fails the call queued behind it`, async () => {
      // One worker: `victim` runs, `innocent` waits in the pool's queue. The victim is
      // cancelled just as its worker answers (the answer is on its way, unread), so the
      // worker is stopped while the innocent call is handed on to the pool's next worker.
      const p = pool(flavour, { maxWorkers: 1 });
      const failures: string[] = [];
      try {
        assert.equal(await p.run("add", 0, 0), 0);
        for (let i = 0; i < 24; i++) {
          const victim = p.run("delayedEcho", i, i % 2 === 0 && flavour !== "process" ? 0 : 5);
          const innocent = p.run("add", i, 1_000);
          if (i % 2 === 0 && flavour !== "process") {
            // Let the victim reach its worker, then hold this thread while the worker answers.
            for (let k = 0; k < 5; k++) await Promise.resolve();
            block(30);
          } else {
            // Cancel near the moment the 5 ms task answers. (A process's answer first crosses
            // its IPC pipe, then a message port: the race is between the two.)
            await delay(3 + Math.random() * 6);
          }
          victim.cancel();
          const got = await outcome(innocent);
          if (!got.ok) failures.push(`round ${i}: ${describeError(got.error)}`);
          else if (got.value !== i + 1_000) failures.push(`round ${i}: wrong result ${String(got.value)}`);
          const v = await outcome(victim);
          if (v.ok) {
            assert.equal(v.value, i, "a victim that finished first has its own result");
          } else {
            assert.ok(v.error instanceof CancelledError, `the victim fails only as cancelled: ${describeError(v.error)}`);
          }
        }
      } finally {
        await p.destroy();
      }
      assert.deepEqual(failures, [], `innocent calls failed: ${failures.join("; ")}`);
    }, HANG_GUARD_MS);

    it(`${flavour}: a storm of random cancels fails no call that was not cancelled`, async () => {
      const failures: string[] = [];
      // One worker (every call after a stopped one waits for a new worker), then two.
      for (const maxWorkers of [1, 2]) {
        const p = pool(flavour, { maxWorkers });
        try {
          const calls: { task: Task<number>; i: number; cancelled: () => boolean }[] = [];
          let previous: Task<number> | null = null;
          for (let i = 0; i < 160; i++) {
            const task: Task<number> = i % 3 === 0
              ? p.run("add", i, 0)
              : (p.run("delayedEcho", i, i % 4) as Task<number>);
            let cancelled = false;
            const cancel = () => {
              cancelled = task.cancel() || cancelled;
            };
            if (Math.random() < 0.2) {
              const when = Math.floor(Math.random() * 5);
              if (when === 0) cancel(); // before it starts
              else if (when === 1) queueMicrotask(cancel); // as it starts
              else if (when === 2 && previous !== null) previous.addDoneCallback(cancel); // as its neighbour finishes
              else if (when === 3) {
                // While answers are on their way back, unread.
                setTimeout(() => {
                  block(Math.random() * 6);
                  cancel();
                }, Math.random() * 4);
              } else setTimeout(cancel, Math.random() * 8); // at some moment while queued or running
            }
            calls.push({ task, i, cancelled: () => cancelled });
            previous = task;
            if (i % 20 === 19) await delay(Math.random() * 10);
          }
          for (const { task, i, cancelled } of calls) {
            const got = await outcome(task);
            if (got.ok) {
              if (got.value !== i) failures.push(`${maxWorkers} workers, call ${i}: wrong result ${String(got.value)}`);
            } else if (!(cancelled() && got.error instanceof CancelledError)) {
              const state = cancelled() ? "cancelled" : "not cancelled";
              failures.push(`${maxWorkers} workers, call ${i} (${state}): ${describeError(got.error)}`);
            }
          }
        } finally {
          await p.destroy();
        }
      }
      assert.deepEqual(failures, [], `calls failed: ${failures.join("; ")}`);
    }, HANG_GUARD_MS);
  }
});

type PidTasks = typeof import("../fixtures/pid-tasks.ts");
const PID_TASKS = new URL("../fixtures/pid-tasks.ts", import.meta.url);

/** Is process `pid` alive? (Signal 0 checks without sending anything.) */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** The pids of the `n` process workers of `p` (a pool of `n` workers at most). */
async function workerPids(p: WorkerPool<PidTasks>, n: number): Promise<number[]> {
  const pids = new Set<number>();
  // The first round starts the workers; a worker that starts late may take two calls of a
  // round, but each later round finds every worker idle.
  for (let round = 0; round < 20 && pids.size < n; round++) {
    const where = await Promise.all(Array.from({ length: n }, () => p.run("whereAfter", 50)));
    for (const w of where) pids.add(w.pid);
  }
  assert.equal(pids.size, n, "every worker ran a call");
  assert.ok(!pids.has(process.pid));
  return [...pids];
}

const ends: { name: string; end: (p: WorkerPool<PidTasks>) => Promise<void> }[] = [
  { name: "destroy()", end: (p) => p.destroy() },
  { name: "close()", end: (p) => p.close() },
  { name: "[Symbol.asyncDispose]()", end: (p) => p[Symbol.asyncDispose]() },
];

// Deno 2.9 cannot stop a worker thread stuck in JavaScript that never yields: terminate()
// resolves and "exit" fires, but the thread runs on until the process is killed
// (denoland/deno#35657). So on Deno a cancelled or timed-out CPU-bound call on a thread goes
// on burning its core, and destroy() cannot end it; processes are stopped on both runtimes.
describe("faults: nothing outlives a pool", () => {
  for (const { name, end } of ends) {
    it(`process: once ${name} resolves, no worker process is alive (cancelled or running)`, async () => {
      const p = new WorkerPool<PidTasks>(PID_TASKS, { kind: "process", maxWorkers: 3 });
      const pids = await workerPids(p, 3);
      const beats = new Int32Array(new SharedArrayBuffer(12));
      // Every worker runs a call: one is cancelled (its worker is stopped and replaced), then
      // destroy() stops the others (close() waits for calls: they are cancelled just before).
      const calls = [0, 1, 2].map((slot) => p.run("heartbeat", beats, slot));
      await delay(100);
      calls[0]!.cancel();
      if (name !== "destroy()") { for (const call of calls) call.cancel(); }
      await end(p);
      const living = pids.filter(alive);
      assert.deepEqual(living, [], `worker processes alive after ${name}: ${living.join(", ")}`);
      for (const call of calls) await outcome(call);
    }, HANG_GUARD_MS);
  }

  it("process: once run() ends, no worker process of the executor it closes is alive", async () => {
    const p = new WorkerPool<PidTasks>(PID_TASKS, { kind: "process", maxWorkers: 2 });
    const pids = await workerPids(p, 2);
    const beats = new Int32Array(new SharedArrayBuffer(8));
    await run(function* () {
      const loop = getRunningLoop();
      loop.setDefaultExecutor(p);
      // Left running: run() cancels them (stopping their workers), then closes the executor.
      spawn(function* () {
        yield* loop.runInExecutor(null, "heartbeat", beats, 0);
      });
      spawn(function* () {
        yield* loop.runInExecutor(null, "heartbeat", beats, 1);
      });
      yield* sleep(100);
    });
    const living = pids.filter(alive);
    assert.deepEqual(living, [], `worker processes alive after run(): ${living.join(", ")}`);
  }, HANG_GUARD_MS);

  for (const flavour of flavours.filter((f) => f !== "process")) {
    it(`${flavour}: once destroy() resolves, no worker thread runs any more (running or cancelled)`, async () => {
      const p = new WorkerPool<PidTasks>(PID_TASKS, {
        kind: "thread",
        maxWorkers: 2,
        ...(flavour === "tinypool threads" ? { backend: "tinypool" as const } : {}),
      });
      const beats = new Int32Array(new SharedArrayBuffer(8));
      // Deno cannot stop a thread that never yields (see the note below): its calls yield there.
      const task = runtime === "deno" ? "heartbeatYielding" : "heartbeat";
      const cancelled = p.run(task, beats, 0);
      const running = p.run(task, beats, 1);
      // Both threads beat.
      while (Atomics.load(beats, 0) === 0 || Atomics.load(beats, 1) === 0) await delay(10);
      cancelled.cancel();
      await p.destroy();
      const before = [Atomics.load(beats, 0), Atomics.load(beats, 1)];
      // A thread still alive would go on counting; give it time to show.
      await delay(200);
      assert.deepEqual([Atomics.load(beats, 0), Atomics.load(beats, 1)], before, "a worker thread still runs");
      await outcome(cancelled);
      await outcome(running);
    }, HANG_GUARD_MS);
  }
});
