/**
 * Fault tests for run()'s shutdown and the lag monitor's memory: work that grew faster than
 * what it handles. Each counts work (calls, samples kept), never time.
 */
import assert from "node:assert/strict";
import { type Coroutine, type ExceptionContext, Future, getRunningLoop, monitorLag, run, sleep, spawn, Task } from "../../mod.ts";
import { describe, it } from "../harness.ts";

/** Counts `Task.prototype.cancel` calls while `body` runs: the cancel requests made, passed on ones included. */
async function countingCancels<T>(body: () => Promise<T>): Promise<{ value: T; cancels: number }> {
  const proto = Task.prototype as { cancel(msg?: string): boolean };
  const original = proto.cancel;
  let cancels = 0;
  proto.cancel = function (this: Task<unknown>, msg?: string): boolean {
    cancels++;
    return original.call(this, msg);
  };
  try {
    return { value: await body(), cancels };
  } finally {
    proto.cancel = original;
  }
}

type Shape = "newest waits on oldest" | "oldest waits on newest";

/**
 * run()'s main leaves a chain of `n` tasks each waiting on the next, the last on a future
 * that never settles, and returns. What the run reports, and each task's end.
 */
async function shutDownChain(n: number, shape: Shape) {
  const tasks: Task<number>[] = [];
  const finallies: string[] = [];
  const reported: ExceptionContext[] = [];
  const value = await run(function* () {
    getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
    const never = new Future<number>();
    if (shape === "newest waits on oldest") {
      let below: Future<number> = never;
      for (let i = 0; i < n; i++) {
        const wait = below;
        const t = spawn(function* () {
          try {
            return yield* wait;
          } finally {
            finallies.push(t.name);
          }
        });
        tasks.push(t);
        below = t;
      }
    } else {
      // The head is spawned first and each level spawns the one it waits on.
      const level = function* (k: number): Coroutine<number> {
        const self = tasks[tasks.length - 1]!;
        try {
          if (k === 1) return yield* never;
          const child = spawn(level(k - 1));
          tasks.push(child);
          return yield* child;
        } finally {
          finallies.push(self.name);
        }
      };
      tasks.push(spawn(level(n)));
    }
    yield* sleep(1);
    return "main done";
  }, { clock: "virtual" });
  return { value, tasks, finallies, reported };
}

describe("faults (shutdown): run() ending with a chain of waiting tasks", () => {
  for (const shape of ["newest waits on oldest", "oldest waits on newest"] as const) {
    it(`cancels every task of the chain (${shape}) with cancel requests linear in its length, not quadratic`, async () => {
      const counts: number[] = [];
      for (const n of [1_000, 8_000]) {
        const { value: out, cancels } = await countingCancels(() => shutDownChain(n, shape));
        assert.equal(out.value, "main done");
        assert.deepEqual(out.reported, []);
        assert.equal(out.tasks.length, n);
        assert.ok(out.tasks.every((t) => t.cancelled()), "every task of the chain ends cancelled");
        assert.ok(out.tasks.every((t) => t.cancelling() >= 1), "every task received a cancel request");
        assert.equal(new Set(out.finallies).size, n, "every finally block ran, once");
        assert.equal(out.finallies.length, n);
        counts.push(cancels);
        // Before: every task's request walked down the whole chain below it, n²/2 calls.
        assert.ok(cancels <= 2 * n, `${cancels} cancel() calls for a chain of ${n}`);
      }
      assert.ok(counts[1]! <= 8 * Math.max(counts[0]!, 1) * 1.5, `cancel() calls grew from ${counts[0]} to ${counts[1]} for 8 times the tasks`);
    }, 60_000);
  }

  it("two tasks waiting on each other, with a chain waiting on them, all end cancelled at shutdown", async () => {
    const tasks: Task<unknown>[] = [];
    const reported: ExceptionContext[] = [];
    const value = await run(function* () {
      getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
      const slot: { b: Task<unknown> | null } = { b: null };
      const a: Task<unknown> = spawn(function* () {
        yield* sleep(1);
        return yield* slot.b!;
      });
      const b: Task<unknown> = spawn(function* () {
        yield* sleep(1);
        return yield* a;
      });
      slot.b = b;
      tasks.push(a, b);
      let below: Task<unknown> = b;
      for (let i = 0; i < 50; i++) {
        const wait = below;
        below = spawn(function* () {
          return yield* wait;
        });
        tasks.push(below);
      }
      yield* sleep(5);
      return "main done";
    }, { clock: "virtual" });
    assert.equal(value, "main done");
    assert.ok(tasks.every((t) => t.cancelled()));
    assert.deepEqual(reported, []);
  }, 30_000);
});

/**
 * Runs `body` with the host's timers and `performance.now()` replaced by a virtual clock that
 * `fire()` advances: it jumps to the next timer, plus `lateMs`, runs it, and returns how late
 * it fired as floating point sees it (null when no timer is set).
 */
function withVirtualHostClock<T>(body: (fire: (lateMs: number) => number | null) => T): T {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout };
  let now = 1_000;
  let next: { at: number; cb: () => void } | null = null;
  const handle = { unref() {} };
  g.setTimeout = (cb: () => void, ms: number) => {
    next = { at: now + ms, cb };
    return handle;
  };
  g.clearTimeout = () => {
    next = null;
  };
  Object.defineProperty(performance, "now", { value: () => now, configurable: true, writable: true });
  try {
    return body((lateMs) => {
      const due: { at: number; cb: () => void } | null = next;
      if (due === null) return null;
      next = null;
      now = due.at + lateMs;
      due.cb();
      return now - due.at;
    });
  } finally {
    g.setTimeout = saved.setTimeout;
    g.clearTimeout = saved.clearTimeout;
    delete (performance as unknown as Record<string, unknown>).now;
  }
}

describe("faults (shutdown): a lag monitor left running", () => {
  it("holds a bounded histogram, not every sample, over 300 000 ticks; its figures stay right", () => {
    const lagOf = (i: number) => ((i * 7_919) % 10_007) / 100 + (i % 1_000 === 0 ? 2_000 : 0); // 0 to 100 ms, and a 2 s stall now and then
    const { held, report, all } = withVirtualHostClock((fire) => {
      const monitor = monitorLag({ intervalMs: 10 }) as ReturnType<typeof monitorLag> & { _heldBuckets?(): number };
      const all: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < 300_000; i++) {
        const late = fire(lagOf(i));
        assert.ok(late !== null, "the monitor keeps ticking");
        all.push(late);
        if (i === 29_999 || i === 299_999) held.push(monitor._heldBuckets?.() ?? Infinity);
      }
      return { held, report: monitor.stop(), all };
    });
    // Before: every sample kept (an array of 300 000 numbers, and sorted at each report).
    assert.ok(held[1]! <= 6_000, `${held[1]} buckets held after 300 000 samples`);
    assert.equal(held[1], held[0], "no more held after 300 000 samples than after 30 000");
    const sorted = [...all].sort((a, b) => a - b);
    const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1]!;
    assert.equal(report.samples, 300_000);
    assert.equal(report.maxMs, sorted[sorted.length - 1]);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    assert.ok(Math.abs(report.meanMs - mean) < 1e-9 * mean, `mean ${report.meanMs} against ${mean}`);
    for (const [q, got] of [[0.5, report.p50Ms], [0.99, report.p99Ms]] as const) {
      const want = exact(q);
      assert.ok(got >= want && got <= want * (1 + 1 / 128) + 0.001, `p${q * 100} ${got} against ${want}`);
    }
    assert.ok(report.p50Ms <= report.p99Ms && report.p99Ms <= report.maxMs);
  }, 60_000);
});
