/**
 * Fault tests from a review of the issue-14 fixes: the walk that looks for values which
 * cannot cross to or from a worker (see `findUnsendable`) bounds its cost by a budget of
 * values, and what lies beyond that budget must still fail its call clearly — never hang
 * it, never kill the worker, never be reported as a crash.
 */
import assert from "node:assert/strict";
import { transfer, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { findUnsendable } from "../../src/pool/protocol.ts";
import { rejection } from "../expect.ts";
import { describe, it, runtime } from "../harness.ts";
import { paddedDeep } from "../fixtures/hostile-tasks.ts";

type Hostile = typeof import("../fixtures/hostile-tasks.ts");
const HOSTILE = new URL("../fixtures/hostile-tasks.ts", import.meta.url);

function pool(options: WorkerPoolOptions = {}): WorkerPool<Hostile> {
  return new WorkerPool<Hostile>(HOSTILE, { maxWorkers: 1, ...options });
}

/**
 * The pool's ways of running calls: `"thread"` is loopwork's own thread backend (the
 * default), `"tinypool threads"` the same kind on tinypool (the option `backend`).
 */
type Flavour = "thread" | "process" | "tinypool threads" | "inline";

function poolOf(flavour: Flavour, options: WorkerPoolOptions = {}): WorkerPool<Hostile> {
  return flavour === "tinypool threads" ? pool({ kind: "thread", backend: "tinypool", ...options }) : pool({ kind: flavour, ...options });
}

/** tinypool's threads are checked under Node, where its Atomics path runs. */
const flavours: Flavour[] = runtime === "node" ? ["thread", "process", "tinypool threads", "inline"] : ["thread", "process", "inline"];
const threadFlavours = flavours.filter((f) => f === "thread" || f === "tinypool threads");

/** Fails with a clear message if `p` has not settled after `ms` (a hang guard, not a speed check). */
function within<T>(p: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (a hang)`)), ms);
  });
  return Promise.race([Promise.resolve(p), guard]).finally(() => clearTimeout(timer));
}

describe("faults (review): the walk for unsendable values", () => {
  it("reads no more of a huge array or object than its budget (a getter counts the reads)", () => {
    for (const shape of ["array", "object"] as const) {
      let reads = 0;
      const o: Record<string, unknown> | unknown[] = shape === "array" ? new Array<unknown>(100_000) : {};
      for (let i = 0; i < 100_000; i++) {
        Object.defineProperty(o, shape === "array" ? i : `k${i}`, {
          get: () => (reads++, {}),
          enumerable: true,
        });
      }
      assert.equal(findUnsendable(o, { left: 100 }), undefined);
      assert.ok(reads <= 100, `${shape}: ${reads} elements read for a budget of 100`);
    }
  });

  it("says when it left values unchecked (budget.left < 0), however they were left out", () => {
    const wide = Array.from({ length: 1_000 }, () => ({}));
    for (const v of [wide, new Set(wide), new Map(wide.map((x, i) => [i, x])), Object.fromEntries(wide.map((x, i) => [`k${i}`, x]))]) {
      const budget = { left: 100 };
      assert.equal(findUnsendable(v, budget), undefined);
      assert.ok(budget.left < 0, `${v.constructor.name}: left ${budget.left}`);
    }
    const all = { left: 2_000 };
    assert.equal(findUnsendable(wide, all), undefined);
    assert.ok(all.left >= 0, "a walk that saw everything leaves budget >= 0");
  });

  it("still finds a culprit within the budget, in order, after the change that bounds it", () => {
    const v = [{ a: 1 }, { b: [2, 3] }, { c: () => 0 }];
    assert.match(findUnsendable(v, { left: 100 }, "it") ?? "", /^\[2\]\.c cannot be cloned \(it is a function\)/);
    const m = new Map<unknown, unknown>([["x", 1], ["y", Symbol("s")]]);
    assert.match(findUnsendable(m, { left: 100 }, "it") ?? "", /get\(y\) cannot be cloned \(it is a symbol\)/);
  });
});

describe("faults (review): too deep beyond the walk's budget", () => {
  for (const kind of ["thread", "process"] as const) {
    it(`${kind}: a result nested too deeply behind 100 001 objects fails its call clearly; the worker is reused`, async () => {
      const p = pool({ kind });
      try {
        const who = await p.run("whoAmI");
        // 10 000 levels: more than a host's main thread can receive, less than a worker thread can send.
        const e = await within(rejection(p.run("paddedDeep", 100_001, 10_000)), 60_000, "paddedDeep");
        assert.ok(!(e instanceof WorkerCrashedError), `not a crash: ${e.message}`);
        assert.match(e.message, /paddedDeep/);
        assert.match(e.message, /Maximum call stack size exceeded|nested too deeply/);
        assert.equal(await within(p.run("whoAmI"), 60_000, "whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }
});

describe("faults (review): arguments beyond the walk's budget", () => {
  for (const flavour of flavours) {
    it(`${flavour}: an argument nested too deeply behind 10 001 objects fails its call clearly, naming it; the worker is reused`, async () => {
      const p = poolOf(flavour);
      try {
        const who = await p.run("whoAmI");
        // 20 000 levels: more than any thread's stack can encode.
        const arg = paddedDeep(10_001, 20_000);
        const e = await within(rejection(p.run("lastDepth", arg)), 60_000, "lastDepth");
        assert.ok(!(e instanceof WorkerCrashedError), `not a crash: ${e.message}`);
        assert.ok(e instanceof TypeError, `a TypeError: ${e.name}: ${e.message}`);
        assert.match(e.message, /lastDepth/);
        assert.match(e.message, /argument 0/);
        assert.match(e.message, /cannot be sent to a worker/);
        assert.equal(await within(p.run("whoAmI"), 60_000, "whoAmI"), who, "the same worker answers");
        assert.deepEqual(await p.run("lastDepth", paddedDeep(10_001, 10)), [10_002, 10], "a large argument still crosses");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }

  for (const flavour of flavours) {
    it(`${flavour}: an argument 2 000 levels deep behind 10 001 objects, which the host can encode, crosses (on Node processes it killed the host)`, async () => {
      const p = poolOf(flavour);
      try {
        assert.deepEqual(await within(p.run("lastDepth", paddedDeep(10_001, 2_000)), 60_000, "lastDepth"), [10_002, 2_000]);
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }

  // Deno's worker threads do not take stackSizeMb; Node's do.
  for (const flavour of runtime === "node" ? threadFlavours : []) {
    it(`${flavour}: an argument the host can send but the worker's small stack cannot read fails its call; the worker stays and is reused`, async () => {
      const p = poolOf(flavour, { resourceLimits: { stackSizeMb: 0.5 } });
      try {
        const who = await p.run("whoAmI");
        const e = await within(rejection(p.run("lastDepth", paddedDeep(10_001, 2_000))), 60_000, "lastDepth");
        assert.ok(!(e instanceof WorkerCrashedError), `not a crash: ${e.message}`);
        assert.match(e.message, /lastDepth/);
        assert.match(e.message, /arguments .*could not be read/);
        assert.equal(await within(p.run("whoAmI"), 60_000, "whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }

  for (const flavour of flavours) {
    it(`${flavour}: a large argument keeps transfer(): the buffer moves (threads) and arrives whole`, async () => {
      const p = poolOf(flavour);
      try {
        const bytes = new Uint8Array(8).fill(7);
        const pad = paddedDeep(10_001, 1);
        assert.deepEqual(await within(p.run("countAndSum", pad, transfer(bytes)), 60_000, "countAndSum"), [10_002, 56]);
        // Moved (threads) as a small argument is; copied otherwise.
        assert.equal(bytes.byteLength, flavour === "thread" || flavour === "tinypool threads" ? 0 : 8);
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }

  for (const flavour of flavours.filter((f) => f !== "process")) {
    it(`${flavour}: a typed array on a SharedArrayBuffer behind 10 001 objects stays shared`, async () => {
      const p = poolOf(flavour);
      try {
        const sab = new SharedArrayBuffer(4);
        const arg = [...paddedDeep(10_001, 1).slice(0, -1), new Int32Array(sab)];
        assert.equal(await within(p.run("storeInLast", arg, 42), 60_000, "storeInLast"), 10_002);
        assert.equal(new Int32Array(sab)[0], 42, "the worker wrote into the host's memory");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }
});

describe("faults (review): large results that share or move memory", () => {
  for (const flavour of threadFlavours) {
    it(`${flavour}: a typed array on a SharedArrayBuffer behind 100 001 objects comes back shared`, async () => {
      const p = poolOf(flavour);
      try {
        const sab = new SharedArrayBuffer(4);
        const r = await within(p.run("paddedView", 100_001, sab), 60_000, "paddedView");
        const view = r[r.length - 1] as Int32Array;
        assert.ok(view.buffer instanceof SharedArrayBuffer, `a view on shared memory, not ${view.buffer.constructor.name}`);
        view[0] = 42;
        assert.equal(new Int32Array(sab)[0], 42, "the result shares the host's memory");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }

  for (const flavour of threadFlavours) {
    it(`${flavour}: a bare SharedArrayBuffer behind 100 001 objects comes back shared (it failed the call)`, async () => {
      const p = poolOf(flavour);
      try {
        const sab = new SharedArrayBuffer(4);
        const r = await within(p.run("paddedShared", 100_001, sab), 60_000, "paddedShared");
        const back = r[r.length - 1] as SharedArrayBuffer;
        assert.ok(back instanceof SharedArrayBuffer);
        new Int32Array(back)[0] = 42;
        assert.equal(new Int32Array(sab)[0], 42, "the result shares the host's memory");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }

  for (const flavour of flavours.filter((f) => f !== "inline")) {
    it(`${flavour}: a batch result too deep behind 100 001 items, one of them moved with transfer(), fails its call clearly`, async () => {
      const p = poolOf(flavour);
      try {
        const who = await p.run("whoAmI");
        const items = [-1, ...new Array<number>(100_001).fill(0), 10_000];
        const e = await within(rejection(p._runBatch("batchPiece", items)), 60_000, "batchPiece");
        assert.ok(!(e instanceof WorkerCrashedError), `not a crash: ${e.message}`);
        assert.match(e.message, /batchPiece/);
        assert.match(e.message, /Maximum call stack size exceeded|nested too deeply/);
        assert.equal(await within(p.run("whoAmI"), 60_000, "whoAmI"), who, "the same worker answers");
        const ok = (await within(p._runBatch("batchPiece", items.slice(0, -1)), 60_000, "batchPiece")) as unknown[];
        assert.equal(ok.length, 100_002);
        assert.deepEqual([...(ok[0] as Uint8Array)], [7, 7, 7, 7, 7, 7, 7, 7], "the moved buffer arrives whole");
      } finally {
        await p.destroy();
      }
    }, 120_000);
  }
});
