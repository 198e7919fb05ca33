/**
 * CapacityLimiter: Trio's and AnyIO's (trio's test_sync.py: test_CapacityLimiter,
 * test_CapacityLimiter_inf, test_CapacityLimiter_change_total_tokens; AnyIO's
 * test_synchronization.py TestCapacityLimiter), on the grant machinery of Lock/Semaphore.
 */
import assert from "node:assert/strict";
import {
  CancelledError,
  CapacityLimiter,
  type Coroutine,
  type Held,
  InvalidStateError,
  run,
  sleep,
  spawn,
  type Task,
  yieldNow,
} from "../mod.ts";
import { catching } from "./expect.ts";
import { describe, it } from "./harness.ts";

const virtual = <T>(main: () => Coroutine<T> | Promise<T>): Promise<T> =>
  run(main as () => Coroutine<T>, { clock: "virtual" });

describe("CapacityLimiter", () => {
  it("test_CapacityLimiter: tokens are lent to tasks, a task may not borrow twice, only the borrower releases", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(2);
      assert.equal(c.totalTokens, 2);
      assert.equal(c.borrowedTokens, 0);
      assert.equal(c.availableTokens, 2);
      yield* c.acquire();
      assert.equal(c.borrowedTokens, 1);
      assert.equal(c.availableTokens, 1);
      assert.throws(() => c.acquire(), InvalidStateError, "the same task borrows twice");
      assert.throws(() => c.tryAcquire(), InvalidStateError);
      const other = spawn(function* () {
        assert.throws(() => c.release(), /holds no token/);
      });
      yield* other;
      c.release();
      assert.equal(c.borrowedTokens, 0);
      assert.throws(() => c.release(), InvalidStateError);

      c.acquireOnBehalfOf("value 1");
      c.acquireOnBehalfOf("value 2");
      assert.ok(c.tryAcquireOnBehalfOf("value 3") === false);
      const t = spawn(function* () {
        yield* c.acquireOnBehalfOf("value 3");
      });
      yield* yieldNow();
      assert.deepEqual(c.statistics(), {
        borrowedTokens: 2,
        totalTokens: 2,
        borrowers: ["value 1", "value 2"],
        tasksWaiting: 1,
      });
      c.releaseOnBehalfOf("value 1");
      yield* t; // the token went straight to the waiter
      assert.deepEqual(c.statistics().borrowers, ["value 2", "value 3"]);
      assert.equal(String(c), "CapacityLimiter<borrowed: 2/2, waiters: 0>");
      c.releaseOnBehalfOf("value 2");
      c.releaseOnBehalfOf("value 3");
      assert.equal(c.availableTokens, 2);
    });
  });

  it("at most totalTokens borrowers at once, served in FIFO order", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(2);
      const order: number[] = [];
      let running = 0, peak = 0;
      const job = function* (n: number): Coroutine<void> {
        using _token = yield* c.acquire();
        order.push(n);
        peak = Math.max(peak, ++running);
        yield* sleep(10);
        running--;
      };
      const tasks = [0, 1, 2, 3, 4, 5].map((n) => spawn(job(n)));
      for (const t of tasks) yield* t;
      assert.equal(peak, 2);
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
      assert.equal(c.borrowedTokens, 0);
    });
  });

  it("test_CapacityLimiter_change_total_tokens: raising totalTokens wakes waiters, lowering takes nothing back", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(2);
      assert.throws(() => { c.totalTokens = 0; }, RangeError);
      assert.throws(() => { c.totalTokens = 1.5; }, RangeError);
      assert.throws(() => { c.totalTokens = "2" as unknown as number; }, TypeError);
      c.acquireOnBehalfOf("a");
      c.acquireOnBehalfOf("b");
      const waiters: Task<Held>[] = ["c", "d", "e"].map((b) => spawn(() => c.acquireOnBehalfOf(b)));
      yield* yieldNow();
      assert.equal(c.statistics().tasksWaiting, 3);
      c.totalTokens = 4;
      assert.equal(c.borrowedTokens, 4);
      assert.deepEqual(c.statistics().borrowers, ["a", "b", "c", "d"]);
      c.totalTokens = 1;
      assert.equal(c.borrowedTokens, 4, "lowering takes no token back");
      assert.equal(c.availableTokens, 0);
      for (const b of ["a", "b", "c"]) c.releaseOnBehalfOf(b);
      assert.equal(c.statistics().tasksWaiting, 1, "still over the new limit");
      c.releaseOnBehalfOf("d");
      yield* waiters[2]!;
      assert.deepEqual(c.statistics().borrowers, ["e"]);
    });
  });

  it("test_CapacityLimiter_inf: an infinite limiter never makes anyone wait", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(Infinity);
      for (let i = 0; i < 100; i++) assert.ok(c.tryAcquireOnBehalfOf(i));
      assert.equal(c.availableTokens, Infinity);
      assert.throws(() => new CapacityLimiter(0), RangeError);
    });
  });

  it("tryAcquire never overtakes a waiter", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(1);
      c.acquireOnBehalfOf("holder");
      const w = spawn(() => c.acquireOnBehalfOf("waiter"));
      yield* yieldNow();
      assert.equal(c.tryAcquire(), false);
      c.releaseOnBehalfOf("holder");
      assert.equal(c.tryAcquire(), false, "the freed token went to the waiter");
      yield* w;
    });
  });

  it("a waiter woken with a token then cancelled before it runs hands the token on (no leak)", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(1);
      yield* c.acquire();
      const got: string[] = [];
      const a = spawn(function* () {
        yield* c.acquire();
        got.push("a");
      });
      const b = spawn(function* () {
        yield* c.acquire();
        got.push("b");
        c.release();
      });
      yield* yieldNow();
      c.release(); // the token goes to a...
      a.cancel(); // ...which is cancelled before it runs
      const e = yield* catching(a);
      assert.ok(e instanceof CancelledError);
      yield* b;
      assert.deepEqual(got, ["b"]);
      assert.equal(c.borrowedTokens, 0);
      assert.equal(c.statistics().tasksWaiting, 0);
    });
  });

  it("a waiter cancelled while it waits leaves the queue; an aborted signal withdraws an async wait", async () => {
    await virtual(async () => {
      const c = new CapacityLimiter(1);
      c.acquireOnBehalfOf("holder");
      const ac = new AbortController();
      const f = c.acquireOnBehalfOf("async", { signal: ac.signal });
      assert.equal(c.statistics().tasksWaiting, 1);
      ac.abort(new Error("stop"));
      await assert.rejects(Promise.resolve(f), /stop/);
      assert.equal(c.statistics().tasksWaiting, 0);
      c.releaseOnBehalfOf("holder");
      assert.equal(c.availableTokens, 1);
    });
  });

  it("withToken holds a token for the body on every exit path, for generator and async bodies", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(1);
      const r = yield* c.withToken(function* () {
        assert.equal(c.borrowedTokens, 1);
        yield* sleep(1);
        return 7;
      });
      assert.equal(r, 7);
      assert.equal(c.borrowedTokens, 0);
      const e = yield* catching(spawn(() =>
        c.withToken(async () => {
          assert.equal(c.borrowedTokens, 1);
          throw new Error("boom");
        })
      ));
      assert.match(String(e), /boom/);
      assert.equal(c.borrowedTokens, 0);
    });
  });

  it("async code releases with the handle acquire() gave; a bare release() after an await says why it cannot", async () => {
    await virtual(function* () {
      const c = new CapacityLimiter(1);
      const t = spawn(async () => {
        const held = await c.acquire(); // called before the first await: the task borrows
        await sleep(1);
        assert.throws(() => c.release(), /no current task/);
        held.release();
      });
      yield* t;
      assert.equal(c.borrowedTokens, 0);
    });
  });
});
