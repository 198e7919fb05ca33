import assert from "node:assert/strict";
import { BoundedSemaphore, InvalidStateError, run, Semaphore, sleep, spawn, yieldNow } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Semaphore", () => {
  it("bad values are refused with a clear error", () => {
    assert.throws(() => new Semaphore(-1), (e: Error) => e instanceof RangeError && /integer >= 0, got -1/.test(e.message));
    assert.throws(() => new Semaphore(1.5), RangeError);
    assert.throws(() => new Semaphore("2" as never), (e: Error) => e instanceof TypeError && /string "2"/.test(e.message));
    assert.throws(() => new BoundedSemaphore(-3), RangeError);
    assert.equal(new Semaphore().value, 1);
    assert.equal(new Semaphore(0).locked(), true);
  });

  it("never lets more than `value` holders in at once", async () => {
    let running = 0;
    let peak = 0;
    await run(function* () {
      const sem = new Semaphore(3);
      const tasks = Array.from({ length: 10 }, (_, i) =>
        spawn(function* () {
          yield* sem.withPermit(function* () {
            peak = Math.max(peak, ++running);
            yield* sleep(10 + (i % 3));
            running--;
          });
        }),
      );
      for (const t of tasks) yield* t;
      assert.equal(sem.value, 3);
    }, virtual);
    assert.equal(peak, 3);
  });

  it("waiters get permits in FIFO order", async () => {
    const order: number[] = [];
    await run(function* () {
      const sem = new Semaphore(0);
      const tasks = [0, 1, 2, 3].map((i) =>
        spawn(function* () {
          yield* sleep(i);
          yield* sem.acquire();
          order.push(i);
        }),
      );
      yield* sleep(10);
      for (let i = 0; i < 4; i++) sem.release();
      for (const t of tasks) yield* t;
    }, virtual);
    assert.deepEqual(order, [0, 1, 2, 3]);
  });

  it("a waiter woken then cancelled before it runs passes its permit on", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const b = spawn(function* () {
        yield* sem.acquire();
        return "b";
      });
      const c = spawn(function* () {
        yield* sem.acquire();
        return "c";
      });
      yield* yieldNow();
      sem.release(); // granted to b, which is woken...
      b.cancel(); // ...and cancelled before it runs
      assert.equal(yield* c, "c");
      assert.equal(b.cancelled(), true);
      assert.equal(sem.value, 0, "c holds the only permit");
      sem.release();
      assert.equal(sem.value, 1);
    }, virtual);
  });

  it("a waiter cancelled while waiting takes no permit", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      yield* sem.acquire();
      const waiter = spawn(function* () {
        yield* sem.acquire();
      });
      yield* yieldNow();
      waiter.cancel();
      yield* yieldNow();
      assert.equal(waiter.cancelled(), true);
      sem.release();
      assert.equal(sem.value, 1);
      assert.equal(sem.locked(), false);
    }, virtual);
  });

  it("withPermit releases on throw, and an async body works too", async () => {
    await run(async () => {
      const sem = new Semaphore(1);
      await assert.rejects(async () => await sem.withPermit(async () => {
        throw new Error("boom");
      }), /boom/);
      assert.equal(sem.value, 1);
      assert.equal(await sem.withPermit(async () => sem.value), 0);
      assert.equal(sem.value, 1);
    }, virtual);
  });

  it("`using` a permit gives it back when the block ends", async () => {
    await run(function* () {
      const sem = new Semaphore(2);
      {
        using _p = yield* sem.acquire();
        assert.equal(sem.value, 1);
      }
      assert.equal(sem.value, 2);
    }, virtual);
  });

  it("BoundedSemaphore refuses a release beyond its initial value", async () => {
    await run(function* () {
      const sem = new BoundedSemaphore(2);
      assert.throws(() => sem.release(), (e: Error) => e instanceof InvalidStateError && /released too many times/.test(e.message));
      yield* sem.acquire();
      sem.release();
      assert.equal(sem.value, 2);
      assert.throws(() => sem.release(), InvalidStateError);
    }, virtual);
  });
});
