import assert from "node:assert/strict";
import { debounce, getRunningLoop, run, sleep, throttle } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("debounce", () => {
  it("calls once with the latest arguments after `wait` ms of quiet on the loop's clock", async () => {
    const calls: Array<[string, number]> = [];
    await run(function* () {
      const loop = getRunningLoop();
      const f = debounce((s: string) => calls.push([s, loop.time()]), 100);
      f("a");
      yield* sleep(50);
      f("b");
      assert.equal(f.pending, true);
      yield* sleep(50);
      f("c");
      yield* sleep(200);
      assert.equal(f.pending, false);
    }, virtual);
    assert.deepEqual(calls, [["c", 200]]);
  });

  it("clear() drops the pending call and flush() runs it now", async () => {
    const calls: string[] = [];
    await run(function* () {
      const f = debounce((s: string) => calls.push(s), 100);
      f("dropped");
      f.clear();
      f("flushed");
      f.flush();
      assert.equal(f.pending, false);
      yield* sleep(200);
    }, virtual);
    assert.deepEqual(calls, ["flushed"]);
  });

  it("an aborted signal drops the pending call and ignores later calls", async () => {
    const calls: string[] = [];
    await run(function* () {
      const ac = new AbortController();
      const f = debounce((s: string) => calls.push(s), 100, { signal: ac.signal });
      f("x");
      ac.abort();
      f("y");
      yield* sleep(200);
    }, virtual);
    assert.deepEqual(calls, []);
  });

  it("bad wait is refused", () => {
    assert.throws(() => debounce(() => {}, -5), RangeError);
    assert.throws(() => debounce(null as never, 5), TypeError);
  });
});

describe("throttle", () => {
  it("runs at most once per timeframe; with ensureLastCall the last call runs timeframe ms after it", async () => {
    const seen: Array<[number, number]> = [];
    await run(function* () {
      const loop = getRunningLoop();
      const f = throttle((y: number) => seen.push([y, loop.time()]), 100, { ensureLastCall: true });
      for (let y = 0; y < 10; y++) {
        f(y);
        yield* sleep(30);
      }
      yield* sleep(200);
    }, virtual);
    // Calls at 0, 30, ..., 270: 0 runs, 4 at 120 (100 ms passed), 8 at 240, and the last, 9, at 370.
    assert.deepEqual(seen, [[0, 0], [4, 120], [8, 240], [9, 370]]);
  });

  it("without ensureLastCall, calls while throttling are dropped", async () => {
    const seen: number[] = [];
    await run(function* () {
      const f = throttle((y: number) => seen.push(y), 100);
      for (let y = 0; y < 5; y++) {
        f(y);
        yield* sleep(30);
      }
      assert.equal(f.throttling, true);
      assert.equal(f.lastExecution, 120);
      yield* sleep(200);
      assert.equal(f.throttling, false);
      f.clear();
      assert.equal(f.lastExecution, -Infinity);
    }, virtual);
    assert.deepEqual(seen, [0, 4]);
  });

  it("stays throttled while a returned promise is pending", async () => {
    const seen: number[] = [];
    await run(async () => {
      const f = throttle(async (x: number) => {
        seen.push(x);
        await sleep(500);
      }, 10);
      f(1);
      await sleep(100);
      f(2);
      assert.deepEqual(seen, [1]);
      await sleep(500);
      f(3);
      assert.deepEqual(seen, [1, 3]);
      await sleep(600);
    }, virtual);
  });

  it("a timeframe function gets the previous execution's duration", async () => {
    const durations: number[] = [];
    await run(async () => {
      const f = throttle(async () => {
        await sleep(40);
      }, (d) => {
        durations.push(d);
        return d * 2;
      });
      f();
      await sleep(50);
      assert.equal(f.throttling, true, "throttled for 80 ms after the 40 ms run");
      await sleep(80);
      assert.equal(f.throttling, false);
    }, virtual);
    assert.deepEqual(durations, [40]);
  });
});
