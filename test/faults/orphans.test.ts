/**
 * Fault tests: no worker process outlives the program that made its pool, however that
 * program ends.
 *
 * A process pool's child (`kind: "process"`, on tinypool's `child_process` runtime) hears
 * that its parent is gone only when its IPC channel closes, and it hears that only on its
 * event loop. A child busy in synchronous code when its parent was SIGKILLed (or died of
 * anything else that runs no cleanup: the OOM killer, a crash) computed on as an orphan until
 * its call ended: a call in an endless loop ran for ever. So did a child whose call kept its
 * event loop alive (a timer): it heard the channel close, but had no reason to end.
 *
 * The rule: such a child ends within a few seconds of its parent's death, whatever its main
 * thread does (a watchdog thread in the child sees the parent go); and a child whose parent
 * is merely busy is never ended.
 *
 * The same held for `loopwork worker --stop-on-stdin-end --threads 0`, whose jobs run on its
 * own thread: a job busy in synchronous code hid the end of its standard input (its parent
 * gone), and it served on. Now it is killed at the end of its grace period and a margin.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkerPool } from "../../mod.ts";
import { redisAvailable, redisRequired, startProcess, startRedis, type WorkerProcess } from "../cluster-helpers.ts";
import { describe, it, skip } from "../harness.ts";
import { startProgram } from "../subprocess.ts";

type OrphanTasks = typeof import("../fixtures/orphan-tasks.ts");
const ORPHAN_TASKS = new URL("../fixtures/orphan-tasks.ts", import.meta.url);
const PARENT_PROGRAM = fileURLToPath(new URL("../fixtures/orphan-parent-program.ts", import.meta.url));

/** Generous "it did not hang" bound for the child to start its call; never a speed check. */
const START_MS = 60_000;
/** Generous bound for an orphan to end once its parent is gone; never a speed check. */
const ORPHAN_MS = 20_000;
/** The test runner's bound for a case. */
const CASE_MS = 120_000;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether process `pid` runs: it exists and (on Linux, where /proc tells) is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": the state follows the last ')' (comm may hold one).
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return process.platform !== "linux";
  }
}

/** Polls `ok` every 100 ms until it holds (true) or `ms` have passed (false). */
async function eventually(ms: number, ok: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (ok()) return true;
    if (Date.now() > end) return false;
    await delay(100);
  }
}

/** Resolves once `child` has exited and its pipes have closed. */
function closed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    if (child.stdout?.closed !== false && child.stderr?.closed !== false) return Promise.resolve();
  }
  return new Promise((resolve) => child.once("close", () => resolve()));
}

const ORPHAN_CALLS = {
  spinForever: "spins in synchronous code",
  waitForever: "waits with a timer that keeps its event loop alive",
} as const;

describe("a process pool's child whose parent dies", () => {
  for (const [task, what] of Object.entries(ORPHAN_CALLS)) {
    it(`ends within 20 s when its parent is SIGKILLed while its call ${what}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "loopwork-orphan-"));
      const pidFile = join(dir, "child.pid");
      const parent = startProgram(PARENT_PROGRAM, [pidFile, task]);
      let output = "";
      parent.stdout?.on("data", (b: Buffer) => void (output += b.toString()));
      parent.stderr?.on("data", (b: Buffer) => void (output += b.toString()));
      const parentClosed = closed(parent);
      let childPid = 0;
      try {
        const started = await eventually(START_MS, () => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== "");
        assert.ok(started, `the pool's child did not start its call within ${START_MS} ms; the program said:\n${output}`);
        childPid = Number(readFileSync(pidFile, "utf8"));
        assert.ok(Number.isInteger(childPid) && childPid > 0, `bad child pid ${readFileSync(pidFile, "utf8")}`);
        assert.ok(alive(childPid), "the child should be running its call");
        parent.kill("SIGKILL");
        await parentClosed;
        const ended = await eventually(ORPHAN_MS, () => !alive(childPid));
        assert.ok(ended, `the pool's child ${childPid} still ran ${ORPHAN_MS} ms after its parent was SIGKILLed (an orphan)`);
      } finally {
        if (childPid > 0 && alive(childPid)) process.kill(childPid, "SIGKILL");
        if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL");
        await parentClosed;
        rmSync(dir, { recursive: true, force: true });
      }
    }, CASE_MS);
  }

  it("is never ended while its parent lives but is busy in synchronous code", async () => {
    const pool = new WorkerPool<OrphanTasks>(ORPHAN_TASKS, { kind: "process", maxWorkers: 1 });
    try {
      const first = await pool.run("spinFor", 0);
      const call = pool.run("spinFor", 2_000);
      // This (the parent's) main thread is busy for several of the watchdog's checks.
      const end = Date.now() + 5_000;
      while (Date.now() < end) {
        // Busy.
      }
      assert.equal(await call, first, "the same child answers: it was neither killed nor replaced");
      assert.equal(await pool.run("spinFor", 0), first);
    } finally {
      await pool.destroy();
    }
  }, CASE_MS);
});

if (!redisAvailable && !redisRequired) {
  skip("loopwork worker --stop-on-stdin-end --threads 0 (redis-server is not installed)");
} else {
  describe("loopwork worker --stop-on-stdin-end --threads 0", () => {
    it("ends when its standard input ends while a job spins on its own thread (killed after the grace period and a margin)", async () => {
      const redis = await startRedis();
      const queue = `orphans-${process.pid}`;
      const dir = mkdtempSync(join(tmpdir(), "loopwork-orphan-"));
      const pidFile = join(dir, "worker.pid");
      let worker: WorkerProcess | undefined;
      let pool: WorkerPool<OrphanTasks> | undefined;
      try {
        worker = await startProcess(
          ["worker", "--connection", redis.url, "--queue", queue, "--module", fileURLToPath(ORPHAN_TASKS), "--threads", "0", "--grace-ms", "500", "--stop-on-stdin-end"],
          undefined,
          undefined,
          "pipe",
        );
        pool = new WorkerPool<OrphanTasks>(null, { kind: "bullmq", connection: redis.url, queue });
        const call = pool.run("spinForever", pidFile);
        call.then(() => {}, () => {});
        const started = await eventually(START_MS, () => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== "");
        assert.ok(started, `the worker did not start the job within ${START_MS} ms; it said:\n${worker.output()}`);
        assert.equal(Number(readFileSync(pidFile, "utf8")), worker.child.pid, "the job runs on the worker's own thread");
        worker.child.stdin!.end();
        const exit = worker.exit();
        const ended = await eventually(ORPHAN_MS + 10_000, () => worker!.child.exitCode !== null || worker!.child.signalCode !== null);
        assert.ok(ended, `the worker still served ${ORPHAN_MS + 10_000} ms after its standard input ended (an orphan):\n${worker.output()}`);
        await exit;
        assert.match(worker.output(), /standard input ended \d+ ms ago and it has not stopped .*killing it/);
        call.cancel();
      } finally {
        await worker?.kill();
        await pool?.destroy();
        await redis.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, CASE_MS);
  });
}
