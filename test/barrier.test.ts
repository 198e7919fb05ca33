import assert from "node:assert/strict";
import { Barrier, BrokenBarrierError, run, sleep, spawn, yieldNow } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Barrier", () => {
  it("bad party counts are refused with a clear error", () => {
    assert.throws(() => new Barrier(0), (e: Error) => e instanceof RangeError && /integer >= 1, got number 0/.test(e.message));
    assert.throws(() => new Barrier(2.5), RangeError);
    assert.throws(() => new Barrier("3" as never), RangeError);
  });

  it("all parties pass together when the last arrives, each with its arrival index", async () => {
    const passed: Array<[number, number]> = [];
    await run(function* () {
      const barrier = new Barrier(3);
      const tasks = [30, 10, 20].map((ms) =>
        spawn(function* () {
          yield* sleep(ms);
          const index = yield* barrier.wait();
          passed.push([ms, index]);
        }),
      );
      yield* sleep(25);
      assert.equal(barrier.nWaiting, 2);
      assert.deepEqual(passed, []);
      for (const t of tasks) yield* t;
    }, virtual);
    passed.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(passed, [[10, 0], [20, 1], [30, 2]]);
  });

  it("is cyclic: the next round starts as soon as one passes", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const rounds: number[] = [];
      const party = function* () {
        for (let r = 0; r < 3; r++) {
          yield* barrier.wait();
          rounds.push(r);
        }
      };
      const a = spawn(party);
      const b = spawn(party);
      yield* a;
      yield* b;
      assert.deepEqual(rounds, [0, 0, 1, 1, 2, 2]);
      assert.equal(barrier.nWaiting, 0);
    }, virtual);
  });

  it("abort() fails every waiter and later wait() with BrokenBarrierError until reset()", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const t = spawn(function* () {
        yield* barrier.wait();
      });
      yield* yieldNow();
      barrier.abort();
      yield* sleep(1);
      assert.ok(t.exception() instanceof BrokenBarrierError);
      assert.equal(barrier.broken, true);
      assert.throws(() => barrier.wait().result(), BrokenBarrierError);
      barrier.reset();
      assert.equal(barrier.broken, false);
      const w = barrier.wait();
      assert.equal(w.done(), false);
      barrier.reset();
      assert.throws(() => w.result(), BrokenBarrierError);
    }, virtual);
  });

  it("`using` a barrier aborts it when the block ends, failing the parties still waiting", async () => {
    await run(function* () {
      let waiting: ReturnType<Barrier["wait"]>;
      {
        using barrier = new Barrier(2);
        waiting = barrier.wait();
      }
      assert.throws(() => waiting.result(), BrokenBarrierError);
    }, virtual);
  });

  it("a party cancelled while waiting leaves the round", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const quitter = spawn(function* () {
        yield* barrier.wait();
      });
      yield* yieldNow();
      quitter.cancel();
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 0);
      const first = barrier.wait();
      assert.equal(first.done(), false, "the round still needs two live parties");
      assert.equal(yield* barrier.wait(), 1);
      assert.equal(yield* first, 0);
    }, virtual);
  });
});
