/**
 * Issue 16, the switch between tasks: what a loop turn costs beyond the task's own step.
 * Counted, not timed: the host clock is replaced by one that advances a little at each
 * reading, so how often the loop reads it does not depend on the machine.
 */
import assert from "node:assert/strict";
import { run, yieldNow } from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/** Runs `fn` with `performance.now` counting its calls and advancing `stepMs` per call. */
async function countingClock(stepMs: number, fn: () => Promise<unknown>): Promise<number> {
  const perf = globalThis.performance;
  const real = perf.now;
  let t = real.call(perf);
  let calls = 0;
  Object.defineProperty(perf, "now", {
    configurable: true,
    writable: true,
    value: () => {
      calls++;
      return (t += stepMs);
    },
  });
  try {
    await fn();
  } finally {
    delete (perf as { now?: unknown }).now;
    if (perf.now !== real) Object.defineProperty(perf, "now", { configurable: true, writable: true, value: real });
  }
  return calls;
}

describe("the loop's reads of the host clock", () => {
  // Reading it costs 200-500 ns on Deno, where a switch between tasks costs 30-50 ns: at one
  // reading per 64 batches it was ~10% of a bare `yield`. 100k quick steps made ~1 600 readings.
  it("a run of quick steps reads the host clock about once per 256 of them", async () => {
    const steps = 100_000;
    const calls = await countingClock(0.001, () =>
      run(function* () {
        for (let i = 0; i < steps; i++) yield;
      }, virtual),
    );
    assert.ok(calls < steps / 128, `the loop read the clock ${calls} times in ${steps} steps`);
  });

  it("yield* yieldNow() reads it as seldom, and slow steps still end the time slice at once", async () => {
    const steps = 50_000;
    const quick = await countingClock(0.001, () =>
      run(function* () {
        for (let i = 0; i < steps; i++) yield* yieldNow();
      }, virtual),
    );
    assert.ok(quick < steps / 128, `the loop read the clock ${quick} times in ${steps} steps`);
    // Every reading 2 ms on: each batch is slow, so the loop reads the clock after each one.
    const slow = await countingClock(2, () =>
      run(function* () {
        for (let i = 0; i < 100; i++) yield;
      }, virtual),
    );
    assert.ok(slow >= 100, `with slow steps the loop read the clock only ${slow} times in 100 steps`);
  });
});
