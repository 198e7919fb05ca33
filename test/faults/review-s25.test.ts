/**
 * Review of session 25's merged change: faults found and fixed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CancelledError, WorkerPool } from "../../mod.ts";
import { describe, it } from "../harness.ts";

/** Runs a fixture program on the runtime running the tests; a program still running after `killMs` is killed. */
function runFixture(name: string, killMs: number): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const file = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, argv] = deno ? [deno.execPath(), ["run", "-A", file]] : [process.execPath, ["--import", "tsx", file]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { timeout: killMs }, (err, stdout, stderr) => {
      const code = err ? (err.killed ? "killed (it did not exit)" : typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("review s25: a tinypool thread pool left open lets the process exit", () => {
  // Deno's BroadcastChannel has no unref(): open, it keeps the process alive. The pool's
  // channel with its threads was opened with the pool (for LoadingNotices), so a program that
  // never destroyed a tinypool thread pool never exited on Deno (before, only once a running
  // call had been cancelled, which opened the channel for its abort notice).
  it("a program that never destroys its tinypool thread pool exits, also after a cancel", async () => {
    const r = await runFixture("idle-tinypool-program.ts", 60_000);
    assert.equal(r.code, 0, `exit: ${r.code}; output:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /tinypool thread: 3/);
    assert.match(r.stdout, /tinypool thread after a cancel: 4/);
  }, 90_000);
});

describe("review s25: the channel of a tinypool thread pool outlives other channels' closing", () => {
  // On Deno, all BroadcastChannels of an isolate share one subscription. Closing the last one
  // drops it, but a channel opened before its receive loop has seen the drop keeps the dead id:
  // its posts fail ("expected i32") and it hears nothing. Pools closed their channel after each
  // burst of calls, and on destroy, so a cancel in the next burst, a pool made after another was
  // destroyed, or a channel of the user's opened after a pool was destroyed, could be deaf.
  type CancelTasks = typeof import("../fixtures/cancel-tasks.ts");
  const CANCEL_TASKS = new URL("../fixtures/cancel-tasks.ts", import.meta.url);
  const make = () => new WorkerPool<CancelTasks>(CANCEL_TASKS, { kind: "thread", backend: "tinypool", maxWorkers: 1, cancelGraceMs: 60_000 });

  async function waitFor(dir: string, name: string): Promise<string> {
    const file = join(dir, name);
    // Generous, but well under the 60 s after which `honours` ends by itself (its finally
    // then runs without any abort).
    const end = Date.now() + 30_000;
    while (!existsSync(file)) {
      if (Date.now() > end) throw new Error(`the mark ${name} never came`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return readFileSync(file, "utf8");
  }

  it("a pool made just after another was destroyed: its running call hears the abort", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-channel-"));
    const first = make();
    await first.run("where");
    await first.destroy();
    const p = make();
    try {
      const worker = await p.run("where");
      const t = p.run("honours", dir);
      await waitFor(dir, "started");
      t.cancel();
      await assert.rejects(Promise.resolve(t), (e: unknown) => e instanceof CancelledError);
      // Only the abort notice ends the call this soon (the grace is 60 s): its finally runs on its worker.
      assert.equal(await waitFor(dir, "finally"), worker);
      assert.equal(await p.run("where"), worker, "the worker was kept");
    } finally {
      await p.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("a channel of the user's opened just after a pool was destroyed can post", async () => {
    const p = make();
    await p.run("where");
    await p.destroy();
    const mine = new BroadcastChannel("a user's channel");
    try {
      await new Promise((r) => setTimeout(r, 100)); // the dropped subscription is seen by now
      mine.postMessage("hello"); // threw "expected i32" on Deno
    } finally {
      mine.close();
    }
  }, 60_000);
});
