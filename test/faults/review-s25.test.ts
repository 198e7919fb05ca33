/**
 * Review of session 25's merged change: faults found and fixed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
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
