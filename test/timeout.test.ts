import assert from "node:assert/strict";
import {
  CancelledError,
  type Coroutine,
  currentTask,
  Future,
  getRunningLoop,
  InvalidStateError,
  run,
  sleep,
  spawn,
  type Task,
  taskGroup,
  TaskGroupError,
  timeout,
  timeoutAt,
  TimeoutError,
  type TimeoutScope,
  waitFor,
} from "../mod.ts";
import { catching } from "./expect.ts";
import { describe, it } from "./harness.ts";

const virtual = <T>(main: () => Coroutine<T> | Promise<T>): Promise<T> =>
  run(main as () => Coroutine<T>, { clock: "virtual" });

const now = (): number => getRunningLoop().time();

describe("timeout", () => {
  it("an expired scope raises TimeoutError and reports expired() (timeout_basic)", async () => {
    await virtual(function* () {
      let scope!: TimeoutScope;
      const e = yield* catching(timeout(10, function* (s) {
        scope = s;
        yield* sleep(10_000);
      }));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.equal(e.name, "TimeoutError");
      assert.ok(scope.expired());
      assert.equal(now(), 10);
    });
  });

  it("timeoutAt takes a deadline on the loop clock, which when() returns (timeout_at_basic)", async () => {
    await virtual(function* () {
      yield* sleep(5);
      const deadline = now() + 10;
      let scope!: TimeoutScope;
      const e = yield* catching(timeoutAt(deadline, function* (s) {
        scope = s;
        yield* sleep(10_000);
      }));
      assert.ok(e instanceof TimeoutError);
      assert.ok(scope.expired());
      assert.equal(scope.when(), deadline);
      assert.equal(now(), 15);
    });
  });

  it("only the outermost of nested scopes expiring together raises TimeoutError; the inner sees CancelledError (nested_timeouts)", async () => {
    await virtual(function* () {
      let cancelled = false;
      let cm1!: TimeoutScope, cm2!: TimeoutScope;
      const deadline = now() + 10;
      const e = yield* catching(timeoutAt(deadline, function* (s1) {
        cm1 = s1;
        try {
          yield* timeoutAt(deadline, function* (s2) {
            cm2 = s2;
            yield* sleep(10_000);
          });
        } catch (err) {
          cancelled = err instanceof CancelledError;
          throw err;
        }
      }));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.ok(cancelled);
      assert.ok(cm1.expired() && cm2.expired());
    });
  });

  it("the body sees the CancelledError at its yield* (waiter_cancelled)", async () => {
    await virtual(function* () {
      let cancelled = false;
      const e = yield* catching(timeout(10, function* () {
        try {
          yield* sleep(10_000);
        } catch (err) {
          cancelled = err instanceof CancelledError;
          throw err;
        }
      }));
      assert.ok(e instanceof TimeoutError);
      assert.ok(cancelled);
    });
  });

  it("a scope that does not expire returns the body's result and is not expired (timeout_not_called)", async () => {
    await virtual(function* () {
      let scope!: TimeoutScope;
      const r = yield* timeout(10_000, function* (s) {
        scope = s;
        yield* sleep(10);
        return "done";
      });
      assert.equal(r, "done");
      assert.equal(scope.expired(), false);
      assert.ok(scope.when()! > now());
      assert.equal(String(scope), "TimeoutScope<finished>");
    });
  });

  it("null disables the limit, and so does Infinity (timeout_disabled, timeout_at_disabled)", async () => {
    await virtual(function* () {
      yield* timeout(Infinity, function* (s) {
        assert.equal(s.when(), Infinity);
        yield* sleep(60_000);
      });
      for (const make of [timeout, timeoutAt]) {
        let scope!: TimeoutScope;
        yield* make(null, function* (s) {
          scope = s;
          assert.equal(String(s), "TimeoutScope<active, when=null>");
          yield* sleep(60_000);
        });
        assert.equal(scope.expired(), false);
        assert.equal(scope.when(), null);
      }
    });
  });

  it("a limit of 0 or a deadline in the past expires on the next turn, even around sleep(0) (timeout_zero, timeout_zero_sleep_zero, timeout_in_the_past_sleep_zero)", async () => {
    await virtual(function* () {
      for (const [ms, nap] of [[0, 10_000], [0, 0], [-11, 0]] as const) {
        const t0 = now();
        let scope!: TimeoutScope;
        const e = yield* catching(timeout(ms, function* (s) {
          scope = s;
          yield* sleep(nap);
        }));
        assert.ok(e instanceof TimeoutError, `ms=${ms}: got ${e}`);
        assert.ok(scope.expired());
        assert.equal(scope.when(), t0 + ms);
        assert.equal(now(), t0);
      }
    });
  });

  it("a foreign error passes through unchanged and the scope is not expired (foreign_exception_passed)", async () => {
    await virtual(function* () {
      let scope!: TimeoutScope;
      const boom = new RangeError("key");
      const e = yield* catching(timeout(10, function* (s) {
        scope = s;
        throw boom;
      }));
      assert.equal(e, boom);
      assert.equal(scope.expired(), false);
    });
  });

  it("a foreign error raised while handling the expiry passes through (foreign_exception_on_timeout)", async () => {
    await virtual(function* () {
      const e = yield* catching(timeout(10, function* () {
        try {
          yield* sleep(1000);
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new RangeError("1/0");
        }
      }));
      assert.ok(e instanceof RangeError && e.message === "1/0", `got ${e}`);
    });
  });

  it("a cancellation from elsewhere is not a timeout while the scope has not expired (foreign_cancel_doesnt_timeout_if_not_expired)", async () => {
    await virtual(function* () {
      let scope!: TimeoutScope;
      const e = yield* catching(timeout(10_000, function* (s) {
        scope = s;
        currentTask()!.cancel("not a timeout");
        yield* sleep(10_000);
      }));
      assert.ok(e instanceof CancelledError && e.message === "not a timeout", `got ${e}`);
      assert.equal(scope.expired(), false);
    });
  });

  it("the task around an expired scope is not left cancelled (outer_task_is_not_cancelled)", async () => {
    await virtual(function* () {
      const outer = spawn(function* () {
        const e = yield* catching(timeout(1, function* () {
          yield* sleep(10_000);
        }));
        assert.ok(e instanceof TimeoutError);
        assert.equal(currentTask()!.cancelling(), 0);
        yield* sleep(5); // would raise if a cancellation were left pending
        return "carried on";
      });
      assert.equal(yield* outer, "carried on");
      assert.equal(outer.cancelled(), false);
    });
  });

  it("an outer scope that expires while the inner one still runs: the inner sees CancelledError, the outer raises TimeoutError (nested_timeouts_concurrent)", async () => {
    await virtual(function* () {
      let inner: unknown;
      const e = yield* catching(timeout(2, function* () {
        try {
          yield* timeout(100, function* () {
            yield* sleep(1000);
          });
        } catch (err) {
          inner = err;
          throw err;
        }
      }));
      assert.ok(inner instanceof CancelledError, `inner got ${inner}`);
      assert.ok(e instanceof TimeoutError, `outer got ${e}`);
      assert.equal(now(), 2);
    });
  });

  it("an inner scope that expires first raises TimeoutError, and the outer one later interrupts the next wait (nested_timeouts_loop_busy)", async () => {
    await virtual(function* () {
      const e = yield* catching(timeout(100, function* () {
        const inner = yield* catching(timeout(10, function* () {
          yield* sleep(1000);
        }));
        assert.ok(inner instanceof TimeoutError, `inner got ${inner}`);
        assert.equal(now(), 10);
        yield* sleep(10_000); // interrupted by the outer scope
      }));
      assert.ok(e instanceof TimeoutError);
      assert.equal(now(), 100);
    });
  });

  it("an inner TimeoutError that the outer body lets through is a foreign error to the outer scope, which did not expire", async () => {
    await virtual(function* () {
      let inner: unknown;
      let outer!: TimeoutScope;
      const e = yield* catching(timeout(10, function* (s) {
        outer = s;
        try {
          yield* timeout(5, function* () {
            yield* sleep(10_000);
          });
        } catch (err) {
          inner = err;
          throw err;
        }
      }));
      assert.ok(inner instanceof TimeoutError, `inner got ${inner}`);
      assert.equal(e, inner);
      assert.equal(outer.expired(), false);
      assert.equal(now(), 5);
    });
  });

  it("reschedule() moves or removes the deadline, from inside or outside the body (reschedule)", async () => {
    await virtual(function* () {
      const fut = new Future<TimeoutScope>();
      const deadline1 = now() + 10;
      const deadline2 = deadline1 + 20;
      const task = timeoutAt(deadline1, function* (scope) {
        fut.setResult(scope);
        yield* sleep(50);
      });
      const cm = yield* fut;
      assert.equal(cm.when(), deadline1);
      cm.reschedule(deadline2);
      assert.equal(cm.when(), deadline2);
      cm.reschedule(null);
      assert.equal(cm.when(), null);
      yield* sleep(40); // past both deadlines: nothing fires
      assert.equal(cm.expired(), false);
      task.cancel();
      assert.ok((yield* catching(task)) instanceof CancelledError);
      assert.equal(cm.expired(), false);
    });
  });

  it("reschedule() to a later deadline lets the body finish; to an earlier one expires it sooner", async () => {
    await virtual(function* () {
      const r = yield* timeout(100, function* (scope) {
        yield* sleep(80);
        scope.reschedule(now() + 100);
        yield* sleep(80);
        return now();
      });
      assert.equal(r, 160);
      const t0 = now();
      const e = yield* catching(timeout(100, function* (scope) {
        scope.reschedule(now() + 10);
        yield* sleep(80);
      }));
      assert.ok(e instanceof TimeoutError);
      assert.equal(now() - t0, 10);
    });
  });

  it("the scope describes itself: active with its deadline, expired, finished (repr_active, repr_expired, repr_finished)", async () => {
    await virtual(function* () {
      let s1!: TimeoutScope;
      yield* catching(timeout(10, function* (s) {
        s1 = s;
        assert.equal(String(s), "TimeoutScope<active, when=10>");
        yield* sleep(100);
      }));
      assert.equal(String(s1), "TimeoutScope<expired>");
    });
  });

  it("a timeout nested in the finally block of an expired one works (nested_timeout_in_finally)", async () => {
    await virtual(function* () {
      let innerError: unknown;
      const e = yield* catching(timeout(10, function* () {
        try {
          yield* sleep(1000);
        } finally {
          innerError = yield* catching(timeout(10, function* () {
            yield* sleep(10_000);
          }));
        }
      }));
      assert.ok(innerError instanceof TimeoutError);
      assert.ok(e instanceof TimeoutError);
      assert.equal(now(), 20);
    });
  });

  it("a timeout after the task swallowed a cancellation still times out (timeout_after_cancellation)", async () => {
    await virtual(function* () {
      try {
        currentTask()!.cancel();
        yield* sleep(1000);
      } catch (e) {
        assert.ok(e instanceof CancelledError);
      }
      const e = yield* catching(timeout(0, function* () {
        yield* sleep(1000);
      }));
      assert.ok(e instanceof TimeoutError);
    });
  });

  it("a cancellation inside a scope after the task swallowed one is a cancellation (cancel_in_timeout_after_cancellation)", async () => {
    await virtual(function* () {
      try {
        currentTask()!.cancel();
        yield* sleep(1000);
      } catch (e) {
        assert.ok(e instanceof CancelledError);
      }
      const e = yield* catching(timeout(1000, function* () {
        currentTask()!.cancel();
        yield* sleep(2000);
      }));
      assert.ok(e instanceof CancelledError, `got ${e}`);
    });
  });

  it("the TimeoutError's cause is the CancelledError the body saw (timeout_exception_cause)", async () => {
    await virtual(function* () {
      let seen: unknown;
      const e = yield* catching(timeout(0, function* () {
        try {
          yield* sleep(1000);
        } catch (err) {
          seen = err;
          throw err;
        }
      }));
      assert.ok(e instanceof TimeoutError);
      assert.ok((e as TimeoutError).cause instanceof CancelledError);
      assert.equal((e as TimeoutError).cause, seen);
      assert.match((e as TimeoutError).message, /timeout\(0 ms\) expired/);
    });
  });

  it("reschedule() after the scope finished or expired throws InvalidStateError (timeout_finished)", async () => {
    await virtual(function* () {
      let s!: TimeoutScope;
      yield* timeout(10, function* (scope) {
        s = scope;
      });
      assert.throws(() => s.reschedule(20), (e: Error) => e instanceof InvalidStateError && /finished/.test(e.message));
      yield* catching(timeout(1, function* (scope) {
        s = scope;
        yield* sleep(10);
      }));
      assert.throws(() => s.reschedule(20), (e: Error) => e instanceof InvalidStateError && /expired/.test(e.message));
    });
  });

  it("a body that catches the expiry and returns normally returns its value; expired() tells", async () => {
    await virtual(function* () {
      let scope!: TimeoutScope;
      const r = yield* timeout(10, function* (s) {
        scope = s;
        try {
          yield* sleep(1000);
          return "finished";
        } catch {
          return "gave up";
        }
      });
      assert.equal(r, "gave up");
      assert.ok(scope.expired());
      assert.equal(currentTask()!.cancelling(), 0);
    });
  });

  it("an async body is cancelled through scope.signal; its rejection after the abort becomes TimeoutError", async () => {
    await virtual(function* () {
      const log: string[] = [];
      const e = yield* catching(timeout(50, async (scope) => {
        await new Promise<void>((_, reject) => {
          scope.signal.addEventListener("abort", () => {
            log.push(`aborted at ${now()}`);
            reject(new Error("AbortError-like"));
          });
        });
      }));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.ok((e as TimeoutError).cause instanceof CancelledError);
      assert.deepEqual(log, ["aborted at 50"]);
    });
  });

  it("an async body that ignores its signal is waited for, and its result kept", async () => {
    await virtual(function* () {
      let scope!: TimeoutScope;
      const r = yield* timeout(10, async (s) => {
        scope = s;
        await sleep(30);
        return s.signal.aborted ? "late but done" : "on time";
      });
      assert.equal(r, "late but done");
      assert.ok(scope.expired());
      assert.equal(now(), 30);
    });
  });

  it("a timeout around a task group cancels the group's children and raises TimeoutError", async () => {
    await virtual(function* () {
      let cancelled = 0;
      const e = yield* catching(timeout(100, function* () {
        yield* taskGroup(function* (tg) {
          for (let i = 0; i < 3; i++) {
            tg.spawn(function* () {
              try {
                yield* sleep(10_000);
              } catch (err) {
                cancelled++;
                throw err;
              }
            });
          }
        });
      }));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.equal(cancelled, 3);
      assert.equal(now(), 100);
    });
  });

  it("a timeout inside a task group child is that child's own business", async () => {
    await virtual(function* () {
      const r = yield* taskGroup(function* (tg) {
        const a = tg.spawn(function* () {
          const e = yield* catching(timeout(10, function* () {
            yield* sleep(100);
          }));
          return e instanceof TimeoutError ? "timed out" : "?";
        });
        const b = tg.spawn(function* () {
          yield* sleep(50);
          return "b";
        });
        return [yield* a, yield* b];
      });
      assert.deepEqual(r, ["timed out", "b"]);
    });
  });

  it("an async caller cancels a scope through the signal option: a cancellation, not a timeout", async () => {
    await virtual(async () => {
      const ac = new AbortController();
      const t = timeout(1000, function* () {
        yield* sleep(10_000);
      }, { signal: ac.signal });
      await sleep(10);
      ac.abort("stop");
      await assert.rejects(Promise.resolve(t), (e: Error) => e instanceof CancelledError && e.message === "stop");
    });
  });

  it("bad input: NaN is a RangeError, a non-number limit or a non-function body a TypeError (the rule of every duration)", async () => {
    await virtual(function* () {
      assert.throws(() => timeout(NaN, function* () {}), (e: Error) => e instanceof RangeError && /timeout\(\): ms must be a number of milliseconds \(or null for none\), got number NaN/.test(e.message));
      assert.throws(() => timeoutAt("soon" as never, function* () {}), (e: Error) => e instanceof TypeError && /string "soon"/.test(e.message));
      assert.throws(() => timeout(undefined as never, function* () {}), TypeError);
      assert.throws(() => timeout(10, null as never), (e: Error) => e instanceof TypeError && /got null/.test(e.message));
      const e = yield* catching(timeout(10, function* (scope) {
        scope.reschedule(NaN);
      }));
      assert.ok(e instanceof RangeError && /reschedule\(\): when must be/.test(e.message), `got ${e}`);
    });
  });

  it("timeout() outside a running loop says so", () => {
    assert.throws(() => timeout(10, function* () {}), /no running loop/);
  });
});

describe("waitFor", () => {
  it("returns the result when the awaitable finishes in time", async () => {
    await virtual(function* () {
      assert.equal(yield* waitFor(sleep(10, "quick"), 100), "quick");
      function* child(): Coroutine<number> {
        yield* sleep(5);
        return 7;
      }
      assert.equal(yield* waitFor(child(), 100), 7);
      assert.equal(yield* waitFor(Promise.resolve("p"), 100), "p");
      assert.equal(yield* waitFor(sleep(10, "no limit"), null), "no limit");
    });
  });

  it("on expiry cancels the awaitable, waits for it, and raises TimeoutError", async () => {
    await virtual(function* () {
      const log: string[] = [];
      const child = spawn(function* () {
        try {
          yield* sleep(1000);
        } catch (e) {
          log.push(`cancelled at ${now()}`);
          yield* sleep(20); // clean-up: waitFor waits for it
          log.push(`cleaned at ${now()}`);
          throw e;
        }
      });
      const e = yield* catching(waitFor(child, 100));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.ok(child.cancelled());
      assert.deepEqual(log, ["cancelled at 100", "cleaned at 120"]);
      assert.equal(now(), 120);
    });
  });

  it("an awaitable that refuses the cancellation and finishes gives its result", async () => {
    await virtual(function* () {
      const stubborn = spawn(function* () {
        try {
          yield* sleep(1000);
        } catch {
          return "refused";
        }
        return "finished";
      });
      assert.equal(yield* waitFor(stubborn, 10), "refused");
    });
  });

  it("a limit of 0 on an awaitable already done returns its result", async () => {
    await virtual(function* () {
      const f = new Future<number>();
      f.setResult(5);
      assert.equal(yield* waitFor(f, 0), 5);
      const e = yield* catching(waitFor(sleep(1, 1), 0));
      assert.ok(e instanceof TimeoutError);
    });
  });

  it("cancelling the waiter cancels the awaitable too (a cancellation, not a timeout)", async () => {
    await virtual(function* () {
      const inner = spawn(function* () {
        yield* sleep(1000);
      });
      const w = waitFor(inner, 500);
      yield* sleep(10);
      w.cancel("stop");
      const e = yield* catching(w);
      assert.ok(e instanceof CancelledError && e.message === "stop", `got ${e}`);
      assert.ok(inner.cancelled());
    });
  });

  it("bad input: NaN limit is a RangeError, a non-awaitable a TypeError naming it", async () => {
    await virtual(function* () {
      assert.throws(() => waitFor(sleep(1), NaN), RangeError);
      assert.throws(() => waitFor(42 as never, 10), (e: Error) => e instanceof TypeError && /got number 42/.test(e.message));
      assert.throws(() => waitFor((function* () {}) as never, 10), (e: Error) => e instanceof TypeError && /call it first/.test(e.message));
    });
  });

  it("a group error inside waitFor passes through as it is", async () => {
    await virtual(function* () {
      const e = yield* catching(waitFor(taskGroup(function* (tg) {
        tg.spawn(function* () {
          yield* sleep(1);
          throw new RangeError("x");
        });
      }), 100));
      assert.ok(e instanceof TaskGroupError);
    });
  });
});
