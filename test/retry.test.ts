import assert from "node:assert/strict";
import { CancelledError, getRunningLoop, retry, RetryError, run, sleep, spawn } from "../mod.ts";
import { backoff } from "../src/std/retry.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("retry", () => {
  it("retries with exponential backoff on the loop's clock until the first success", async () => {
    const at: number[] = [];
    const value = await run(() => {
      const loop = getRunningLoop();
      return retry(async ({ attempt }) => {
        at.push(loop.time());
        if (attempt < 4) throw new Error(`fail ${attempt}`);
        return "ok";
      }, { minTimeout: 100, multiplier: 2, jitter: 0 });
    }, virtual);
    assert.equal(value, "ok");
    assert.deepEqual(at, [0, 100, 300, 700]);
  });

  it("backoff is capped by maxTimeout and jitter draws below it", () => {
    const o = { multiplier: 3, minTimeout: 100, maxTimeout: 500, jitter: 0 };
    assert.deepEqual([0, 1, 2, 3].map((a) => backoff(a, o)), [100, 300, 500, 500]);
    assert.equal(backoff(1, { ...o, jitter: 1 }, () => 0.5), 150);
    assert.equal(backoff(1, { ...o, jitter: 0.5 }, () => 1), 150);
  });

  it("rejects with RetryError carrying the last failure after maxAttempts", async () => {
    let calls = 0;
    await run(async () => {
      await assert.rejects(
        async () => await retry(() => {
          calls++;
          throw new Error(`boom ${calls}`);
        }, { maxAttempts: 3, minTimeout: 10 }),
        (e: unknown) => e instanceof RetryError && e.attempts === 3 && (e.cause as Error).message === "boom 3" && e.name === "RetryError",
      );
    }, virtual);
    assert.equal(calls, 3);
  });

  it("a failure isRetriable refuses is rethrown at once", async () => {
    let calls = 0;
    await run(async () => {
      await assert.rejects(async () => await retry(async () => {
        calls++;
        throw new TypeError("fatal");
      }, { isRetriable: (e) => !(e instanceof TypeError) }), TypeError);
    }, virtual);
    assert.equal(calls, 1);
  });

  it("a generator attempt runs as a task inside the loop", async () => {
    const v = await run(function* () {
      let n = 0;
      return yield* retry(function* () {
        yield* sleep(5);
        if (++n < 2) throw new Error("again");
        return n;
      }, { minTimeout: 10 });
    }, virtual);
    assert.equal(v, 2);
  });

  it("cancelling the task waiting on it stops the backoff and aborts the attempt's signal", async () => {
    let attemptSignal: AbortSignal | undefined;
    let calls = 0;
    await run(function* () {
      const t = spawn(function* () {
        return yield* retry(async ({ signal }) => {
          calls++;
          attemptSignal = signal;
          throw new Error("flaky");
        }, { minTimeout: 1_000, jitter: 0 });
      });
      yield* sleep(500); // inside the first backoff
      t.cancel();
      yield* sleep(1);
      assert.equal(t.cancelled(), true);
      assert.equal(attemptSignal?.aborted, true);
      assert.ok(attemptSignal?.reason instanceof CancelledError);
      yield* sleep(10_000);
    }, virtual);
    assert.equal(calls, 1);
  });

  it("an aborted signal option rejects with its reason", async () => {
    await run(async () => {
      const ac = new AbortController();
      const r = retry(async () => {
        throw new Error("flaky");
      }, { signal: ac.signal, minTimeout: 1_000 });
      await sleep(10);
      ac.abort(new RangeError("user gave up"));
      await assert.rejects(async () => await r, RangeError);
    }, virtual);
  });

  it("works outside any loop with host timers", async () => {
    let n = 0;
    const v = await retry(() => (++n < 3 ? Promise.reject(new Error("x")) : Promise.resolve(n)), { minTimeout: 1, jitter: 0 });
    assert.equal(v, 3);
  });

  it("options out of range are refused with a clear error", () => {
    assert.throws(() => retry(() => 1, { maxAttempts: 0 }), (e: Error) => e instanceof RangeError && /Cannot retry as 'maxAttempts' must be a positive integer: current value is 0/.test(e.message));
    assert.throws(() => retry(() => 1, { multiplier: 0.5 }), RangeError);
    assert.throws(() => retry(() => 1, { jitter: 2 }), RangeError);
    assert.throws(() => retry(() => 1, { minTimeout: 100, maxTimeout: 10 }), RangeError);
    assert.throws(() => retry(5 as never), TypeError);
  });
});
