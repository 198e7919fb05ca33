import assert from "node:assert/strict";
import {
  abortable,
  CancelledError,
  deadline,
  delay,
  getRunningLoop,
  run,
  sleep,
  spawn,
  TimeoutError,
  until,
  yieldNow,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("delay", () => {
  it("resolves after ms of the loop's clock, awaited or yield*-ed", async () => {
    const times = await run(function* () {
      const loop = getRunningLoop();
      yield* delay(1_000);
      const a = loop.time();
      yield* until(delay(60_000).then(() => "awaited"));
      return [a, loop.time()];
    }, virtual);
    assert.deepEqual(times, [1_000, 61_000]);
  });

  it("a negative or NaN delay is 0 (as @std/async and asyncio.sleep); a non-number or a bad signal is refused", async () => {
    await run(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      await delay(-1);
      await delay(Number.NaN);
      assert.equal(loop.time(), t0);
    }, virtual);
    assert.throws(() => delay("5" as never), (e: Error) => e instanceof TypeError && /ms must be a number, got/.test(e.message));
    assert.throws(() => delay(1, { signal: {} as AbortSignal }), TypeError);
  });

  it("an aborted signal rejects with its reason and removes the timer", async () => {
    await run(async () => {
      const ac = new AbortController();
      const d = delay(10_000, { signal: ac.signal });
      await sleep(5);
      ac.abort(new Error("enough"));
      await assert.rejects(async () => await d, /enough/);
      assert.equal(getRunningLoop().time(), 5, "the virtual clock never jumped to the removed timer");
      const pre = new AbortController();
      pre.abort(new Error("already"));
      await assert.rejects(async () => await delay(1, { signal: pre.signal }), /already/);
    }, virtual);
  });

  it("cancelling the task waiting on it removes its timer", async () => {
    await run(function* () {
      const t = spawn(function* () {
        yield* delay(10_000);
      });
      yield* sleep(1);
      t.cancel();
      yield* sleep(1);
      assert.equal(t.cancelled(), true);
      assert.equal(getRunningLoop().time(), 2);
    }, virtual);
  });

  it("outside a loop it runs on a host timer", async () => {
    const t0 = performance.now();
    await delay(5);
    assert.ok(performance.now() - t0 >= 4);
  });
});

describe("deadline", () => {
  it("settles as the promise does when it is in time", async () => {
    await run(async () => {
      assert.equal(await deadline(sleep(50, "v"), 100), "v");
      assert.equal(getRunningLoop().time(), 50);
    }, virtual);
  });

  it("rejects with TimeoutError once the time is up, without stopping the work", async () => {
    await run(function* () {
      const work = spawn(function* () {
        yield* sleep(500);
        return "done";
      });
      const loop = getRunningLoop();
      try {
        yield* deadline(work, 100);
        assert.fail("should time out");
      } catch (e) {
        assert.ok(e instanceof TimeoutError);
        assert.equal((e as Error).name, "TimeoutError");
        assert.equal(loop.time(), 100);
      }
      assert.equal(yield* work, "done");
    }, virtual);
  });

  it("rejects with the signal's reason when aborted first", async () => {
    await run(async () => {
      const ac = new AbortController();
      const d = deadline(sleep(1_000), 500, { signal: ac.signal });
      await sleep(10);
      ac.abort(new RangeError("aborted"));
      await assert.rejects(async () => await d, RangeError);
    }, virtual);
  });

  it("refuses what is not a promise", () => {
    assert.throws(() => deadline(5 as never, 10), TypeError);
  });
});

describe("abortable", () => {
  it("a promise: rejects with the reason when aborted, settles as the promise otherwise", async () => {
    await run(async () => {
      const ac = new AbortController();
      assert.equal(await abortable(sleep(5, 1), ac.signal), 1);
      const slow = abortable(sleep(1_000, 2), ac.signal);
      await sleep(10);
      ac.abort(new CancelledError("stop"));
      assert.equal(slow.cancelled(), true, "a CancelledError reason cancels the future");
    }, virtual);
  });

  it("an async iterable: yields until aborted, then throws the reason and closes the source", async () => {
    let closed = false;
    async function* counter() {
      try {
        for (let i = 0; ; i++) {
          await sleep(10);
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    await run(async () => {
      const ac = new AbortController();
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const x of abortable(counter(), ac.signal)) {
          seen.push(x);
          if (x === 2) ac.abort(new Error("enough"));
        }
      }, /enough/);
      assert.deepEqual(seen, [0, 1, 2]);
      await yieldNow();
      await sleep(20);
    }, virtual);
    assert.equal(closed, true);
  });
});
