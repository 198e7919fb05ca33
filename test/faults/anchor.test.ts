/**
 * Trust and packaging of the tinypool backend and the bullmq kind.
 *
 * - Deno's BroadcastChannel bug (see `anchor` in src/pool/backends/tinypool.ts) was worked
 *   around by a channel and a 100 ms timer opened when the backend's module was evaluated:
 *   every Deno program that imported loopwork opened them. Now the first tinypool thread pool
 *   opens its anchor, and a subscription dropped before is renewed on both sides.
 * - A "bullmq" pool, and `loopwork worker`, met Deno's permissions one at a time, deep in a
 *   connection attempt (or, for a pool, as its first call failed); now each says at once
 *   every flag it lacks, as Deno's NotCapable.
 * - The tinypool backend's set of calls whose worker waits for their task module kept the
 *   number of a call whose "loading" notice came after the call ended (its worker stopped).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BroadcastChannel } from "node:worker_threads";
import { CancelledError, WorkerPool } from "../../mod.ts";
import { describe, it, runtime, skip } from "../harness.ts";
import { runProgram } from "../subprocess.ts";
import { redisAvailable, redisRequired, startRedis } from "../cluster-helpers.ts";

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

/** Runs Deno with `args`, stdin closed (no prompt), colours off. */
async function deno(args: string[]): Promise<{ code: number; out: string }> {
  const { Deno } = globalThis as unknown as {
    Deno: {
      execPath(): string;
      Command: new (cmd: string, o: object) => { output(): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> };
    };
  };
  const r = await new Deno.Command(Deno.execPath(), { args, stdin: "null", env: { NO_COLOR: "1" } }).output();
  const text = new TextDecoder();
  return { code: r.code, out: text.decode(r.stdout) + text.decode(r.stderr) };
}

if (runtime === "deno") {
  describe("a bullmq pool's Deno permissions, for a connection through Redis Sentinel", () => {
    // ioredis reaches the sentinels named, not `host:port` (left unset, localhost:6379): the
    // check asked for --allow-net to localhost:6379 and refused a program granted its
    // sentinels.
    it("new WorkerPool asks --allow-net for the sentinels, not for localhost:6379", async () => {
      const dir = mkdtempSync(join(tmpdir(), "loopwork-sentinel-"));
      try {
        const program = join(dir, "main.ts");
        writeFileSync(
          program,
          `import { WorkerPool } from ${JSON.stringify(new URL("../../mod.ts", import.meta.url).href)};
const sentinels = [{ host: "127.0.0.1", port: 1 }, { host: "127.0.0.2" }];
try {
  const pool = new WorkerPool(null, { kind: "bullmq", connection: { sentinels, name: "main" }, queue: "q" });
  console.log("made");
  await pool.destroy();
} catch (e) {
  console.log("refused: " + (e as Error).message);
}
Deno.exit(0);
`,
        );
        const repo = fileURLToPath(new URL("../..", import.meta.url));
        const read = `--allow-read=${repo},${dir}`;
        const r = await deno(["run", "--no-check", read, "--allow-env", "--allow-net=127.0.0.1:1,127.0.0.2:26379", program]);
        assert.equal(r.out.trim(), "made", r.out);
        const without = await deno(["run", "--no-check", read, "--allow-env", "--allow-net=127.0.0.1:1", program]);
        assert.match(without.out, /^refused: .*--allow-net \(to reach Redis Sentinel at 127\.0\.0\.2:26379\)/, without.out);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}

const bullmqCase = 'under Deno, new WorkerPool of kind "bullmq" and loopwork worker name every permission they lack (NotCapable); with exactly those flags a call is answered';
if (runtime !== "deno") skip(`${bullmqCase} (Deno's permissions)`);
else if (!redisAvailable && !redisRequired) skip(`${bullmqCase} (redis-server is not installed)`);
else {
  describe("a bullmq pool's and loopwork worker's Deno permissions", () => {
    it(bullmqCase, async () => {
      const redis = await startRedis();
      const program = fixture("bullmq-permissions-program.ts");
      const tasks = fixture("tasks.ts");
      const cli = fileURLToPath(new URL("../../src/tools/cli.ts", import.meta.url));
      const net = `--allow-net=${new URL(redis.url).host}`;
      const read = `--allow-read (to read your task module ${tasks})`;
      const netWhy = `--allow-net (to reach Redis at ${new URL(redis.url).host})`;
      const env = "--allow-env (for ioredis's logger to read the whole environment as it loads)";
      const sys = "--allow-sys (to name this worker by its host)";
      const queue = "permissions";
      const { Deno } = globalThis as unknown as {
        Deno: {
          execPath(): string;
          Command: new (cmd: string, o: object) => {
            spawn(): {
              stdout: ReadableStream<Uint8Array>;
              stderr: ReadableStream<Uint8Array>;
              status: Promise<{ code: number }>;
              kill(signal: string): void;
            };
          };
        };
      };
      let child: ReturnType<InstanceType<typeof Deno.Command>["spawn"]> | null = null;
      let out = "";
      let reading: Promise<void> = Promise.resolve();
      try {
        const pool = async (flags: string[], refused: string[] | null) => {
          const r = await deno(["run", ...flags, program, redis.url, queue]);
          const what = `deno run ${flags.join(" ")} (a bullmq pool):\n${r.out}`;
          assert.equal(r.code, 0, what);
          if (refused === null) return assert.equal(r.out.trim(), "answer 3", what);
          const missing = refused.join(", ").replace(/, (?=[^,]*$)/, " or ");
          assert.equal(
            r.out.trim(),
            `refused: NotCapable a "bullmq" pool cannot reach Redis: Deno has not granted ${missing}: run again with --allow-read --allow-net --allow-env (or -A)`,
            what,
          );
        };
        await pool([], [read, netWhy, env]);
        await pool(["--allow-read"], [netWhy, env]);
        await pool(["--allow-read", "--allow-env"], [netWhy]);
        await pool(["--allow-read", net], [env]);
        await pool([`--allow-read=${tasks}`, "--allow-env"], [netWhy]);

        const worker = (flags: string[]) => ["run", ...flags, cli, "worker", "--connection", redis.url, "--queue", queue, "--module", tasks, "--threads", "1"];
        for (const [flags, refused] of [
          [[], [read, netWhy, env, sys]],
          [["--allow-read", net, "--allow-env"], [sys]],
          [["--allow-read", "--allow-env", "--allow-sys"], [netWhy]],
        ] as const) {
          const r = await deno(worker([...flags]));
          const what = `deno run ${flags.join(" ")} loopwork worker:\n${r.out}`;
          assert.equal(r.code, 1, what);
          assert.equal(
            r.out,
            `loopwork worker: cannot serve the queue: Deno has not granted ${refused.join(", ").replace(/, (?=[^,]*$)/, " or ")}: ` +
              "the command reads files, uses the network and starts workers: run it with deno run -A npm:loopwork\n",
            what,
          );
        }

        // With exactly the flags named, both run: the worker answers the pool's call.
        const spawned = new Deno.Command(Deno.execPath(), {
          args: worker(["--allow-read", net, "--allow-env", "--allow-sys"]),
          stdin: "null",
          // (Its lines come on stdout under Deno's Command, as in newcomer.test.ts: read both.)
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).spawn();
        child = spawned;
        const drain = async (stream: ReadableStream<Uint8Array>) => {
          for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out += chunk;
        };
        reading = Promise.all([drain(spawned.stdout), drain(spawned.stderr)]).then(() => {});
        // Its start (or its exit), within a generous bound: a guard against a hang, not a speed check.
        for (let i = 0; i < 300 && !/loopwork worker: started/.test(out); i++) {
          const exited = await Promise.race([spawned.status.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
          if (exited) break;
        }
        assert.match(out, /loopwork worker: started/, `the worker with --allow-read ${net} --allow-env --allow-sys:\n${out}`);
        await pool(["--allow-read", net, "--allow-env"], null);
      } finally {
        try {
          child?.kill("SIGTERM");
        } catch {
          // (it had exited)
        }
        await child?.status;
        await reading;
        await redis.stop();
      }
    }, 180_000);
  });
}
