import assert from "node:assert/strict";
import {
  CancelledError,
  currentTask,
  Future,
  InvalidStateError,
  run,
  sleep,
  spawn,
  type Task,
  until,
  yieldNow,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Task: running coroutines", () => {
  it("a task runs its coroutine and resolves to its return value", async () => {
    const v = await run(function* () {
      const t = spawn(function* () {
        yield* sleep(10);
        return "done";
      });
      return yield* t;
    }, virtual);
    assert.equal(v, "done");
  });

  it("spawn takes a generator object, a generator function and an async function", async () => {
    function* child(n: number) {
      yield* sleep(n);
      return n;
    }
    const got = await run(function* () {
      const a = spawn(child(5));
      const b = spawn(function* () {
        yield* sleep(1);
        return 6;
      });
      const c = spawn(async () => {
        await sleep(3);
        return 7;
      });
      return [yield* a, yield* b, yield* c];
    }, virtual);
    assert.deepEqual(got, [5, 6, 7]);
  });

  it("tasks sleeping concurrently overlap: two 2 s jobs take 2 s, not 4", async () => {
    const elapsed = await run(function* () {
      const loop = currentTask()!.getLoop()!;
      const t0 = loop.time();
      const a = spawn(function* () {
        yield* sleep(2_000);
      });
      const b = spawn(function* () {
        yield* sleep(2_000);
      });
      yield* a;
      yield* b;
      return loop.time() - t0;
    }, virtual);
    assert.equal(elapsed, 2_000);
  });

  it("a task's exception propagates to whoever waits on it, unchanged", async () => {
    class Boom extends Error {
      override name = "Boom";
    }
    const err = await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1);
        throw new Boom("kaput");
      });
      try {
        yield* t;
      } catch (e) {
        return e;
      }
    }, virtual);
    assert.ok(err instanceof Boom);
    assert.equal((err as Error).message, "kaput");
  });

  it("a bare yield lets every other ready task run once before continuing", async () => {
    const order: string[] = [];
    await run(function* () {
      spawn(function* () {
        order.push("a1");
        yield;
        order.push("a2");
      });
      spawn(function* () {
        order.push("b1");
        yield* yieldNow();
        order.push("b2");
      });
      yield;
      order.push("main");
      yield* sleep(0);
    }, virtual);
    assert.deepEqual(order, ["a1", "b1", "main", "a2", "b2"]);
  });

  it("a task is scheduled, not run, by spawn: its body starts on the next turn", async () => {
    const order: string[] = [];
    await run(function* () {
      const t = spawn(function* () {
        order.push("child");
      });
      order.push("after spawn");
      yield* t;
    }, virtual);
    assert.deepEqual(order, ["after spawn", "child"]);
  });

  it("names default to Task-N and can be given", async () => {
    await run(function* () {
      const t = spawn(function* () {}, { name: "fetcher" });
      const u = spawn(function* () {});
      assert.equal(t.name, "fetcher");
      assert.match(u.name, /^Task-\d+$/);
      assert.equal(currentTask()!.name, "main");
      assert.equal(String(t), "Task<fetcher, pending>");
      yield* t;
      yield* u;
      assert.equal(String(t), "Task<fetcher, finished>");
    }, virtual);
  });

  it("currentTask is the stepping task inside generator tasks and undefined outside", async () => {
    assert.equal(currentTask(), undefined);
    await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1);
        return currentTask();
      });
      assert.equal(yield* t, t);
    }, virtual);
    assert.equal(currentTask(), undefined);
  });

  it("`yield future` without the star is an error thrown into the coroutine", async () => {
    const e = await run(function* () {
      try {
        yield sleep(5);
      } catch (e) {
        return e;
      }
    }, virtual);
    assert.ok(e instanceof TypeError);
    assert.match((e as Error).message, /`yield` was used instead of `yield\*`/);
  });

  it("yielding something that is not a future is an error thrown into the coroutine", async () => {
    const e = await run(function* () {
      try {
        yield Promise.resolve(1) as never;
      } catch (e) {
        return e;
      }
    }, virtual);
    assert.ok(e instanceof TypeError);
    assert.match((e as Error).message, /yielded Promise object.*yield\* until\(promise\)/);
  });

  it("a task cannot wait on itself", async () => {
    const e = await run(function* () {
      const self = currentTask() as Task<unknown>;
      try {
        yield* self;
      } catch (e) {
        return e;
      }
    }, virtual);
    assert.ok(e instanceof InvalidStateError);
  });

  it("setResult and setException are refused on a task", async () => {
    await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1);
      });
      assert.throws(() => t.setResult(undefined), InvalidStateError);
      assert.throws(() => t.setException(new Error()), InvalidStateError);
      yield* t;
    }, virtual);
  });
});

describe("Task: cancellation (asyncio semantics)", () => {
  it("a task cancelled before its first step never runs its body", async () => {
    let ran = false;
    let asyncRan = false;
    await run(function* () {
      const t = spawn(function* () {
        ran = true;
      });
      const u = spawn(async () => {
        asyncRan = true;
      });
      assert.equal(t.cancel(), true);
      assert.equal(u.cancel(), true);
      yield* sleep(1);
      assert.equal(t.cancelled(), true);
      assert.equal(u.cancelled(), true);
    }, virtual);
    assert.equal(ran, false);
    assert.equal(asyncRan, false);
  });

  it("cancel(msg) delivers CancelledError with msg at the suspension point", async () => {
    const seen: string[] = [];
    await run(function* () {
      const t = spawn(function* () {
        try {
          yield* sleep(10_000);
          seen.push("not reached");
        } catch (e) {
          seen.push(`${(e as Error).name}:${(e as Error).message}`);
          throw e;
        }
      });
      yield* sleep(10);
      t.cancel("enough");
      try {
        yield* t;
      } catch (e) {
        seen.push(`waiter:${(e as Error).message}`);
      }
      assert.equal(t.cancelled(), true);
      assert.throws(() => t.result(), (e: Error) => e instanceof CancelledError && e.message === "enough");
    }, virtual);
    assert.deepEqual(seen, ["CancelledError:enough", "waiter:enough"]);
  });

  it("a cancelled coroutine may clean up with further yield* before it ends", async () => {
    const seen: string[] = [];
    await run(function* () {
      const loop = currentTask()!.getLoop()!;
      const t = spawn(function* () {
        try {
          yield* sleep(10_000);
        } finally {
          yield* sleep(500);
          seen.push(`cleaned up at ${loop.time()}`);
        }
      });
      yield* sleep(100);
      t.cancel();
      yield* until(t.then(() => {}, () => {}));
      seen.push(`task ended at ${loop.time()}, cancelled=${t.cancelled()}`);
    }, virtual);
    assert.deepEqual(seen, ["cleaned up at 600", "task ended at 600, cancelled=true"]);
  });

  it("a coroutine that suppresses CancelledError finishes normally", async () => {
    await run(function* () {
      const t = spawn(function* () {
        try {
          yield* sleep(10_000);
        } catch (e) {
          if (!(e instanceof CancelledError)) throw e;
        }
        return "survived";
      });
      yield* sleep(1);
      t.cancel();
      assert.equal(yield* t, "survived");
      assert.equal(t.cancelled(), false);
      assert.equal(t.cancelling(), 1, "the request is still counted");
    }, virtual);
  });

  it("cancelling a task that waits on a child cancels the child, and both end cancelled", async () => {
    await run(function* () {
      let child!: Task<void>;
      const parent = spawn(function* () {
        child = spawn(function* () {
          yield* sleep(10_000);
        });
        yield* child;
      });
      yield* sleep(5);
      parent.cancel("from above");
      yield* until(parent.then(() => {}, () => {}));
      assert.equal(child.cancelled(), true);
      assert.equal(parent.cancelled(), true);
      assert.throws(() => parent.result(), /from above/);
    }, virtual);
  });

  it("if the awaited child swallows the cancellation, the parent goes on with its result", async () => {
    await run(function* () {
      const parent = spawn(function* () {
        const child = spawn(function* () {
          try {
            yield* sleep(10_000);
          } catch {
            return "child swallowed it";
          }
          return "slept";
        });
        return yield* child;
      });
      yield* sleep(5);
      parent.cancel();
      assert.equal(yield* parent, "child swallowed it");
    }, virtual);
  });

  it("cancelling() counts requests, uncancel() withdraws them, cancel() of a done task is false", async () => {
    await run(function* () {
      const t = spawn(function* () {
        for (;;) {
          try {
            yield* sleep(1_000);
            return "woke";
          } catch (e) {
            if (!(e instanceof CancelledError)) throw e;
            currentTask()!.uncancel();
          }
        }
      });
      yield* sleep(1);
      assert.equal(t.cancel(), true);
      assert.equal(t.cancel(), true);
      assert.equal(t.cancelling(), 2);
      yield* sleep(1);
      assert.equal(t.cancelling(), 1, "the task withdrew one request");
      assert.equal(yield* t, "woke");
      assert.equal(t.cancel(), false);
    }, virtual);
  });

  it("a task that cancels itself gets CancelledError at its next yield*", async () => {
    await run(function* () {
      const t = spawn(function* () {
        currentTask()!.cancel("self");
        yield* sleep(10);
        return "unreachable";
      });
      yield* until(t.then(() => {}, () => {}));
      assert.equal(t.cancelled(), true);
      assert.throws(() => t.result(), /self/);
    }, virtual);
  });

  it("a task cancelled during its last step ends cancelled, not finished", async () => {
    await run(function* () {
      const t = spawn(function* () {
        currentTask()!.cancel("late");
        return 5;
      });
      yield* until(t.then(() => {}, () => {}));
      assert.equal(t.cancelled(), true);
    }, virtual);
  });

  it("the task's signal is aborted with the CancelledError when cancellation is requested", async () => {
    await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1_000);
      });
      const signal = t.signal;
      assert.equal(signal.aborted, false);
      t.cancel("stop");
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof CancelledError);
      assert.equal(signal.reason.message, "stop");
      yield* until(t.then(() => {}, () => {}));
    }, virtual);
  });

  it("after uncancel() brings cancelling() to 0 the task gets a fresh signal", async () => {
    await run(function* () {
      const me = currentTask()!;
      const first = me.signal;
      me.cancel();
      assert.equal(first.aborted, true);
      me.uncancel();
      assert.equal(me.signal.aborted, false);
      yield* sleep(1);
    }, virtual);
  });

  it("an async task is cancelled through its signal and counts as cancelled when it rejects", async () => {
    await run(function* () {
      let sawAbort = false;
      const t = spawn(async (signal) => {
        await new Promise<void>((_, reject) => {
          signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(new Error("aborted by signal"));
          });
        });
      });
      yield* sleep(5);
      t.cancel("go away");
      yield* until(t.then(() => {}, () => {}));
      assert.equal(sawAbort, true);
      assert.equal(t.cancelled(), true);
      assert.throws(() => t.result(), (e: Error) => e instanceof CancelledError && e.message === "go away");
    }, virtual);
  });

  it("an async task that ignores its signal and resolves keeps its result", async () => {
    await run(function* () {
      const t = spawn(async () => {
        await sleep(10);
        return "ignored the signal";
      });
      yield* sleep(1);
      t.cancel();
      assert.equal(yield* t, "ignored the signal");
    }, virtual);
  });

  it("an async task that awaits a cancelled future ends cancelled", async () => {
    await run(function* () {
      const t = spawn(async () => {
        const f = new Future<number>();
        f.cancel("inner");
        return await f;
      });
      yield* until(t.then(() => {}, () => {}));
      assert.equal(t.cancelled(), true);
    }, virtual);
  });
});

describe("Task: a generator function body", () => {
  it("is called at the task's first step: a task cancelled before it never calls it, and a throwing default fails the task", async () => {
    await run(function* () {
      const calls: string[] = [];
      const note = (s: string) => (calls.push(s), s);
      function* body(tag = note("called")) {
        yield* sleep(1);
        return tag;
      }
      const cancelled = spawn(body);
      const ran = spawn(body);
      assert.deepEqual(calls, []); // spawn() itself calls nothing
      cancelled.cancel();
      assert.equal(yield* ran, "called");
      assert.deepEqual(calls, ["called"]); // only the task that ran
      assert.equal(cancelled.cancelled(), true);
      function* broken(x: number = (() => { throw new RangeError("bad default"); })()) {
        return x;
      }
      const e = yield* until(Promise.resolve(spawn(broken)).catch((x: unknown) => x));
      assert.ok(e instanceof RangeError && e.message === "bad default", `got ${String(e)}`);
    }, virtual);
  });
});

describe("Task: a function that returns a future", () => {
  it("the task follows the future: its result, its failure (retrieved once), its cancellation", async () => {
    await run(function* () {
      const ok = new Future<number>();
      const bad = new Future<number>();
      const gone = new Future<number>();
      const a = spawn(() => ok);
      const b = spawn(() => bad);
      const c = spawn(() => gone);
      yield* sleep(1);
      ok.setResult(7);
      bad.setException(new RangeError("no"));
      gone.cancel("went away");
      assert.equal(yield* a, 7);
      const e = yield* until(Promise.resolve(b).catch((x: unknown) => x));
      assert.ok(e instanceof RangeError);
      assert.equal((e as Error).message, "no");
      yield* until(Promise.resolve(c).catch(() => {}));
      assert.equal(c.cancelled(), true);
      assert.throws(() => c.result(), (x: unknown) => x instanceof CancelledError && x.message === "went away");
    }, virtual);
  });

  it("cancelling the task cancels the future it follows, with the message", async () => {
    await run(function* () {
      const f = new Future<number>();
      const t = spawn(() => f);
      yield* sleep(1);
      assert.equal(t.cancel("stop"), true);
      assert.equal(f.cancelled(), true);
      yield* until(Promise.resolve(t).catch(() => {}));
      assert.equal(t.cancelled(), true);
      assert.throws(() => t.result(), (x: unknown) => x instanceof CancelledError && x.message === "stop");
    }, virtual);
  });

  it("a cancel that reaches a future already done still cancels the task (asyncio: the request wins)", async () => {
    await run(function* () {
      const f = new Future<number>();
      const t = spawn(() => f);
      yield* sleep(1);
      f.setResult(1); // the task is woken, but has not stepped yet
      assert.equal(t.cancel("late"), true);
      yield* until(Promise.resolve(t).catch(() => {}));
      assert.equal(t.cancelled(), true);
    }, virtual);
  });

  it("a future that is already done when returned settles the task on its first step", async () => {
    await run(function* () {
      const f = new Future<string>();
      f.setResult("ready");
      assert.equal(yield* spawn(() => f), "ready");
      const self: { t?: Task<unknown> } = {};
      const t = spawn(() => self.t!);
      self.t = t;
      const e = yield* until(Promise.resolve(t).catch((x: unknown) => x));
      assert.ok(e instanceof InvalidStateError, `got ${String(e)}`);
    }, virtual);
  });
});

describe("Task: bad input", () => {
  it("spawning something that is not a coroutine or function throws TypeError naming it", async () => {
    await run(function* () {
      assert.throws(() => spawn(42 as never), /spawn\(\) expects a generator object, a generator function or a function \(signal\) => Promise; got number 42/);
      assert.throws(() => spawn(null as never), /got null/);
      assert.throws(() => spawn({ then: 1 } as never), /got Object object/);
      assert.throws(() => spawn(new Future() as never), /spawn\(\) got a Future/);
      assert.throws(() => spawn(function* () {}, { name: 5 as never }), /task name must be a string, got number 5/);
    }, virtual);
  });

  it("a task function that returns neither a promise nor a generator fails the task clearly", async () => {
    await run(function* () {
      const t = spawn((() => 5) as never);
      yield* until(t.then(() => {}, () => {}));
      assert.match(String(t.exception()), /its function returned number 5; a task function must return a promise/);
    }, virtual);
  });

  it("spawn outside a running loop throws", () => {
    assert.throws(() => spawn(function* () {}), /no running loop/);
  });
});

describe("until", () => {
  it("until(promise) settles as the promise does", async () => {
    await run(function* () {
      assert.equal(yield* until(Promise.resolve(3)), 3);
      const err = new Error("rejected");
      try {
        yield* until(Promise.reject(err));
        assert.fail("should have thrown");
      } catch (e) {
        assert.equal(e, err);
      }
    }, virtual);
  });

  it("cancelling a task waiting in until() stops the wait at once", async () => {
    await run(function* () {
      const never = new Promise<void>(() => {});
      const t = spawn(function* () {
        yield* until(never);
      });
      yield* sleep(1);
      t.cancel();
      yield* until(t.then(() => {}, () => {}));
      assert.equal(t.cancelled(), true);
    }, virtual);
  });

  it("until() of something that is not a promise throws TypeError", () => {
    assert.throws(() => until(5 as never), /until\(\) expects a promise or thenable, got number 5/);
  });
});

describe("sleep", () => {
  it("sleep resolves to its value after the delay", async () => {
    await run(function* () {
      const loop = currentTask()!.getLoop()!;
      const v: string = yield* sleep(250, "v");
      assert.equal(v, "v");
      assert.equal(loop.time(), 250);
    }, virtual);
  });

  it("sleep with a negative or NaN delay throws RangeError", async () => {
    await run(function* () {
      assert.throws(() => sleep(-1), /sleep\(\): ms must be a finite number of milliseconds >= 0, got number -1/);
      assert.throws(() => sleep(NaN), /got number NaN/);
    }, virtual);
  });
});
