import assert from "node:assert/strict";
import { getRunningLoop, run, sleep, toThread, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../mod.ts";
import { Worker } from "node:worker_threads";
import { rejection } from "./expect.ts";
import { describe, it, runtime, skip } from "./harness.ts";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "./subprocess.ts";

/** The same CPU work as the `spin` fixture, for raw worker threads (the baseline). */
const RAW_SPIN =
  'const { parentPort } = require("node:worker_threads");' +
  "parentPort.on('message', (n) => { let x = 0; for (let i = 0; i < n; i++) x = (x + i * i) % 1000003; parentPort.postMessage(x); });";

type Tasks = typeof import("./fixtures/tasks.ts");
const TASKS = new URL("./fixtures/tasks.ts", import.meta.url);

function pool(options: WorkerPoolOptions = {}): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(TASKS, { maxWorkers: 2, ...options });
}

/** Waits until `done()` holds, or a generous "it did not hang" bound (30 s) has passed. */
async function until(done: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("WorkerPool: crashing workers", () => {
  for (const kind of ["thread", "process"] as const) {
    it(`${kind}: a worker that calls process.exit() rejects its call with WorkerCrashedError and is replaced`, async () => {
      const p = pool({ kind, maxWorkers: 1 });
      try {
        const e = await rejection(p.run("exit", 3));
        assert.ok(e instanceof WorkerCrashedError, `${e.name}: ${e.message}`);
        assert.match(e.message, /task "exit"/);
        if (kind === "thread") assert.equal(e.exitCode, 3);
        assert.equal(await p.run("add", 2, 2), 4, "a new worker runs the next call");
      } finally {
        await p.destroy();
      }
    });

    it(`${kind}: an uncaught error in a worker rejects its call and the pool carries on`, async () => {
      const p = pool({ kind, maxWorkers: 1 });
      try {
        const e = await rejection(p.run("throwLater", "kaboom"));
        assert.ok(e instanceof WorkerCrashedError, `${e.name}: ${e.message}`);
        if (kind === "thread") assert.match(e.message, /kaboom/);
        assert.equal(await p.run("add", 1, 1), 2);
      } finally {
        await p.destroy();
      }
    });
  }

  it("thread: a worker that ends itself the runtime's own way (Deno.exit under Deno) fails its call, never hangs it", async () => {
    const p = pool({ kind: "thread", maxWorkers: 1 });
    try {
      const e = await rejection(p.run("runtimeExit", 4));
      assert.ok(e instanceof WorkerCrashedError, `${e.name}: ${e.message}`);
      assert.match(e.message, /task "runtimeExit" exited with code 4/);
      assert.equal(e.exitCode, 4);
      assert.equal(await p.run("add", 2, 3), 5, "a new worker runs the next call");
      assert.equal(p.stats().workers, 1);
    } finally {
      await p.destroy();
    }
  });

  // Under Node an idle tinypool thread sleeps in Atomics.wait: its timers wait for its next call.
  (runtime === "deno" ? it : skip)("thread (Deno): an uncaught error in an idle worker costs no call; the worker is replaced up to minWorkers", async () => {
    const p = pool({ kind: "thread", maxWorkers: 1, minWorkers: 1 });
    try {
      const before = (await p.run("threadInfo")).threadId;
      const flag = new Int32Array(new SharedArrayBuffer(4));
      assert.equal(await p.run("answerThenThrow", "after the answer", flag), "answered");
      // The worker sets the flag just before its timer throws; give its exit time to arrive.
      for (let i = 0; i < 500 && Atomics.load(flag, 0) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(Atomics.load(flag, 0), 1, "the timer ran");
      await new Promise((r) => setTimeout(r, 200));
      const after = (await p.run("threadInfo")).threadId;
      assert.notEqual(after, before, "the worker died and another took its place");
      assert.equal(p.stats().workers, 1);
      assert.equal(p.stats().failed, 0, "no call failed");
      assert.equal(await p.run("add", 1, 2), 3);
    } finally {
      await p.destroy();
    }
  });

  it("thread: a task that posts on parentPort fails clearly; no answer goes to the wrong call", async () => {
    const p = pool({ kind: "thread", maxWorkers: 1 });
    try {
      const a = p.run("postOnParentPort", "A", 50);
      const b = p.run("delayedEcho", "result of B", 10);
      const e = await rejection(a);
      assert.match(e.message, /parentPort|Unexpected message/);
      assert.equal(await b, "result of B");
      assert.equal(await p.run("add", 2, 2), 4);
    } finally {
      await p.destroy();
    }
  });

  it("thread: results shaped like the wire's own envelopes come back intact", async () => {
    const p = pool({ kind: "thread", maxWorkers: 1 });
    try {
      const failureLike = { loopworkError: { name: "RangeError", message: "not a failure" } };
      assert.deepEqual(await p.run("echo", failureLike), failureLike);
      const wrapped = { loopworkValue: 1, other: [2] };
      assert.deepEqual(await p.run("echo", wrapped), wrapped);
      assert.deepEqual(await p.run("echo", { loopworkValue: wrapped }), { loopworkValue: wrapped });
    } finally {
      await p.destroy();
    }
  });

  for (const kind of ["thread", "process"] as const) {
    it(`${kind}: workers idle for idleTimeoutMs stop, down to minWorkers`, async () => {
      const p = pool({ kind, maxWorkers: 2, minWorkers: 1, idleTimeoutMs: 20 });
      const dir = mkdtempSync(join(tmpdir(), "loopwork-idle-"));
      const release = join(dir, "release");
      try {
        // Both calls run until the test has seen them run at once (a loaded machine may not
        // look within any fixed time), then end together.
        const calls = Promise.all([p.run("echoWhenFileExists", 1, release), p.run("echoWhenFileExists", 2, release)]);
        calls.catch(() => {}); // (a failed check below destroys the pool under them: awaited there)
        // (A process pool first loads tinypool: its workers start a few turns after the calls.)
        await until(() => p.stats().busy === 2 && p.stats().workers === 2);
        assert.equal(p.stats().busy, 2);
        assert.equal(p.stats().workers, 2, "both calls run at once");
        writeFileSync(release, "");
        assert.deepEqual(await calls, [1, 2]);
        await until(() => p.stats().workers === 1);
        assert.equal(p.stats().workers, 1, "the worker above minWorkers stopped");
        assert.equal(await p.run("add", 1, 1), 2);
      } finally {
        await p.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }

  it("a program that never destroys its pool still exits: idle workers do not hold it, a running call does", async () => {
    const r = await runProgram(fileURLToPath(new URL("./fixtures/idle-pool-program.ts", import.meta.url)));
    assert.equal(r.code, 0, `exit code ${r.code}; output:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /thread: late answer/);
    assert.match(r.stdout, /process: late answer/);
    assert.match(r.stdout, /thread: burst of 40/);
    assert.match(r.stdout, /process: burst of 40/);
  }, 130_000);

  it("process: no worker process is left running after destroy()", async () => {
    const p = pool({ kind: "process", maxWorkers: 2, minWorkers: 2 });
    const [a, b] = await Promise.all([p.run("delayedEcho", 0, 50), p.run("threadInfo")]);
    assert.equal(a, 0);
    const pid = b.pid;
    assert.notEqual(pid, process.pid, "the call ran in another process");
    assert.ok(alive(pid));
    await p.destroy();
    assert.equal(p.stats().workers, 0);
    assert.equal(alive(pid), false, `worker process ${pid} is gone`);
  });

  it("thread: no worker thread is left after destroy(), even with minWorkers", async () => {
    const p = pool({ kind: "thread", maxWorkers: 2, minWorkers: 2 });
    await Promise.all([p.run("add", 1, 1), p.run("add", 2, 2)]);
    assert.equal(p.stats().workers, 2);
    await p.destroy();
    assert.equal(p.stats().workers, 0);
  });
});

describe("WorkerPool: parallelism", () => {
  it("two CPU-bound calls on 2 thread workers gain the parallelism raw worker threads get", async () => {
    const p = pool({ maxWorkers: 2, minWorkers: 2 });
    const raw = [new Worker(RAW_SPIN, { eval: true }), new Worker(RAW_SPIN, { eval: true })];
    const rawSpin = (w: Worker, n: number) =>
      new Promise<unknown>((resolve) => {
        w.once("message", resolve);
        w.postMessage(n);
      });
    try {
      // Warm every worker (start-up and JIT are not what is measured).
      await Promise.all([p.run("spin", 1e5), p.run("spin", 1e5), rawSpin(raw[0]!, 1e5), rawSpin(raw[1]!, 1e5)]);
      // Size the work to ~200 ms on this machine.
      const probe = await p.run("spin", 2e6);
      const perIteration = (probe.end - probe.start) / 2e6;
      const n = Math.max(2e6, Math.round(200 / Math.max(perIteration, 1e-7)));
      /** CPU time used by the whole process (all threads) per unit of wall time. */
      const cpuPerWall = async <T>(work: () => PromiseLike<T>) => {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const out = await work();
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        return { ratio: (cpu.user + cpu.system) / 1000 / wall, out };
      };
      // The machine is shared: other programs (and other test files) may take its cores. So
      // each round measures the gain of two calls over one for raw worker threads and for
      // the pool side by side; a round where raw threads gained (two cores were free) judges
      // the pool. A pool that ran its calls one at a time gains nothing in any round. Each
      // pool measurement comes right after the raw one it is compared with (one call, then
      // two), and which side goes first alternates: a change of load between the two halves
      // of a round (the other test files running beside this one) then falls on both sides
      // alike, not on the pool's half only (before, raw's two measurements both came first,
      // and a burst of load after them failed the pool, once in three runs beside two CPU hogs).
      let judged = 0;
      let passed = false;
      let best = { pool: 0, raw: 0 };
      let overlapped = false;
      for (let round = 0; round < 16; round++) {
        const poolFirst = round % 2 === 1;
        const measureOne = async () => {
          const a = await cpuPerWall(() => (poolFirst ? p.run("spin", n) : rawSpin(raw[0]!, n)));
          const b = await cpuPerWall(() => (poolFirst ? rawSpin(raw[0]!, n) : p.run("spin", n)));
          return poolFirst ? { pool: a, raw: b } : { pool: b, raw: a };
        };
        const measureTwo = async () => {
          const pool2 = () => Promise.all([p.run("spin", n), p.run("spin", n)]);
          const raw2 = () => Promise.all([rawSpin(raw[0]!, n), rawSpin(raw[1]!, n)]);
          const a = await cpuPerWall<unknown>(poolFirst ? pool2 : raw2);
          const b = await cpuPerWall<unknown>(poolFirst ? raw2 : pool2);
          return poolFirst ? { pool: a, raw: b } : { pool: b, raw: a };
        };
        const ones = await measureOne();
        const twos = await measureTwo();
        const rawOne = ones.raw;
        const rawTwo = twos.raw;
        const one = ones.pool;
        const two = twos.pool as { ratio: number; out: Awaited<ReturnType<typeof p.run<"spin">>>[] };
        const [x, y] = two.out;
        const overlap = Math.min(x.end, y.end) - Math.max(x.start, y.start);
        overlapped ||= overlap > 0.5 * Math.min(x.end - x.start, y.end - y.start);
        const rawGain = rawTwo.ratio / rawOne.ratio;
        const poolGain = two.ratio / one.ratio;
        if (poolGain > best.pool) best = { pool: poolGain, raw: rawGain };
        if (rawGain < 1.3) continue; // the cores were busy this round: no verdict
        judged++;
        if (poolGain >= 0.8 * rawGain) {
          passed = true;
          break;
        }
      }
      assert.ok(overlapped, "the two calls ran at the same time");
      // A verdict needs three rounds where raw threads gained: raw and pool are measured one
      // after the other, so in a lone such round a burst of load may land on the pool's half
      // only (seen beside two CPU hogs). On a quiet machine every round counts, and a pool
      // that ran its calls one at a time fails all sixteen.
      if (!passed && judged < 3) {
        console.log(`machine busy: raw threads gained 1.3x in only ${judged} of 16 rounds; only the overlap was judged`);
      } else {
        assert.ok(
          passed,
          `in ${judged} rounds where raw threads gained, the pool never gained 80% as much; at best two pool ` +
            `calls gained ${best.pool.toFixed(2)}× CPU per wall-second over one (raw ${best.raw.toFixed(2)}×)`,
        );
      }
    } finally {
      await p.destroy();
      await Promise.all(raw.map((w) => w.terminate()));
    }
  }, 240_000); // up to sixteen rounds of ~1 s of work each, on a machine that may be several times oversubscribed
});

describe("toThread and the default executor", () => {
  it("toThread runs a self-contained function on a worker and run() closes the default pool", async () => {
    let pool: WorkerPool | undefined;
    const out = await run(function* () {
      const task = toThread((a: number, b: number) => {
        let s = 0;
        for (let i = a; i <= b; i++) s += i;
        return s;
      }, 1, 100);
      const r = yield* task;
      pool = getRunningLoop().getDefaultExecutor() as WorkerPool;
      return r;
    });
    assert.equal(out, 5050);
    assert.ok(pool instanceof WorkerPool);
    assert.equal(pool.stats().workers, 0, "run() closed the default pool it created");
  });

  it("toThread refuses native functions and method shorthands, and needs a running loop", async () => {
    assert.throws(() => toThread(Math.max, 1, 2), /native or bound/);
    assert.throws(() => toThread(() => 1), /no running loop/);
    await run(function* () {
      const o = { m(x: number) { return x; } };
      assert.throws(() => toThread(o.m, 1), /not a function expression/);
    });
  });

  it("a toThread function that throws rejects with its error's name and message", async () => {
    await run(function* () {
      try {
        yield* toThread(() => {
          throw new RangeError("out of range in a thread");
        });
        assert.fail("expected an error");
      } catch (e) {
        assert.ok(e instanceof RangeError);
        assert.equal((e as Error).message, "out of range in a thread");
      }
    });
  });

  it("loop.runInExecutor runs a pool task by name on a given or default executor", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      const out = await run(function* () {
          const loop = getRunningLoop();
        const a = yield* loop.runInExecutor(p, "add", 1, 2);
        loop.setDefaultExecutor(p);
        const b = yield* loop.runInExecutor(null, "add", 3, 4);
        return [a, b];
      });
      assert.deepEqual(out, [3, 7]);
    } finally {
      await p.destroy();
    }
  });

  it("cancelling a runInExecutor task stops its worker call", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      await run(function* () {
        const t = getRunningLoop().runInExecutor(p, "busy", 20_000);
        yield* sleep(200);
        assert.equal(p.stats().busy, 1);
        t.cancel("enough");
        try {
          yield* t;
        } catch {
          // cancelled
        }
        assert.equal(t.cancelled(), true);
      });
      assert.equal(p.stats().busy, 0, "the worker call was stopped, not left running");
      assert.equal(await p.run("add", 1, 2), 3);
    } finally {
      await p.destroy();
    }
  });
});

describe("WorkerPool: the built package's worker entries", () => {
  // Run from dist/ by plain `node` (no tsx in the host): each backend's worker entry
  // registers tsx itself for a TypeScript task module, as the README promises; the inline
  // kind, in the program's own thread, says what to do where Node cannot import it.
  (runtime === "node" ? it : skip)("from dist/, every Node backend runs a .ts task module in its workers; inline needs the program's own TypeScript support", async () => {
    const { execFile } = await import("node:child_process");
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dist = new URL("../dist/pool.js", import.meta.url).href;
    const dir = mkdtempSync(join(tmpdir(), "loopwork-dist-"));
    writeFileSync(
      join(dir, "main.mjs"),
      `import { WorkerPool } from ${JSON.stringify(dist)};
const out = [];
for (const o of [{ kind: "thread" }, { kind: "thread", backend: "tinypool" }, { kind: "process" }, { kind: "inline" }]) {
  const p = new WorkerPool(${JSON.stringify(TASKS.href)}, { ...o, maxWorkers: 1 });
  try { out.push(await p.run("add", 2, 3)); } catch (e) { out.push(e.message); } finally { await p.destroy(); }
}
console.log(JSON.stringify(out));
`,
    );
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [join(dir, "main.mjs")], { timeout: 60_000 }, (err, out, errOut) => {
        rmSync(dir, { recursive: true, force: true });
        if (err) reject(new Error(`${err.message}\n${out}\n${errOut}`));
        else resolve(out);
      });
    });
    const [thread, tinypool, child, inline] = JSON.parse(stdout.trim()) as unknown[];
    assert.deepEqual([thread, tinypool, child], [5, 5, 5]);
    // The inline kind imports the module in the program's own thread, where loopwork adds no
    // loader: a Node that strips types runs it; Node 20 fails, saying what to do.
    if ((process.features as { typescript?: unknown }).typescript) assert.equal(inline, 5);
    else {
      assert.match(String(inline), /^cannot load the task module .*tasks\.ts: Unknown file extension ".ts".*: Node 20\.\S+ cannot import TypeScript on its own.*start the program with tsx \(node --import tsx …\), use Node 22\.18 or later, or point the pool at compiled JavaScript$/);
    }
  }, 90_000);
});
