/**
 * Trust and packaging of the tinypool backend and the bullmq kind.
 *
 * - Deno's BroadcastChannel bug (see `anchor` in src/pool/backends/tinypool.ts) was worked
 *   around by a channel and a 100 ms timer opened when the backend's module was evaluated:
 *   every Deno program that imported loopwork opened them. Now the first tinypool thread pool
 *   opens its anchor, and a subscription dropped before is renewed on both sides.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it, runtime, skip } from "../harness.ts";
import { runProgram } from "../subprocess.ts";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe(`the tinypool backend's channel on Deno is opened by the first pool that needs it (${runtime})`, () => {
  if (runtime === "deno") {
    // Deno's op and resource sanitizers (off by default) see every op and resource a test
    // leaves, unref'd or not: the anchor's channel, its receive op and its check timer were
    // all reported for a bare import before.
    it("a Deno program that imports loopwork, and makes a tinypool pool that never runs a call, opens no BroadcastChannel and keeps no timer", async () => {
      const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno;
      const r = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          deno.execPath(),
          ["test", "--allow-all", "--no-check", fixture("import-quiet.ts")],
          { timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout + stderr }),
        );
      });
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /ok \| 1 passed \| 0 failed/, r.out);
    }, 150_000);
  } else {
    skip("a Deno program that imports loopwork opens no BroadcastChannel and keeps no timer (Deno's sanitizers; Node's channel has no such bug and loopwork opens none there)");
  }

  // The receive side alone: the pool posts nothing before the call times out (no cancel, so
  // `postOn` never renews the subscription); its channel, opened in the same turn as the
  // program's last channel closed, heard nothing once Deno saw the drop, unless checked.
  it("a tinypool thread pool whose first call is made in the same turn as the program's last channel closed hears its thread's LoadingNotice", async () => {
    const r = await runProgram(fixture("receive-window-program.ts"));
    assert.equal(r.code, 0, `exit: ${r.code}; output:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /the loading was heard/, r.stdout + r.stderr);
  }, 150_000);
});
