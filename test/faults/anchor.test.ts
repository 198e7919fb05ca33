/**
 * Trust and packaging of the tinypool backend and the bullmq kind.
 *
 * - Deno's BroadcastChannel bug (see `anchor` in src/pool/backends/tinypool.ts) was worked
 *   around by a channel and a 100 ms timer opened when the backend's module was evaluated:
 *   every Deno program that imported loopwork opened them. Now the first tinypool thread pool
 *   opens its anchor, and a subscription dropped before is renewed on both sides.
 * - The tinypool backend's set of calls whose worker waits for their task module kept the
 *   number of a call whose "loading" notice came after the call ended (its worker stopped).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BroadcastChannel } from "node:worker_threads";
import { CancelledError, WorkerPool } from "../../mod.ts";
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

async function eventually(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(`the tinypool backend keeps no number of an ended call (${runtime})`, () => {
  type Tasks = typeof import("../fixtures/tasks.ts");
  interface Backend {
    _atWorker: Map<number, boolean>;
    _lastId: number;
    _stopping: number;
    _abortChannel: { name: string };
  }
  const loadingHeld = (b: Backend): number => [...b._atWorker.values()].filter(Boolean).length;

  // A worker tells of its module loads on the pool's channel, which no order ties to the
  // call's end: a notice its worker posted just before it was stopped can come after the
  // call ended. Each such notice left the call's number in the set for the pool's life.
  it("LoadingNotices that come after their calls ended (their worker was stopped) leave nothing held", async () => {
    const p = new WorkerPool<Tasks>(new URL("../fixtures/tasks.ts", import.meta.url), { kind: "thread", backend: "tinypool", maxWorkers: 1, cancelGraceMs: 0 });
    let channel: BroadcastChannel | null = null;
    try {
      await p.run("noop");
      const backend = (p as unknown as { _backend: Backend })._backend;
      // As the pool's threads post (the pool's own channel hears no post of its own).
      channel = new BroadcastChannel(backend._abortChannel.name);
      const running = async (): Promise<[number, ReturnType<typeof p.run>]> => {
        const before = backend._lastId;
        const t = p.run("delayedEcho", 0, 60_000);
        await eventually(() => backend._lastId === before + 1, 30_000, "the call reached the backend");
        return [backend._lastId, t];
      };
      for (let i = 0; i < 20; i++) {
        const [id, t] = await running();
        t.cancel();
        await assert.rejects(Promise.resolve(t), (e: unknown) => e instanceof CancelledError);
        // Its worker has exited: tinypool has let go of the call.
        await eventually(() => backend._stopping === 0, 30_000, "the stopped worker exited");
        channel.postMessage({ loopworkLoading: id, loading: true });
      }
      // A notice for a running call, posted after all of them on the same channel: once it
      // is heard, so were they.
      const [id, t] = await running();
      await eventually(() => backend._atWorker.has(id), 30_000, "a worker has the running call");
      channel.postMessage({ loopworkLoading: id, loading: true });
      await eventually(() => loadingHeld(backend) > 0, 30_000, "the running call's notice was heard");
      assert.equal(loadingHeld(backend), 1, "only the running call is held as loading");
      t.cancel();
      await Promise.resolve(t).catch(() => {});
      await eventually(() => backend._stopping === 0, 30_000, "the stopped worker exited");
      assert.equal(backend._atWorker.size, 0, "no call is held once none runs");
    } finally {
      channel?.close();
      await p.destroy();
    }
  }, 180_000);
});
