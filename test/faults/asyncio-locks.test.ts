/**
 * CPython's Lib/test/test_asyncio/test_locks.py (3.12), ported case by case: Lock, Event,
 * Condition, Semaphore, BoundedSemaphore and Barrier. Each test names the CPython test it
 * ports; `asyncio.create_task` is `spawn`, `await asyncio.sleep(0)` is `yield* yieldNow()`,
 * `lock._waiters` is the primitive's internal waiter list. Cases about `repr`, the `loop`
 * argument or `with await lock` have no counterpart and are left out. Where loopwork
 * deliberately differs (README, "Locks, queues and the @std/async jobs"), the test says so
 * and pins loopwork's behaviour.
 */
import assert from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  type Coroutine,
  Event,
  Future,
  gather,
  getRunningLoop,
  InvalidStateError,
  Lock,
  run,
  Semaphore,
  sleep,
  spawn,
  type Task,
  timeout,
  TimeoutError,
  wait,
  waitFor,
  yieldNow,
} from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

describe("test_locks: test_acquire_cancel (Lock, Semaphore), test_wait_cancel (Event, Condition)", () => {
  const cases: [string, () => { wait: () => Future<unknown>; waiters: () => number; held?: () => boolean }][] = [
    ["Lock", () => {
      const lock = new Lock();
      lock.acquire();
      return { wait: () => lock.acquire(), waiters: () => lock._waiters.size };
    }],
    ["Semaphore", () => {
      const sem = new Semaphore();
      sem.acquire();
      return { wait: () => sem.acquire(), waiters: () => sem._waiters.size };
    }],
    ["Event", () => {
      const ev = new Event();
      return { wait: () => ev.wait(), waiters: () => ev._waiters.size };
    }],
    ["Condition", () => {
      const cond = new Condition();
      cond.acquire();
      return { wait: () => cond.wait(), waiters: () => cond._waiters.size, held: () => cond.locked() };
    }],
  ];
  for (const [name, make] of cases) {
    it(`${name}: a wait cancelled (by a callSoon) leaves no waiter behind`, async () => {
      await run(function* () {
        const p = make();
        const task = spawn(function* () {
          yield* p.wait();
        });
        getRunningLoop().callSoon(() => task.cancel());
        yield* wait([task]);
        assert.ok(task.cancelled());
        assert.equal(p.waiters(), 0);
        if (p.held !== undefined) assert.ok(p.held(), "the condition's lock is held again");
      }, virtual);
    });
  }
});

describe("test_locks: LockTests", () => {
  it("test_acquire: waiters get the lock in order, one per release", async () => {
    await run(function* () {
      const lock = new Lock();
      const result: number[] = [];
      assert.ok(yield* lock.acquire());
      const c = (n: number) =>
        function* (): Coroutine<boolean> {
          if (yield* lock.acquire()) result.push(n);
          return true;
        };
      const t1 = spawn(c(1));
      const t2 = spawn(c(2));
      yield* yieldNow();
      assert.deepEqual(result, []);
      lock.release();
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      const t3 = spawn(c(3));
      lock.release();
      yield* yieldNow();
      assert.deepEqual(result, [1, 2]);
      lock.release();
      yield* yieldNow();
      assert.deepEqual(result, [1, 2, 3]);
      for (const t of [t1, t2, t3]) assert.ok(t.done() && t.result());
    }, virtual);
  });

  it("test_cancel_race: a release that meets a cancelled first waiter moves on to the next (loopwork: the lock is handed over, so locked() stays true)", async () => {
    await run(function* () {
      const lock = new Lock();
      function* lockit(blocker: Future<void> | null): Coroutine<void> {
        yield* lock.acquire();
        try {
          if (blocker !== null) yield* blocker;
        } finally {
          lock.release();
        }
      }
      const fa = new Future<void>();
      const ta = spawn(lockit(fa));
      yield* yieldNow();
      assert.ok(lock.locked());
      const tb = spawn(lockit(null));
      yield* yieldNow();
      assert.equal(lock._waiters.size, 1);
      const tc = spawn(lockit(null));
      yield* yieldNow();
      assert.equal(lock._waiters.size, 2);
      fa.setResult();
      tb.cancel();
      yield* yieldNow();
      assert.ok(ta.done());
      assert.ok(tb.cancelled());
      // CPython: lock.locked() is false here (tc woken, not yet run); loopwork hands the lock
      // to tc at the release (README: "locked() during a hand-off is true").
      assert.ok(lock.locked());
      yield* tc;
      assert.ok(!lock.locked());
    }, virtual);
  });

  it("test_cancel_release_race (issue 32734): cancelling the first waiter and releasing at once lets one waiter in, not two", async () => {
    await run(function* () {
      const lock = new Lock();
      let lockCount = 0;
      let callCount = 0;
      function* lockit(): Coroutine<void> {
        callCount++;
        yield* lock.acquire();
        lockCount++;
      }
      yield* lock.acquire();
      const t1 = spawn(lockit);
      const t2 = spawn(lockit);
      const t3 = spawn(lockit);
      yield* yieldNow();
      getRunningLoop().callSoon(() => {
        t1.cancel();
        lock.release();
      });
      yield* wait([t1]);
      assert.ok(t1.cancelled());
      assert.equal(lockCount, 1);
      assert.equal(callCount, 3);
      assert.ok(t2.done());
      t3.cancel();
      yield* yieldNow();
      assert.ok(t3.cancelled());
    }, virtual);
  });

  it("test_finished_waiter_cancelled: a woken-and-cancelled first waiter does not strand the second", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const tb = spawn(function* () {
        yield* lock.acquire();
      });
      yield* yieldNow();
      assert.equal(lock._waiters.size, 1);
      const tc = spawn(function* () {
        yield* lock.acquire();
      });
      tb.cancel();
      lock.release();
      yield* yieldNow();
      assert.ok(lock.locked());
      assert.ok(tb.cancelled());
      yield* tc;
    }, virtual);
  });

  it("test_release_not_acquired / test_release_no_waiters / test_context_manager", async () => {
    await run(function* () {
      const lock = new Lock();
      assert.throws(() => lock.release(), InvalidStateError);
      yield* lock.acquire();
      assert.ok(lock.locked());
      lock.release();
      assert.ok(!lock.locked());
      yield* lock.withLock(function* () {
        assert.ok(lock.locked());
      });
      assert.ok(!lock.locked());
    }, virtual);
  });
});

describe("test_locks: EventTests", () => {
  it("test_wait: set() wakes the waiters; a task that starts after set() passes at once, before them", async () => {
    await run(function* () {
      const ev = new Event();
      assert.ok(!ev.isSet());
      const result: number[] = [];
      const c = (n: number) =>
        function* (): Coroutine<void> {
          if (yield* ev.wait()) result.push(n);
        };
      const t1 = spawn(c(1));
      const t2 = spawn(c(2));
      yield* yieldNow();
      assert.deepEqual(result, []);
      const t3 = spawn(c(3));
      ev.set();
      yield* yieldNow();
      assert.deepEqual(result, [3, 1, 2]);
      for (const t of [t1, t2, t3]) assert.ok(t.done() && t.result() === undefined);
    }, virtual);
  });

  it("test_wait_on_set / test_clear", async () => {
    await run(function* () {
      const ev = new Event();
      ev.set();
      assert.equal(yield* ev.wait(), true);
      ev.clear();
      assert.ok(!ev.isSet());
    }, virtual);
  });

  it("test_clear_with_waiters: set() then clear() still wakes the waiter; later set()s add nothing", async () => {
    await run(function* () {
      const ev = new Event();
      const result: number[] = [];
      const t = spawn(function* () {
        if (yield* ev.wait()) result.push(1);
        return true;
      });
      yield* yieldNow();
      assert.deepEqual(result, []);
      ev.set();
      ev.clear();
      assert.ok(!ev.isSet());
      ev.set();
      ev.set();
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      assert.equal(ev._waiters.size, 0);
      assert.ok(t.done() && t.result());
    }, virtual);
  });
});

/** CPython's c1/c2/c3 of the Condition tests: wait for a notification, record `n`, release. */
function notifiedWaiter(cond: Condition, result: number[], n: number): () => Coroutine<boolean> {
  return function* () {
    yield* cond.acquire();
    if (yield* cond.wait()) {
      result.push(n);
      cond.release();
    }
    return true;
  };
}

describe("test_locks: ConditionTests", () => {
  it("test_wait: notified waiters resume one by one as the lock is released", async () => {
    await run(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const c = (n: number) =>
        function* (): Coroutine<boolean> {
          yield* cond.acquire();
          if (yield* cond.wait()) result.push(n);
          return true;
        };
      const t1 = spawn(c(1));
      const t2 = spawn(c(2));
      const t3 = spawn(c(3));
      yield* yieldNow();
      assert.deepEqual(result, []);
      assert.ok(!cond.locked());

      assert.ok(yield* cond.acquire());
      cond.notify();
      yield* yieldNow();
      assert.deepEqual(result, []);
      assert.ok(cond.locked());

      cond.release();
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      assert.ok(cond.locked());

      cond.notify(2);
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      assert.ok(cond.locked());

      cond.release();
      yield* yieldNow();
      assert.deepEqual(result, [1, 2]);
      assert.ok(cond.locked());

      cond.release();
      yield* yieldNow();
      assert.deepEqual(result, [1, 2, 3]);
      assert.ok(cond.locked());
      for (const t of [t1, t2, t3]) assert.ok(t.done() && t.result());
    }, virtual);
  });

  it("test_wait_cancel_contested: notified, then cancelled while the lock is contested: the wait still ends holding the lock", async () => {
    await run(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      assert.ok(cond.locked());
      const waitTask = spawn(function* () {
        yield* cond.wait();
      });
      yield* yieldNow();
      assert.ok(!cond.locked());
      yield* cond.acquire();
      assert.ok(cond.locked());
      cond.notify();
      getRunningLoop().callSoon(() => waitTask.cancel());
      getRunningLoop().callSoon(() => cond.release());
      yield* wait([waitTask]);
      assert.ok(cond.locked());
    }, virtual);
  });

  it("test_wait_cancel_after_notify (bpo-32841): a waiter notified, then cancelled while it re-acquires, ends cancelled", async () => {
    await run(function* () {
      let waited = false;
      const cond = new Condition();
      const waiter = spawn(function* () {
        yield* cond.withLock(function* () {
          waited = true;
          yield* cond.wait();
        });
      });
      yield* yieldNow();
      yield* cond.acquire();
      cond.notify();
      yield* yieldNow();
      waiter.cancel();
      yield* yieldNow();
      cond.release();
      yield* yieldNow();
      yield* yieldNow();
      assert.ok(waiter.cancelled());
      assert.ok(waited);
      assert.ok(!cond.locked());
    }, virtual);
  });

  it("test_wait_unacquired / test_notify_unacquired / test_notify_all_unacquired", async () => {
    await run(function* () {
      const cond = new Condition();
      assert.throws(() => cond.wait(), InvalidStateError);
      assert.throws(() => cond.notify(), InvalidStateError);
      assert.throws(() => cond.notifyAll(), InvalidStateError);
      yield* yieldNow();
    }, virtual);
  });

  it("test_wait_for: the predicate is checked after each notification", async () => {
    await run(function* () {
      const cond = new Condition();
      let presult = false;
      const result: number[] = [];
      const t = spawn(function* () {
        yield* cond.acquire();
        if (yield* cond.waitFor(() => presult)) {
          result.push(1);
          cond.release();
        }
        return true;
      });
      yield* yieldNow();
      assert.deepEqual(result, []);
      yield* cond.acquire();
      cond.notify();
      cond.release();
      yield* yieldNow();
      assert.deepEqual(result, []);
      presult = true;
      yield* cond.acquire();
      cond.notify();
      cond.release();
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      assert.ok(t.done() && t.result());
    }, virtual);
  });

  it("test_notify: notify(1) wakes one; notify(2048) wakes the rest (loopwork: one lock hand-off per turn, deliberate)", async () => {
    await run(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const c = (n: number) => notifiedWaiter(cond, result, n);
      const tasks = [spawn(c(1)), spawn(c(2)), spawn(c(3))];
      yield* yieldNow();
      assert.deepEqual(result, []);
      yield* cond.acquire();
      cond.notify(1);
      cond.release();
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      yield* cond.acquire();
      cond.notify(1);
      cond.notify(2048);
      cond.release();
      yield* yieldNow();
      // CPython: [1, 2, 3] after one turn (each notified waiter re-acquires a free lock when
      // it resumes). loopwork: a notified waiter queues for the lock at the notification and
      // resumes holding it, so the lock is handed from waiter to waiter, a turn each
      // (README: "locked() during a hand-off is true"); the order is the same.
      assert.deepEqual(result, [1, 2]);
      yield* yieldNow();
      assert.deepEqual(result, [1, 2, 3]);
      for (const t of tasks) assert.ok(t.done() && t.result());
    }, virtual);
  });

  it("test_notify_all (loopwork: one lock hand-off per turn, deliberate)", async () => {
    await run(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const c = (n: number) => notifiedWaiter(cond, result, n);
      const tasks = [spawn(c(1)), spawn(c(2))];
      yield* yieldNow();
      yield* cond.acquire();
      cond.notifyAll();
      cond.release();
      yield* yieldNow();
      // CPython: [1, 2] after one turn; loopwork hands the lock on, a turn per waiter (see test_notify).
      assert.deepEqual(result, [1]);
      yield* yieldNow();
      assert.deepEqual(result, [1, 2]);
      for (const t of tasks) assert.ok(t.done() && t.result());
    }, virtual);
  });

  it("test_explicit_lock: a condition over a given lock, and the lock itself, lock each other", async () => {
    await run(function* () {
      function* f(lock?: Lock, cond?: Condition): Coroutine<void> {
        lock ??= new Lock();
        cond ??= new Condition(lock);
        assert.equal(cond._lock, lock);
        assert.ok(!lock.locked() && !cond.locked());
        yield* cond.withLock(function* () {
          assert.ok(lock!.locked() && cond!.locked());
        });
        assert.ok(!lock.locked() && !cond.locked());
        yield* lock.withLock(function* () {
          assert.ok(lock!.locked() && cond!.locked());
        });
        assert.ok(!lock.locked() && !cond.locked());
      }
      yield* f();
      yield* f(new Lock());
      const lock = new Lock();
      yield* f(lock, new Condition(lock));
    }, virtual);
  });

  it("test_timeout_in_block: waitFor(cond.wait(), …) inside the lock times out and leaves the lock held", async () => {
    await run(function* () {
      const condition = new Condition();
      yield* condition.withLock(function* () {
        const e = yield* (function* () {
          try {
            yield* waitFor(condition.wait(), 500);
          } catch (x) {
            return x;
          }
        })();
        assert.ok(e instanceof TimeoutError);
        assert.ok(condition.locked());
      });
      assert.ok(!condition.locked());
    }, virtual);
  });
});

describe("test_locks: ConditionTests (3.13: cancellation while woken)", () => {
  for (const phase of ["wakeup", "re_aquire"] as const) {
    it(`test_cancelled_error_${phase}: the CancelledError the wait raised is the one the task ends with, message and all`, async () => {
      await run(function* () {
        let wake = false;
        let raised: unknown;
        const cond = new Condition();
        const task = spawn(function* () {
          yield* cond.withLock(function* () {
            try {
              yield* cond.waitFor(() => wake);
            } catch (e) {
              assert.ok(e instanceof CancelledError);
              raised = e;
              throw e;
            }
            assert.fail("the wait was cancelled");
          });
        });
        yield* yieldNow();
        if (phase === "re_aquire") {
          yield* cond.acquire();
          wake = true;
          cond.notify();
          yield* yieldNow(); // the task now re-acquires the lock
          task.cancel("foo");
          cond.release();
        } else {
          task.cancel("foo"); // the task waits on the condition
        }
        let err: unknown;
        try {
          yield* task;
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof CancelledError);
        assert.equal(err.message, "foo");
        assert.equal(err, raised, "the same instance as the one raised in the task");
      }, virtual);
    });
  }

  for (const relock of [false, true]) {
    it(`test_cancelled_wakeup${relock ? "_relock" : ""}: a consumer cancelled as it is woken (${relock ? "while re-acquiring the lock" : "before it runs"}) loses no wake-up`, async () => {
      await run(function* () {
        const condition = new Condition();
        let state = 0;
        const consumer = function* (): Coroutine<void> {
          yield* condition.withLock(function* () {
            for (;;) {
              yield* condition.waitFor(() => state !== 0);
              if (state < 0) return;
              state -= 1;
            }
          });
        };
        const c = [spawn(consumer), spawn(consumer)];
        yield* yieldNow();
        yield* condition.withLock(function* () {
          state += 1;
          condition.notify(1);
          if (relock) yield* yieldNow(); // the woken consumer settles on re-acquiring the lock
          c[0]!.cancel();
          try {
            yield* timeout(10, function* () {
              yield* condition.waitFor(() => state === 0);
            });
          } catch (e) {
            if (!(e instanceof TimeoutError)) throw e;
          }
          assert.equal(state, 0, "the notification reached the other consumer");
          state = -1;
          condition.notifyAll();
        });
        yield* c[1]!;
      }, virtual);
    });
  }
});

describe("test_locks: SemaphoreTests", () => {
  it("test_initial_value_zero / test_semaphore_value / test_release_not_acquired", () => {
    assert.ok(new Semaphore(0).locked());
    assert.throws(() => new Semaphore(-1), RangeError);
    assert.throws(() => new BoundedSemaphore().release(), (e: unknown) => e instanceof Error);
  });

  it("test_acquire: two releases let two waiters in, the third keeps waiting", async () => {
    await run(function* () {
      const sem = new Semaphore(3);
      const result: number[] = [];
      assert.ok(yield* sem.acquire());
      assert.ok(yield* sem.acquire());
      assert.ok(!sem.locked());
      const c = (n: number) =>
        function* (): Coroutine<boolean> {
          yield* sem.acquire();
          result.push(n);
          return true;
        };
      const t1 = spawn(c(1));
      const t2 = spawn(c(2));
      const t3 = spawn(c(3));
      yield* yieldNow();
      assert.deepEqual(result, [1]);
      assert.ok(sem.locked());
      assert.equal(sem._waiters.size, 2);
      assert.equal(sem.value, 0);
      const t4 = spawn(c(4));
      sem.release();
      sem.release();
      assert.equal(sem.value, 0);
      yield* yieldNow();
      assert.equal(sem.value, 0);
      assert.equal(result.length, 3);
      assert.ok(sem.locked());
      assert.equal(sem._waiters.size, 1);
      assert.ok(t1.done() && t1.result());
      assert.equal([t2, t3, t4].filter((t) => t.done() && t.result()).length, 2);
      sem.release();
      yield* gather([t2, t3, t4]);
    }, virtual);
  });

  it("test_acquire_cancel_before_awoken: waiters cancelled before a release do not take its permit", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const ts = [0, 1, 2, 3].map(() =>
        spawn(function* () {
          yield* sem.acquire();
        })
      );
      yield* yieldNow();
      ts[0]!.cancel();
      ts[1]!.cancel();
      sem.release();
      yield* yieldNow();
      yield* yieldNow();
      assert.ok(ts[2]!.done());
      assert.ok(!ts[3]!.done());
      ts[2]!.cancel();
      ts[3]!.cancel();
      yield* yieldNow();
    }, virtual);
  });

  it("test_acquire_hang: a release after the first waiter was cancelled wakes the second", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const t1 = spawn(function* () {
        yield* sem.acquire();
      });
      const t2 = spawn(function* () {
        yield* sem.acquire();
      });
      yield* yieldNow();
      t1.cancel();
      sem.release();
      yield* yieldNow();
      yield* yieldNow();
      assert.ok(sem.locked());
      assert.ok(t2.done());
    }, virtual);
  });

  it("test_acquire_no_hang: a waiter given the permit and cancelled before it runs gives it back", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      let t2: Task<void> | undefined = undefined;
      const t1 = spawn(function* () {
        yield* sem.withPermit(function* () {
          yield* yieldNow();
        });
        t2!.cancel();
      });
      t2 = spawn(function* () {
        yield* sem.withPermit(function* () {
          assert.fail("t2 never holds the permit");
        });
      });
      const [r1, r2] = yield* gather([t1, t2], { returnExceptions: true });
      assert.equal(r1, undefined);
      assert.ok(r2 instanceof CancelledError);
      yield* waitFor(sem.acquire(), 1_000);
    }, virtual);
  });

  it("test_acquire_fifo_order_2: a task that releases and acquires again while the next waiter was given a permit but has not run (loopwork: it goes on, deliberate)", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      const result: number[] = [];
      const t1 = spawn(function* () {
        yield* sem.acquire();
        result.push(1);
      });
      const t2 = spawn(function* () {
        yield* sem.acquire();
        result.push(2);
        sem.release();
        yield* sem.acquire();
        result.push(4);
      });
      const t3 = spawn(function* () {
        yield* sem.acquire();
        result.push(3);
      });
      yield* yieldNow();
      sem.release();
      sem.release();
      yield* gather([t1, t2, t3]);
      // CPython: [1, 2, 3, 4]: t3's woken future still counts as a waiter, so t2's second
      // acquire queues behind it although a permit is free. loopwork hands t3 its permit at
      // the release (README: "FIFO. Release hands … a permit … straight to the oldest
      // waiter"), so the permit t2 gives back is free and nobody waits for it.
      assert.deepEqual(result, [1, 2, 4, 3]);
    }, virtual);
  });

  it("test_acquire_fifo_order_3: a waiter cancelled before the releases takes no permit", async () => {
    await run(function* () {
      const sem = new Semaphore(0);
      const result: number[] = [];
      const c = (n: number) =>
        function* (): Coroutine<boolean> {
          yield* sem.acquire();
          result.push(n);
          return true;
        };
      const tasks = [spawn(c(1)), spawn(c(2)), spawn(c(3))];
      yield* yieldNow();
      tasks[0]!.cancel();
      yield* yieldNow();
      sem.release();
      sem.release();
      yield* gather(tasks, { returnExceptions: true });
      assert.deepEqual(result, [2, 3]);
    }, virtual);
  });
});

describe("test_locks: BarrierTests", () => {
  const N = 5;

  /** Runs `n` tasks of `body` and gathers their results. */
  function* gatherTasks<T>(n: number, body: () => Coroutine<T>): Coroutine<T[]> {
    const tasks = Array.from({ length: n }, () => spawn(body));
    return yield* gather(tasks);
  }

  /** Waits at `barrier`: true if the round passed, false if it broke (BrokenBarrierError); other errors propagate. */
  function* passes(barrier: Barrier): Coroutine<boolean> {
    try {
      yield* barrier.wait();
      return true;
    } catch (e) {
      if (!(e instanceof BrokenBarrierError)) throw e;
      return false;
    }
  }

  it("test_barrier_parties: parties < 1 is refused", () => {
    assert.throws(() => new Barrier(0), RangeError);
    assert.throws(() => new Barrier(-4), RangeError);
    assert.ok(new Barrier(N) instanceof Barrier);
  });

  it("test_context_manager / test_filling_one_task: every party passes with a distinct index", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const results = yield* gatherTasks(3, function* () {
        return yield* barrier.wait();
      });
      assert.deepEqual(results.sort(), [0, 1, 2]);
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
      const one = new Barrier(1);
      assert.equal(yield* one.wait(), 0);
      assert.equal(one.nWaiting, 0);
    }, virtual);
  });

  it("test_filling_one_task_twice", async () => {
    await run(function* () {
      const barrier = new Barrier(1);
      const t1 = spawn(function* () { return yield* barrier.wait(); });
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 0);
      const t2 = spawn(function* () { return yield* barrier.wait(); });
      yield* yieldNow();
      assert.equal(t1.result(), t2.result());
      assert.equal(t1.done(), t2.done());
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_filling_task_by_task", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const t1 = spawn(function* () { yield* barrier.wait(); });
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 1);
      const t2 = spawn(function* () { yield* barrier.wait(); });
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 2);
      const t3 = spawn(function* () { yield* barrier.wait(); });
      yield* yieldNow();
      yield* wait([t1, t2, t3]);
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_filling_tasks_wait_twice / test_filling_tasks_check_return_value", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      const res = yield* gatherTasks(N, function* () {
        yield* barrier.wait();
        results.push(true);
        const i = yield* barrier.wait();
        results.push(false);
        return i;
      });
      assert.equal(results.filter((x) => x).length, N);
      assert.equal(results.filter((x) => !x).length, N);
      assert.deepEqual(res.sort(), [0, 1, 2, 3, 4]);
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_blocking_tasks_while_draining", async () => {
    await run(function* () {
      const rewait = 2;
      const barrier = new Barrier(N);
      const barrierNowaiting = new Barrier(N - rewait);
      let rewaitN = rewait;
      yield* gatherTasks(N, function* () {
        yield* barrier.wait();
        if (rewaitN > 0) {
          rewaitN--;
          yield* barrier.wait();
        } else {
          yield* barrierNowaiting.wait();
          yield* barrier.wait();
        }
      });
    }, virtual);
  });

  it("test_filling_tasks_cancel_one: a party cancelled while filling leaves the round", async () => {
    await run(function* () {
      const barrier = new Barrier(3);
      const results: boolean[] = [];
      const coro = function* (): Coroutine<void> {
        yield* barrier.wait();
        results.push(true);
      };
      const t1 = spawn(coro);
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 1);
      const t2 = spawn(coro);
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 2);
      t1.cancel();
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 1);
      yield* wait([t1]);
      assert.ok(t1.cancelled());
      const t3 = spawn(coro);
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 2);
      const t4 = spawn(coro);
      yield* gather([t2, t3, t4]);
      assert.equal(results.length, 3);
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_reset_barrier / test_abort_barrier: on an empty barrier", async () => {
    await run(function* () {
      const b1 = new Barrier(1);
      b1.reset();
      assert.equal(b1.nWaiting, 0);
      assert.ok(!b1.broken);
      const b2 = new Barrier(1);
      b2.abort();
      assert.equal(b2.nWaiting, 0);
      assert.ok(b2.broken);
      yield* yieldNow();
    }, virtual);
  });

  it("test_reset_barrier_while_tasks_waiting: the waiting parties get BrokenBarrierError; the barrier is not broken", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      const tasks = Array.from({ length: N - 1 }, () =>
        spawn(function* () {
          try {
            yield* barrier.wait();
          } catch (e) {
            if (e instanceof BrokenBarrierError) results.push(true);
          }
        })
      );
      yield* yieldNow();
      spawn(function* () {
        barrier.reset();
      });
      yield* gather(tasks);
      assert.equal(results.length, N - 1);
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_reset_barrier_when_tasks_half_draining: a reset while released parties have not resumed breaks them", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const restOfTasks = Math.floor(N / 2);
      let resumed = 0;
      yield* gatherTasks(N, function* () {
        if (!(yield* passes(barrier))) {
          results1.push(true);
          return;
        }
        resumed++;
        if (N - resumed === restOfTasks) barrier.reset(); // CPython: `if rest_of_tasks == barrier._count`
      });
      assert.deepEqual(results1, Array(restOfTasks).fill(true));
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_reset_barrier_when_tasks_half_draining_half_blocking", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blockingTasks = Math.floor(N / 2);
      let count = 0;
      yield* gatherTasks(N, function* () {
        if (!(yield* passes(barrier))) {
          results1.push(true);
          yield* barrier.wait();
          return;
        }
        count++;
        if (count > blockingTasks) {
          barrier.reset();
          yield* barrier.wait();
        } else {
          if (!(yield* passes(barrier))) {
            results2.push(true);
          }
        }
      });
      assert.deepEqual(results1, Array(blockingTasks).fill(true));
      assert.deepEqual(results2, []);
      assert.equal(barrier.nWaiting, 0);
      assert.ok(!barrier.broken);
    }, virtual);
  });

  it("test_reset_barrier_while_tasks_waiting_and_waiting_again", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const tasks = Array.from({ length: N - 1 }, () =>
        spawn(function* () {
          try {
            yield* barrier.wait();
          } catch (e) {
            if (e instanceof BrokenBarrierError) results1.push(true);
          } finally {
            yield* barrier.wait();
            results2.push(true);
          }
        })
      );
      spawn(function* () {
        barrier.reset();
      });
      yield* yieldNow();
      spawn(function* () {
        yield* barrier.wait();
        results2.push(true);
      });
      yield* gather(tasks);
      assert.ok(!barrier.broken);
      assert.equal(results1.length, N - 1);
      assert.equal(results2.length, N);
      assert.equal(barrier.nWaiting, 0);
    }, virtual);
  });

  it("test_reset_barrier_while_tasks_draining: the last party to leave resets; the others, already waiting again, are not broken", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      let count = 0;
      yield* gatherTasks(N, function* () {
        yield* barrier.wait();
        count++;
        if (count === N) {
          barrier.reset();
          yield* barrier.wait();
        } else {
          try {
            yield* barrier.wait();
            results1.push(true);
          } catch {
            results2.push(true);
          }
        }
        yield* barrier.wait();
        results3.push(true);
      });
      assert.ok(!barrier.broken);
      assert.equal(results1.length, N - 1);
      assert.equal(results2.length, 0);
      assert.equal(results3.length, N);
      assert.equal(barrier.nWaiting, 0);
    }, virtual);
  });

  it("test_abort_barrier_when_tasks_half_draining_half_blocking", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blockingTasks = Math.floor(N / 2);
      let count = 0;
      yield* gatherTasks(N, function* () {
        if (!(yield* passes(barrier))) {
          results1.push(true);
          return;
        }
        count++;
        if (count > blockingTasks) {
          barrier.abort();
        } else {
          if (!(yield* passes(barrier))) {
            results2.push(true);
          }
        }
      });
      assert.ok(barrier.broken);
      assert.deepEqual(results1, Array(blockingTasks).fill(true));
      assert.deepEqual(results2, Array(N - blockingTasks - 1).fill(true));
      assert.equal(barrier.nWaiting, 0);
    }, virtual);
  });

  it("test_abort_barrier_when_exception: a party that fails aborts; the others get BrokenBarrierError", async () => {
    await run(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      yield* gatherTasks(N, function* () {
        try {
          const i = yield* barrier.wait();
          if (i === Math.floor(N / 2)) throw new RangeError("boom");
          yield* barrier.wait();
          results1.push(true);
        } catch (e) {
          if (e instanceof BrokenBarrierError) results2.push(true);
          else barrier.abort();
        }
      });
      assert.ok(barrier.broken);
      assert.equal(results1.length, 0);
      assert.equal(results2.length, N - 1);
      assert.equal(barrier.nWaiting, 0);
    }, virtual);
  });

  it("test_abort_barrier_when_exception_then_resetting", async () => {
    await run(function* () {
      const barrier1 = new Barrier(N);
      const barrier2 = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      yield* gatherTasks(N, function* () {
        try {
          const i = yield* barrier1.wait();
          if (i === Math.floor(N / 2)) throw new RangeError("boom");
          yield* barrier1.wait();
          results1.push(true);
        } catch (e) {
          if (e instanceof BrokenBarrierError) results2.push(true);
          else barrier1.abort();
        }
        const i = yield* barrier2.wait();
        if (i === Math.floor(N / 2)) barrier1.reset();
        yield* barrier2.wait();
        yield* barrier1.wait();
        results3.push(true);
      });
      assert.ok(!barrier1.broken);
      assert.equal(results1.length, 0);
      assert.equal(results2.length, N - 1);
      assert.equal(results3.length, N);
      assert.equal(barrier1.nWaiting, 0);
    }, virtual);
  });
});

describe("Barrier draining (the edges of asyncio's phases in loopwork)", () => {
  it("a released party cancelled before it resumes still leaves: the drain ends and the next round passes", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const a = spawn(function* () { return yield* barrier.wait(); });
      yield* yieldNow();
      const b = spawn(function* () {
        yield* barrier.wait(); // releases the round; a has not resumed yet
        a.cancel();
        return yield* barrier.wait(); // waits for the drain, then joins the next round
      });
      yield* wait([a]);
      assert.ok(a.cancelled());
      const c = spawn(function* () { return yield* barrier.wait(); });
      const [rb, rc] = yield* gather([b, c]);
      assert.deepEqual([rb, rc].sort(), [0, 1]);
      assert.equal(barrier.nWaiting, 0);
    }, virtual);
  });

  it("an arrival held during the drain can be withdrawn (cancel or signal) and leaves no trace", async () => {
    await run(function* () {
      const barrier = new Barrier(2);
      const first = spawn(function* () { yield* barrier.wait(); });
      yield* yieldNow();
      const controller = new AbortController();
      const second = spawn(function* () {
        yield* barrier.wait(); // releases the round; first has not resumed yet
        const held = barrier.wait(); // so these wait for the drain
        const heldBySignal = barrier.wait({ signal: controller.signal });
        assert.equal(held.done(), false);
        assert.equal(heldBySignal.done(), false);
        held.cancel();
        controller.abort(new RangeError("stop"));
        assert.ok(held.cancelled());
        assert.throws(() => heldBySignal.result(), RangeError);
      });
      yield* second;
      yield* first;
      yield* yieldNow();
      assert.equal(barrier.nWaiting, 0, "the withdrawn arrivals did not join the next round");
    }, virtual);
  });

  it("async parties (await) and generator parties share rounds, inside a loop and outside any", async () => {
    const rounds: number[] = [];
    await run(function* () {
      const barrier = new Barrier(2);
      const asyncParty = spawn(async () => {
        for (let r = 0; r < 3; r++) rounds.push(await barrier.wait());
      });
      const genParty = spawn(function* () {
        for (let r = 0; r < 3; r++) rounds.push(yield* barrier.wait());
      });
      yield* gather([asyncParty, genParty]);
    }, virtual);
    assert.equal(rounds.length, 6);
    const outside = new Barrier(2);
    const got = await Promise.all([0, 1].map(async () => [await outside.wait(), await outside.wait()]));
    assert.deepEqual(got.flat().sort(), [0, 0, 1, 1]);
  });
});
