/**
 * asyncio corners (issue 15), each named after the CPython 3.12 test it follows
 * (Lib/test/test_asyncio/test_waitfor.py, test_tasks.py, test_locks.py, test_queues.py).
 * Where loopwork deliberately differs, the test says so and pins loopwork's behaviour
 * (the README's sections on combinators and on locks and queues give the reason).
 */
import assert from "node:assert/strict";
import {
  Condition,
  type Coroutine,
  Future,
  getRunningLoop,
  InvalidStateError,
  Lock,
  Queue,
  run,
  Semaphore,
  sleep,
  spawn,
  taskGroup,
  TimeoutError,
  wait,
  waitFor,
  yieldNow,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

function* blocking(): Coroutine<void> {
  yield* new Future<void>(); // never set
}

describe("test_waitfor", () => {
  for (const ms of [null, 60_000]) {
    it(`test_cancel_wait_for (timeout ${ms}): cancelling the wait cancels the task (issue 23219)`, async () => {
      await run(function* () {
        const task = spawn(blocking);
        const w = spawn(function* () {
          return yield* waitFor(task, ms);
        });
        getRunningLoop().callSoon(() => w.cancel());
        yield* wait([w]);
        assert.ok(w.cancelled());
        assert.ok(task.cancelled(), "the task waited for is cancelled, and done when the wait is");
      }, virtual);
    });
  }

  it("the wait cancelled in the loop turn waitFor() was called in still cancels what it waits for", async () => {
    await run(function* () {
      let started = false;
      const task = spawn(blocking);
      const w = spawn(function* () {
        const inner = waitFor(task, 1_000);
        const coro = waitFor(
          (function* () {
            started = true;
            yield* sleep(10);
          })(),
          1_000,
        );
        // Both waits are cancelled before their tasks took a step.
        inner.cancel();
        coro.cancel();
        yield* wait([inner, coro]);
        assert.ok(inner.cancelled() && coro.cancelled());
      });
      yield* w;
      assert.ok(task.cancelled());
      assert.equal(started, false, "a coroutine given to a wait cancelled at once never starts");
    }, virtual);
  });

  it("test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started", async () => {
    await run(function* () {
      let started = false;
      const loop = getRunningLoop();
      const t0 = loop.time();
      const w = waitFor(
        (function* () {
          started = true;
          return "ran";
        })(),
        0,
      );
      yield* wait([w]);
      assert.ok(w.exception() instanceof TimeoutError);
      assert.equal(started, false);
      assert.equal(loop.time(), t0);
    }, virtual);
  });

  it("test_wait_for_timeout_less_then_0_or_0_future_done, and a running task is cancelled (0 and -1)", async () => {
    await run(function* () {
      const fut = new Future<string>();
      fut.setResult("done");
      assert.equal(yield* waitFor(fut, 0), "done");
      for (const ms of [0, -1]) {
        let running = false;
        const t = spawn(function* () {
          running = true;
          try {
            yield* sleep(10_000);
          } finally {
            running = false;
          }
        });
        yield* sleep(1);
        assert.ok(running);
        const w = waitFor(t, ms);
        yield* wait([w]);
        assert.ok(w.exception() instanceof TimeoutError, `timeout ${ms}`);
        assert.ok(t.cancelled());
        assert.equal(running, false);
      }
    }, virtual);
  });

  it("test_wait_for_cancel_suppressed with a 0 limit: a task that finishes anyway gives its result", async () => {
    await run(function* () {
      const t = spawn(function* () {
        try {
          yield* sleep(10_000);
        } catch {
          return 42;
        }
        return 0;
      });
      yield* sleep(1);
      assert.equal(yield* waitFor(t, 0), 42);
    }, virtual);
  });
});

describe("test_tasks: wait()", () => {
  it("done/pending are computed when the waiter resumes (asyncio's _wait reads them after its waiter wakes)", async () => {
    await run(function* () {
      const a = new Future<number>();
      const b = new Future<number>();
      const loop = getRunningLoop();
      // a completes the wait; b is done after that, before the waiter resumes.
      const w = wait([a, b], { returnWhen: "FIRST_COMPLETED" });
      w.addDoneCallback(() => b.setResult(2));
      loop.callSoon(() => a.setResult(1));
      const { done, pending } = yield* w;
      assert.ok(done.has(a));
      assert.ok(done.has(b), "b, done before the waiter resumed, is in done");
      assert.equal(pending.size, 0);
    }, virtual);
  });
});

describe("test_locks", () => {
  it("test_wait_for_unacquired: loopwork refuses Condition.waitFor() without the lock, even when the predicate holds (deliberate)", async () => {
    await run(function* () {
      const cond = new Condition();
      // CPython returns [1, 2, 3] here and raises only when it must wait: loopwork raises always.
      assert.throws(() => cond.waitFor(() => [1, 2, 3]), InvalidStateError);
      assert.throws(() => cond.waitFor(() => false), InvalidStateError);
      yield* sleep(0);
    }, virtual);
  });

  it("test_acquire_fifo_order: a task that releases and re-acquires queues behind the waiters", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      const result: string[] = [];
      function* coro(tag: string): Coroutine<void> {
        yield* sem.acquire();
        result.push(`${tag}_1`);
        yield* sleep(10);
        sem.release();
        yield* sem.acquire();
        result.push(`${tag}_2`);
        yield* sleep(10);
        sem.release();
      }
      yield* taskGroup(function* (tg) {
        tg.spawn(coro("c1"));
        tg.spawn(coro("c2"));
        tg.spawn(coro("c3"));
      });
      assert.deepEqual(result, ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
    }, virtual);
  });

  it("test_acquire_fifo_order, same step: release() then acquire() at once does not overtake the woken waiter", async () => {
    await run(function* () {
      const sem = new Semaphore(1);
      const order: string[] = [];
      yield* sem.acquire();
      const other = spawn(function* () {
        yield* sem.acquire();
        order.push("other");
        sem.release();
      });
      yield* sleep(1);
      sem.release();
      assert.ok(sem.locked(), "the woken waiter holds the permit (CPython: locked() as well)");
      assert.equal(sem.tryAcquire(), false, "tryAcquire() does not overtake the woken waiter");
      yield* sem.acquire();
      order.push("me");
      sem.release();
      yield* other;
      assert.deepEqual(order, ["other", "me"]);
      assert.equal(sem.tryAcquire(), true);
      assert.equal(sem.tryAcquire(), false);
      sem.release();
    }, virtual);
  });

  it("Lock.locked() while a woken waiter has not run yet: true in loopwork (handoff; CPython: false)", async () => {
    await run(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const waiter = spawn(function* () {
        const held = yield* lock.acquire();
        held.release();
      });
      yield* yieldNow();
      lock.release();
      // The lock went to the waiter: it is held, and a newcomer queues behind it either way.
      assert.equal(lock.locked(), true);
      const mine = lock.acquire();
      assert.equal(mine.done(), false);
      yield* waiter;
      (yield* mine).release();
      assert.equal(lock.locked(), false);
    }, virtual);
  });
});

/** A queue of maxsize 1 holding "a", and a task waiting to put "b" into it. */
function* fullQueueWithPutter(): Coroutine<{ q: Queue<string>; putter: ReturnType<typeof spawn<void>> }> {
  const q = new Queue<string>({ maxsize: 1 });
  q.putNowait("a");
  const putter = spawn(function* () {
    yield* q.put("b");
  });
  yield* yieldNow();
  return { q, putter };
}

describe("test_queues", () => {
  it("test_cancelled_put_silence_value_error_exception: a put woken by getNowait() then cancelled raises CancelledError and puts nothing", async () => {
    await run(function* () {
      const { q, putter } = yield* fullQueueWithPutter();
      const next = spawn(function* () {
        yield* q.put("c");
      });
      yield* yieldNow();
      assert.equal(q.getNowait(), "a"); // room: the putter of "b" is woken...
      putter.cancel(); // ...and cancelled before it resumes
      yield* wait([putter]);
      assert.ok(putter.cancelled());
      yield* wait([next], { timeout: 1_000 });
      assert.ok(next.done(), "the room went to the next put");
      assert.equal(q.qsize(), 1);
      assert.equal(q.getNowait(), "c");
      assert.equal(q.empty(), true, "\"b\" never went in");
    }, virtual);
  });

  it("test_put_cancelled_race: a woken put's item goes in when it resumes; a cancelled waiting put leaves no trace", async () => {
    await run(function* () {
      const q = new Queue<string>({ maxsize: 1 });
      const putA = spawn(function* () { yield* q.put("a"); });
      const putB = spawn(function* () { yield* q.put("b"); });
      const putC = spawn(function* () { yield* q.put("X"); });
      yield* yieldNow();
      assert.ok(putA.done());
      assert.equal(putB.done(), false);
      putC.cancel();
      yield* yieldNow();
      assert.ok(putC.done());
      assert.equal(q.getNowait(), "a");
      assert.ok(q.full(), "the room is held for the woken put of \"b\"");
      assert.equal(q.qsize(), 0, "\"b\" goes in only when its task resumes");
      yield* yieldNow();
      assert.equal(q.getNowait(), "b");
      yield* putB;
    }, virtual);
  });

  it("a put cancelled before there is room puts nothing (CPython: test_cancelled_puts_not_being_held_in_self_putters)", async () => {
    await run(function* () {
      const { q, putter } = yield* fullQueueWithPutter();
      putter.cancel();
      yield* wait([putter]);
      assert.ok(putter.cancelled());
      assert.equal(q.getNowait(), "a");
      assert.equal(q.qsize(), 0);
    }, virtual);
  });
});
