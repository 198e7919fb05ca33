/**
 * Fault tests for run()'s shutdown and the lag monitor's memory: work that grew faster than
 * what it handles. Each counts work (calls, samples kept), never time.
 */
import assert from "node:assert/strict";
import { type Coroutine, type ExceptionContext, Future, getRunningLoop, run, sleep, spawn, Task } from "../../mod.ts";
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
