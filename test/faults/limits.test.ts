/**
 * Fault tests of issue 14, items 3 and 4: large data crosses a thread pool intact and does
 * not bring the host down (Deno's worker_threads layer used to walk every byte of a typed
 * array), and a worker that runs out of memory under `resourceLimits` fails its call and is
 * replaced — or, where the runtime cannot isolate it, does what the docs say.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { transfer, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { rejection } from "../expect.ts";
import { describe, it } from "../harness.ts";
import { runProgram } from "../subprocess.ts";

type Tasks = typeof import("../fixtures/memory-tasks.ts");
const TASKS = new URL("../fixtures/memory-tasks.ts", import.meta.url);
const MB = 2 ** 20;

function pool(options: WorkerPoolOptions = {}): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(TASKS, { maxWorkers: 1, ...options });
}

/** `p`, or a failure naming `what` after `ms`: a "did not hang" guard, not a speed check. */
async function within<T>(ms: number, what: string, p: PromiseLike<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The same as the fixture's `pattern` and `digest`, on this side. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + seed) & 255;
  return out;
}
function digest(data: Uint8Array): { length: number; hash: number } {
  let hash = 0;
  for (let i = 0; i < data.length; i++) hash = (Math.imul(hash, 31) + data[i]!) | 0;
  return { length: data.length, hash };
}

// Before the fix, Deno took 20–45 s for each of these calls; now well under a second. The
// guard only tells a hang from a slow loaded machine (the 200 MB program below is the case
// that failed outright before the fix), so it is generous.
const GUARD_MS = 60_000;
const SIZE = 64 * MB;

describe("faults: large data on a thread pool", () => {
  it("a 64 MB Uint8Array result arrives intact, copied and moved with transfer()", async () => {
    const p = pool();
    try {
      const want = digest(pattern(SIZE, 1));
      const copied = await within(GUARD_MS, "a 64 MB result", p.run("pattern", SIZE, 1));
      assert.ok(copied instanceof Uint8Array);
      assert.deepEqual(digest(copied), want);
      const moved = await within(GUARD_MS, "a 64 MB moved result", p.run("patternMoved", SIZE, 1));
      assert.ok(moved instanceof Uint8Array);
      assert.deepEqual(digest(moved), want);
      const inside = await within(GUARD_MS, "a 64 MB array inside an object", p.run("wrapped", SIZE, 2));
      assert.equal(inside.label, "pattern 2");
      assert.deepEqual(digest(inside.data), digest(pattern(SIZE, 2)));
    } finally {
      await p.destroy();
    }
  }, 120_000);

  it("a 64 MB Uint8Array argument arrives intact, copied and moved with transfer()", async () => {
    const p = pool();
    try {
      const data = pattern(SIZE, 5);
      const want = digest(data);
      assert.deepEqual(await within(GUARD_MS, "a 64 MB argument", p.run("digest", data)), want);
      assert.equal(data.length, SIZE, "a copied argument stays with the caller");
      assert.deepEqual(await within(GUARD_MS, "a 64 MB moved argument", p.run("digest", transfer(data))), want);
      assert.equal(data.length, 0, "a moved argument leaves the caller");
    } finally {
      await p.destroy();
    }
  }, 120_000);

  it("a 200 MB Uint8Array result does not kill the host (a program, checked byte by byte)", async () => {
    const program = fileURLToPath(new URL("../fixtures/big-result-program.ts", import.meta.url));
    const r = await runProgram(program, ["200"]);
    assert.equal(r.code, 0, `the program failed (code ${r.code}): ${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, /^ok \d+/);
  }, 150_000);
});

describe("faults: resourceLimits", () => {
  it("bad resourceLimits fail the constructor with a message naming the problem", () => {
    const bad = (options: unknown) => () => new WorkerPool(TASKS, options as WorkerPoolOptions);
    assert.throws(bad({ resourceLimits: { maxOldGenMb: 64 } }), /unknown WorkerPool option resourceLimits\.maxOldGenMb \(known: maxOldGenerationSizeMb/);
    assert.throws(bad({ resourceLimits: { maxOldGenerationSizeMb: 0 } }), /resourceLimits\.maxOldGenerationSizeMb must be a finite number of megabytes > 0, got number 0/);
    assert.throws(bad({ resourceLimits: { stackSizeMb: -1 } }), RangeError);
    assert.throws(bad({ resourceLimits: { codeRangeSizeMb: "8" } }), /resourceLimits\.codeRangeSizeMb must be a finite number/);
    assert.throws(bad({ resourceLimits: { maxYoungGenerationSizeMb: Infinity } }), RangeError);
    assert.throws(bad({ resourceLimits: 64 }), /resourceLimits must be an object of megabytes/);
    assert.throws(bad({ resourceLimits: null }), /resourceLimits must be an object/);
    assert.throws(bad({ kind: "inline", resourceLimits: {} }), /resourceLimits is for kinds "thread" and "process", not "inline"/);
    assert.throws(
      bad({ kind: "process", resourceLimits: { stackSizeMb: 8 } }),
      /resourceLimits\.stackSizeMb is for kind "thread" only: a child process takes only maxOldGenerationSizeMb/,
    );
    // Accepted: every key on threads, the heap limit on processes.
    for (const options of [
      { resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, codeRangeSizeMb: 16, stackSizeMb: 4 } },
      { kind: "process", resourceLimits: { maxOldGenerationSizeMb: 64 } },
    ]) {
      void new WorkerPool(TASKS, options as WorkerPoolOptions).destroy();
    }
  });

  it("thread: the limits reach the worker", async () => {
    const p = pool({ resourceLimits: { maxOldGenerationSizeMb: 96, stackSizeMb: 8 } });
    try {
      const limits = (await p.run("ownLimits")) as { maxOldGenerationSizeMb?: number; stackSizeMb?: number };
      assert.equal(limits.maxOldGenerationSizeMb, 96);
      assert.equal(limits.stackSizeMb, 8);
    } finally {
      await p.destroy();
    }
  });

  it("process: the heap limit reaches the child process", async () => {
    const p = pool({ kind: "process", resourceLimits: { maxOldGenerationSizeMb: 96 } });
    try {
      // V8's limit is the old generation plus the young one: far below the default (GBs).
      const mb = await p.run("heapLimitMb");
      assert.ok(mb >= 96 && mb < 512, `heap limit ${mb} MB`);
    } finally {
      await p.destroy();
    }
  });

  it("process: a worker that runs out of memory fails its call with WorkerCrashedError naming the limit, and is replaced", async () => {
    const p = pool({ kind: "process", resourceLimits: { maxOldGenerationSizeMb: 64 } });
    try {
      assert.equal(typeof (await p.run("heapLimitMb")), "number");
      for (const which of ["the call that ran out of memory", "a second call that runs out of memory"]) {
        const e = await within(60_000, which, rejection(p.run("exhaustHeap")));
        assert.ok(e instanceof WorkerCrashedError, `${e.name}: ${e.message}`);
        assert.match(e.message, /task "exhaustHeap"/);
        assert.match(e.message, /(was killed by SIG[A-Z]+|exited with code \d+) \(it may have run out of memory: resourceLimits\.maxOldGenerationSizeMb = 64\)/);
        // A fresh worker takes the next calls.
        assert.deepEqual(await within(GUARD_MS, "the next call", p.run("digest", pattern(1000, 9))), digest(pattern(1000, 9)));
      }
    } finally {
      await p.destroy();
    }
  }, 150_000);

  /**
   * A thread's run out of memory, in a program of its own (`mode`: in the task's synchronous
   * part, or after an `await`), on `backend`: the call must fail with WorkerCrashedError naming
   * the task and the limit, and the pool carry on. V8 stops the thread at its heap limit as a
   * rule, but may abort the whole process instead (nodejs/node#47224, a few runs in a hundred
   * here under load). That abort is the documented exception, so it is retried; any other
   * outcome (a hang, another error, a pool that does not carry on) fails the test.
   */
  async function outOfMemoryOnAThread(mode: "sync" | "async", backend: "loopwork" | "tinypool" = "loopwork"): Promise<void> {
    const program = fileURLToPath(new URL("../fixtures/oom-thread-program.ts", import.meta.url));
    const task = mode === "sync" ? "exhaustHeap" : "exhaustHeapLater";
    const aborts: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await runProgram(program, [mode, backend]);
      if (r.code !== 0 && /FATAL ERROR: .*heap limit|JavaScript heap out of memory/.test(r.stderr)) {
        aborts.push(r.stderr.split("\n").find((l) => l.includes("FATAL")) ?? "");
        continue;
      }
      assert.equal(r.code, 0, `the program failed (code ${r.code}): ${r.stderr.slice(-2000)}`);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { error: { name: string; message: string } | null; next: string };
      assert.ok(out.error !== null, "the call that ran out of memory failed");
      assert.equal(out.error.name, "WorkerCrashedError", `${mode} on ${backend}: ${out.error.message}`);
      assert.match(out.error.message, new RegExp(`task "${task}"`));
      assert.match(out.error.message, /ran out of memory \(resourceLimits\.maxOldGenerationSizeMb = 64\)/);
      assert.equal(out.next, "number", "the pool carries on with a fresh worker");
      return;
    }
    assert.fail(`V8 aborted the process at the thread's heap limit ${aborts.length} times in a row: ${aborts.join("; ")}`);
  }

  it("thread: a worker that runs out of memory fails its call with WorkerCrashedError naming the limit, and is replaced", async () => {
    await outOfMemoryOnAThread("sync");
  }, 300_000);

  it("thread: running out of memory after an await fails the call with WorkerCrashedError too", async () => {
    // Under Deno the thread is not stopped then: Deno stops the task's JavaScript and, as a
    // rule, the thread carries on with no event for the host (it ends with
    // ERR_WORKER_OUT_OF_MEMORY only when the stop happens to reach its event loop); the
    // worker sees its raised heap limit and ends, whichever happened.
    await outOfMemoryOnAThread("async");
  }, 300_000);

  it("thread (tinypool backend): running out of memory, before or after an await, fails the call with WorkerCrashedError naming the limit", async () => {
    // Under Deno tinypool's thread, like the own one, may be left alive and deaf: before the
    // watch of its heap limit, both calls ended only by taskTimeoutMs.
    await outOfMemoryOnAThread("sync", "tinypool");
    await outOfMemoryOnAThread("async", "tinypool");
  }, 600_000);
});
