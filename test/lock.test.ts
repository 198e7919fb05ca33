import assert from "node:assert/strict";
import { CancelledError, InvalidStateError, Lock, run, sleep, spawn, until, yieldNow } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Lock", () => {
  it("acquire on a free lock resolves at once and release frees it", async () => {
    await run(function* () {
      const lock = new Lock();
      const f = lock.acquire();
      assert.equal(f.done(), true);
      assert.equal(lock.locked(), true);
      yield* f;
      lock.release();
      assert.equal(lock.locked(), false);
    }, virtual);
  });

  it("release of an unheld lock throws InvalidStateError naming the problem", () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), (e: Error) => e instanceof InvalidStateError && /not held/.test(e.message));
  });

  it("waiters get the lock in the order they asked for it", async () => {
    const order: string[] = [];
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const tasks = ["a", "b", "c", "d"].map((name, i) =>
        spawn(function* () {
          yield* sleep(i); // ask in a known order
          yield* lock.acquire();
          order.push(name);
          yield* sleep(5);
          lock.release();
        }),
      );
      yield* sleep(10);
      lock.release();
      for (const t of tasks) yield* t;
      assert.equal(lock.locked(), false);
    }, virtual);
    assert.deepEqual(order, ["a", "b", "c", "d"]);
  });

  it("a newcomer never jumps the queue: release hands the lock to the first waiter", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const waiter = lock.acquire();
      lock.release();
      assert.equal(waiter.done(), true, "the waiter was granted the lock");
      assert.equal(lock.locked(), true);
      const newcomer = lock.acquire();
      assert.equal(newcomer.done(), false);
      yield* waiter;
      lock.release();
      assert.equal(newcomer.done(), true);
      yield* newcomer;
      lock.release();
    }, virtual);
  });

  it("a waiter cancelled while waiting leaves the queue and the next one gets the lock", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const b = spawn(function* () {
        yield* lock.acquire();
        lock.release();
        return "b";
      });
      const c = spawn(function* () {
        yield* lock.acquire();
        lock.release();
        return "c";
      });
      yield* yieldNow();
      b.cancel();
      yield* yieldNow();
      assert.equal(lock._waiters.size, 1);
      lock.release();
      assert.equal(yield* c, "c");
      assert.equal(b.cancelled(), true);
      assert.equal(lock.locked(), false);
    }, virtual);
  });

  it("a waiter woken then cancelled before it runs passes the lock on", async () => {
    const got: string[] = [];
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const b = spawn(function* () {
        yield* lock.acquire();
        got.push("b");
        lock.release();
      });
      const c = spawn(function* () {
        yield* lock.acquire();
        got.push("c");
        lock.release();
      });
      yield* yieldNow();
      lock.release(); // b is granted the lock and woken...
      b.cancel(); // ...and cancelled before it runs
      yield* c;
      assert.equal(b.cancelled(), true);
      assert.equal(lock.locked(), false, "the lock did not leak");
    }, virtual);
    assert.deepEqual(got, ["c"]);
  });

  it("withLock releases the lock on return, throw and cancellation", async () => {
    await run(function* () {
      const lock = new Lock();
      assert.equal(yield* lock.withLock(function* () {
        assert.equal(lock.locked(), true);
        yield* sleep(1);
        return 5;
      }), 5);
      assert.equal(lock.locked(), false);

      const failing = spawn(function* () {
        yield* lock.withLock(function* () {
          yield* sleep(1);
          throw new RangeError("inside");
        });
      });
      yield* sleep(5);
      assert.ok(failing.exception() instanceof RangeError);
      assert.equal(lock.locked(), false);

      const slow = spawn(function* () {
        yield* lock.withLock(function* () {
          yield* sleep(1_000);
        });
      });
      yield* sleep(5);
      assert.equal(lock.locked(), true);
      slow.cancel();
      yield* sleep(0);
      yield* sleep(0);
      assert.equal(slow.cancelled(), true);
      assert.equal(lock.locked(), false);
    }, virtual);
  });

  it("withLock with an async body releases when the body rejects", async () => {
    await run(async () => {
      const lock = new Lock();
      assert.equal(await lock.withLock(async () => {
        await sleep(1);
        return "ok";
      }), "ok");
      await assert.rejects(async () => await lock.withLock(async () => {
        await sleep(1);
        throw new Error("boom");
      }), /boom/);
      assert.equal(lock.locked(), false);
    }, virtual);
  });

  it("withLock takes any body: a function returning a coroutine, a promise or a value, yield*-ed or awaited", async () => {
    function* child(n: number) {
      yield* sleep(1);
      return n * 2;
    }
    await run(function* () {
      const lock = new Lock();
      assert.equal(yield* lock.withLock(() => child(1)), 2);
      assert.equal(yield* lock.withLock(() => Promise.resolve("p")), "p");
      assert.equal(yield* lock.withLock(() => 7), 7);
      const inner = new Lock();
      assert.equal(yield* lock.withLock(() => inner.withLock(() => child(2))), 4, "nested scopes");
      assert.equal(inner.locked() || lock.locked(), false);
      assert.equal(yield* until(lock.withLock(() => child(5))), 10, "awaited: the coroutine ran as a task");
      const lazy = lock.withLock(() => 1);
      assert.equal(lock.locked(), false, "nothing is acquired until the scope is used");
      assert.equal(yield* lazy, 1);
      assert.equal(lock.locked(), false);
      assert.throws(() => lock.withLock(5 as never), TypeError);
    }, virtual);
  });

  it("`using` the acquired handle releases the lock when the block ends", async () => {
    await run(function* () {
      const lock = new Lock();
      {
        using _held = yield* lock.acquire();
        assert.equal(lock.locked(), true);
      }
      assert.equal(lock.locked(), false);
    }, virtual);
  });

  it("an aborted signal withdraws a waiting acquire, which rejects with the reason", async () => {
    await run(async () => {
      const lock = new Lock();
      await lock.acquire();
      const ac = new AbortController();
      const waiting = lock.acquire({ signal: ac.signal });
      setTimeout(() => ac.abort(new Error("gave up")), 1);
      await assert.rejects(async () => await waiting, /gave up/);
      assert.equal(lock._waiters.size, 0);
      lock.release();
      assert.equal(lock.locked(), false);
      const pre = new AbortController();
      pre.abort(new CancelledError("early"));
      const f = lock.acquire({ signal: pre.signal });
      assert.equal(f.cancelled(), true);
      assert.equal(lock.locked(), false);
    }, virtual);
  });

  it("a bad signal option is refused before anything changes", () => {
    const lock = new Lock();
    lock._locked = true;
    assert.throws(() => lock.acquire({ signal: {} as AbortSignal }), (e: Error) => e instanceof TypeError && /: signal must be an AbortSignal, got Object object/.test(e.message));
    assert.throws(() => lock.acquire(5 as never), TypeError);
    assert.equal(lock._waiters.size, 0);
  });

  it("works from plain async code outside any loop", async () => {
    const lock = new Lock();
    await lock.acquire();
    const second = lock.acquire();
    setTimeout(() => lock.release(), 1);
    await second;
    assert.equal(lock.locked(), true);
    lock.release();
  });
});
