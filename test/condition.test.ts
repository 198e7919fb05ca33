import assert from "node:assert/strict";
import { CancelledError, Condition, InvalidStateError, Lock, run, sleep, spawn, yieldNow } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Condition", () => {
  it("wait, notify and notifyAll without holding the lock throw InvalidStateError", () => {
    const cond = new Condition();
    assert.throws(() => cond.wait(), (e: Error) => e instanceof InvalidStateError && /not held/.test(e.message));
    assert.throws(() => cond.notify(), InvalidStateError);
    assert.throws(() => cond.notifyAll(), InvalidStateError);
    assert.throws(() => cond.waitFor(() => true), InvalidStateError);
    assert.throws(() => new Condition({} as never), TypeError);
  });

  it("wait releases the lock and re-acquires it before returning", async () => {
    await run(function* () {
      const cond = new Condition();
      let lockedWhileWaiting: boolean | undefined;
      const waiter = spawn(function* () {
        yield* cond.acquire();
        const r = yield* cond.wait();
        const held = cond.locked();
        cond.release();
        return [r, held];
      });
      yield* sleep(1);
      lockedWhileWaiting = cond.locked();
      yield* cond.withLock(function* () {
        cond.notify();
      });
      assert.deepEqual(yield* waiter, [true, true]);
      assert.equal(lockedWhileWaiting, false);
      assert.equal(cond.locked(), false);
    }, virtual);
  });

  it("notify(n) wakes the n oldest waiters; notifyAll wakes the rest", async () => {
    const woke: number[] = [];
    await run(function* () {
      const cond = new Condition();
      const tasks = [0, 1, 2, 3].map((i) =>
        spawn(function* () {
          yield* sleep(i);
          yield* cond.withLock(function* () {
            yield* cond.wait();
            woke.push(i);
          });
        }),
      );
      yield* sleep(10);
      yield* cond.withLock(function* () {
        cond.notify(2);
      });
      yield* sleep(1);
      assert.deepEqual(woke, [0, 1]);
      yield* cond.withLock(function* () {
        cond.notifyAll();
      });
      for (const t of tasks) yield* t;
    }, virtual);
    assert.deepEqual(woke, [0, 1, 2, 3]);
  });

  it("a cancelled wait re-acquires the lock before the CancelledError arrives", async () => {
    await run(function* () {
      const cond = new Condition();
      let heldAtCancel: boolean | undefined;
      const waiter = spawn(function* () {
        yield* cond.acquire();
        try {
          yield* cond.wait();
        } catch (e) {
          heldAtCancel = e instanceof CancelledError && cond.locked();
          throw e;
        } finally {
          cond.release();
        }
      });
      yield* sleep(1);
      // Hold the lock so the cancelled waiter must wait to re-acquire it.
      yield* cond.acquire();
      waiter.cancel();
      yield* sleep(5);
      assert.equal(waiter.done(), false, "still re-acquiring the lock");
      cond.release();
      yield* sleep(1);
      assert.equal(waiter.cancelled(), true);
      assert.equal(heldAtCancel, true);
      assert.equal(cond.locked(), false);
    }, virtual);
  });

  it("a notified waiter cancelled before it resumes passes the notification on", async () => {
    const woke: string[] = [];
    await run(function* () {
      const cond = new Condition();
      const mk = (name: string) =>
        spawn(function* () {
          yield* cond.withLock(function* () {
            yield* cond.wait();
            woke.push(name);
          });
        });
      const a = mk("a");
      const b = mk("b");
      yield* yieldNow();
      yield* cond.acquire();
      cond.notify(1); // a is notified...
      cond.release(); // ...gets the lock, is woken...
      a.cancel(); // ...and is cancelled before it runs
      yield* sleep(1);
      assert.equal(a.cancelled(), true);
      assert.deepEqual(woke, ["b"], "b received the notification a could not use");
      yield* b;
      assert.equal(cond.locked(), false);
    }, virtual);
  });

  it("a waitFor woken with its predicate true then cancelled before it runs passes the notification on", async () => {
    await run(function* () {
      const cond = new Condition();
      let tokens = 0;
      const taken: string[] = [];
      const waiter = (name: string) =>
        spawn(function* () {
          yield* cond.withLock(function* () {
            yield* cond.waitFor(() => tokens > 0);
            tokens--;
            taken.push(name);
          });
        });
      const a = waiter("a");
      const b = waiter("b");
      yield* yieldNow();
      yield* cond.acquire();
      tokens++;
      cond.notify(1); // a is notified...
      cond.release(); // ...re-acquires the lock, sees a token, is woken...
      a.cancel(); // ...and is cancelled before it runs
      yield* sleep(1);
      assert.deepEqual(taken, ["b"], "b was notified in a's place and took the token");
      assert.equal(a.cancelled(), true);
      assert.equal(tokens, 0);
      assert.equal(cond.locked(), false);
    }, virtual);
  });

  it("waitFor returns the predicate's value once it holds, checking with the lock held", async () => {
    await run(function* () {
      const cond = new Condition(new Lock());
      let n = 0;
      const waiter = spawn(function* () {
        return yield* cond.withLock(function* () {
          return yield* cond.waitFor(() => {
            assert.equal(cond.locked(), true);
            return n >= 3 ? `n=${n}` : "";
          });
        });
      });
      for (let i = 0; i < 3; i++) {
        yield* sleep(10);
        yield* cond.withLock(function* () {
          n++;
          cond.notifyAll();
        });
      }
      assert.equal(yield* waiter, "n=3");
      assert.equal(cond.locked(), false);
    }, virtual);
  });

  it("waitFor cancelled while waiting holds the lock again when it raises", async () => {
    await run(function* () {
      const cond = new Condition();
      let held: boolean | undefined;
      const waiter = spawn(function* () {
        yield* cond.acquire();
        try {
          yield* cond.waitFor(() => false);
        } finally {
          held = cond.locked();
          cond.release();
        }
      });
      yield* sleep(1);
      waiter.cancel();
      yield* sleep(1);
      assert.equal(waiter.cancelled(), true);
      assert.equal(held, true);
      assert.equal(cond.locked(), false);
      assert.equal(cond._waiters.size, 0);
    }, virtual);
  });

  it("an aborted signal stops a wait, which rejects with the reason once the lock is held again", async () => {
    await run(async () => {
      const cond = new Condition();
      await cond.acquire();
      const ac = new AbortController();
      const w = cond.wait({ signal: ac.signal });
      assert.equal(cond.locked(), false, "waiting released the lock");
      ac.abort(new RangeError("no longer needed"));
      await assert.rejects(async () => await w, RangeError);
      assert.equal(cond.locked(), true, "the lock is held again");
      assert.equal(cond._waiters.size, 0);
      cond.release();
    }, virtual);
  });

  it("an async task can wait on a condition", async () => {
    await run(async () => {
      const cond = new Condition();
      let ready = false;
      const t = spawn(async () => cond.withLock(async () => cond.waitFor(() => ready)));
      await sleep(5);
      await cond.withLock(async () => {
        ready = true;
        cond.notify();
      });
      assert.equal(await t, true);
    }, virtual);
  });
});
