/**
 * Fault tests: a worker thread that a pool stops runs no code after (issue 14, item 10a).
 *
 * Under Deno, a worker thread's `terminate()` resolves, and its "exit" fires, while the thread
 * may still run a callback of its event loop: a pool that stopped its threads that way could
 * resolve `destroy()` with task code still running. A task that counts on every turn of its
 * thread's event loop shows it in a few rounds. (A thread stuck in JavaScript that never
 * yields is another matter: Deno cannot stop it at all; see races.test.ts.)
 */
import assert from "node:assert/strict";
import { CancelledError, PoolClosedError, type Task, WorkerPool } from "../../mod.ts";
import { describe, it, runtime } from "../harness.ts";

type PidTasks = typeof import("../fixtures/pid-tasks.ts");
const PID_TASKS = new URL("../fixtures/pid-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 180_000;
/**
 * Rounds per case. Before the fix, Deno ran a callback after "exit" in about 4 rounds of 10
 * (Node never did: its `terminate()` resolves once the thread has stopped).
 */
const ROUNDS = runtime === "deno" ? 12 : 4;

type Flavour = "thread" | "tinypool threads";
const flavours: Flavour[] = runtime === "node" ? ["thread", "tinypool threads"] : ["thread"];

function pool(flavour: Flavour): WorkerPool<PidTasks> {
  return new WorkerPool<PidTasks>(PID_TASKS, {
    kind: "thread",
    maxWorkers: 2,
    ...(flavour === "tinypool threads" ? { backend: "tinypool" as const } : {}),
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The error `t` failed with (it must fail). */
async function failure(t: Task<unknown>): Promise<unknown> {
  try {
    await t;
  } catch (e) {
    return e;
  }
  assert.fail("the call succeeded");
}

/** Waits until every slot of `beats` has counted (a worker that never starts fails the case by its guard). */
async function allBeating(beats: Int32Array): Promise<void> {
  while (Array.from(beats).some((n) => n === 0)) await delay(5);
}

/** Fails if a slot of `beats` still counts: a thread that still ran would, within a few turns. */
async function assertStill(beats: Int32Array, when: string): Promise<void> {
  const before = Array.from(beats);
  await delay(100);
  assert.deepEqual(Array.from(beats), before, `a worker thread still ran task code ${when}`);
}

describe("faults: a stopped worker thread runs nothing after", () => {
  for (const flavour of flavours) {
    it(`${flavour}: once destroy() resolves, no running call's thread runs any more`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const p = pool(flavour);
        const beats = new Int32Array(new SharedArrayBuffer(8));
        const cancelled = p.run("heartbeatEveryTurn", beats, 0);
        const running = p.run("heartbeatEveryTurn", beats, 1);
        await allBeating(beats);
        cancelled.cancel();
        await p.destroy();
        await assertStill(beats, `after destroy() (round ${round})`);
        assert.ok((await failure(cancelled)) instanceof CancelledError);
        assert.ok((await failure(running)) instanceof PoolClosedError);
      }
    }, HANG_GUARD_MS);

    it(`${flavour}: once destroy() resolves, no idle thread runs what a task left behind`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const p = pool(flavour);
        const beats = new Int32Array(new SharedArrayBuffer(8));
        assert.deepEqual(
          await Promise.all([p.run("heartbeatLeftBehind", beats, 0), p.run("heartbeatLeftBehind", beats, 1)]),
          ["counting", "counting"],
        );
        await allBeating(beats);
        await p.destroy();
        await assertStill(beats, `after destroy() (round ${round})`);
      }
    }, HANG_GUARD_MS);
  }
});
