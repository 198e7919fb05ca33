/**
 * Fault tests from a hostile campaign on the coroutine loop and its primitives (src/core,
 * src/structured, src/sync, src/std): user code that waits in cycles, refuses cancellation,
 * throws from where nobody expects it, or hands over values of the wrong kind. Each case must
 * end (no hang: a generous real-time guard, never a speed check), lose no value, and let no
 * rejection escape the library (a process-level trap watches every case).
 */
import assert from "node:assert/strict";
import process from "node:process";
import {
  type Coroutine,
  type ExceptionContext,
  gather,
  getRunningLoop,
  run,
  sleep,
  spawn,
  type Task,
} from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/** Generous "it did not hang" bound, in real time; never a speed check. */
const HANG_GUARD_MS = 10_000;

/**
 * Runs `main` on a virtual-clock loop with a process-level trap for unhandled rejections and
 * a real-time hang guard; resolves to main's result and what the loop's exception handler got.
 */
async function guarded<T>(main: () => Coroutine<T>): Promise<{ value: T; reported: ExceptionContext[] }> {
  const escaped: unknown[] = [];
  const trap = (e: unknown) => escaped.push(e);
  process.on("unhandledRejection", trap);
  const reported: ExceptionContext[] = [];
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    const hung = new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error(`hung: still running after ${HANG_GUARD_MS} ms of real time`)), HANG_GUARD_MS);
    });
    const value = await Promise.race([
      run(function* () {
        getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
        return yield* main();
      }, virtual),
      hung,
    ]);
    // Let late host turns deliver any rejection the run left behind.
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(escaped, [], "no rejection escapes the library");
    return { value, reported };
  } finally {
    clearTimeout(guard);
    process.off("unhandledRejection", trap);
  }
}

describe("faults (core campaign): tasks that wait on each other in a cycle", () => {
  it("cancelling one of two tasks that wait on each other ends both cancelled, without a stack overflow", async () => {
    const { value, reported } = await guarded(function* () {
      const box: { t2?: Task<unknown> } = {};
      const t1 = spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* box.t2!;
      });
      box.t2 = spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* t1;
      });
      yield* sleep(10);
      t1.cancel("stop");
      yield* sleep(10);
      return [t1.cancelled(), box.t2.cancelled()];
    });
    assert.deepEqual(value, [true, true]);
    assert.deepEqual(reported, []);
  }, 30_000);

  it("run() ends when main returns while two tasks wait on each other", async () => {
    const seen: string[] = [];
    const { value, reported } = await guarded(function* () {
      const box: { t2?: Task<unknown> } = {};
      const t1 = spawn(function* (): Coroutine<unknown> {
        try {
          yield* sleep(1);
          return yield* box.t2!;
        } finally {
          seen.push("t1 cleaned up");
        }
      });
      box.t2 = spawn(function* (): Coroutine<unknown> {
        try {
          yield* sleep(1);
          return yield* t1;
        } finally {
          seen.push("t2 cleaned up");
        }
      });
      yield* sleep(10);
      return "main done";
    });
    assert.equal(value, "main done");
    assert.deepEqual(seen.sort(), ["t1 cleaned up", "t2 cleaned up"]);
    assert.deepEqual(reported, []);
  }, 30_000);

  it("a task that gathers itself can be cancelled", async () => {
    const { value } = await guarded(function* () {
      const box: { t?: Task<unknown> } = {};
      box.t = spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* gather([box.t!]);
      });
      yield* sleep(10);
      box.t.cancel();
      yield* sleep(10);
      return box.t.cancelled();
    });
    assert.equal(value, true);
  }, 30_000);

  it("a cycle of three tasks, one through gather(), ends cancelled at run()'s shutdown", async () => {
    const { value } = await guarded(function* () {
      const ring: Task<unknown>[] = [];
      ring.push(spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* ring[1]!;
      }));
      ring.push(spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* gather([ring[2]!]);
      }));
      ring.push(spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* ring[0]!;
      }));
      yield* sleep(10);
      return ring.length;
    });
    assert.equal(value, 3);
  }, 30_000);
});
