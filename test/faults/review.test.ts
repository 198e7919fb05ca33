/**
 * Fault tests from a review of the issue-14 fixes: the walk that looks for values which
 * cannot cross to or from a worker (see `findUnsendable`) bounds its cost by a budget of
 * values, and what lies beyond that budget must still fail its call clearly — never hang
 * it, never kill the worker, never be reported as a crash.
 */
import assert from "node:assert/strict";
import { WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { findUnsendable } from "../../src/pool/protocol.ts";
import { rejection } from "../expect.ts";
import { describe, it } from "../harness.ts";

type Hostile = typeof import("../fixtures/hostile-tasks.ts");
const HOSTILE = new URL("../fixtures/hostile-tasks.ts", import.meta.url);

function pool(options: WorkerPoolOptions = {}): WorkerPool<Hostile> {
  return new WorkerPool<Hostile>(HOSTILE, { maxWorkers: 1, ...options });
}

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
