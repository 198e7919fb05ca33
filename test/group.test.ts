import assert from "node:assert/strict";
import {
  CancelledError,
  type Coroutine,
  allTasks,
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
  TimeoutError,
} from "../mod.ts";
import { catching } from "./expect.ts";
import { describe, it } from "./harness.ts";

const virtual = <T>(main: () => Coroutine<T> | Promise<T>): Promise<T> =>
  run(main as () => Coroutine<T>, { clock: "virtual" });

class MyError extends Error {
  override name = "MyError";
}

function* after<T>(ms: number, value: T): Coroutine<T> {
  yield* sleep(ms);
  return value;
}

function* crashAfter(ms: number, error: unknown = new RangeError(`crash at ${ms}`)): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

function* catchingAny(t: Task<unknown>): Coroutine<unknown> {
  try {
    return yield* t;
  } catch (e) {
    return e;
  }
}

function errorTypes(e: unknown): string[] {
  assert.ok(e instanceof TaskGroupError, `expected a TaskGroupError, got ${e}`);
  return [...new Set(e.errors.map((x) => (x as Error).name))].sort();
}

describe("taskGroup", () => {
  it("ends when the body and every child have ended, with the body's result (taskgroup_01)", async () => {
    const out = await virtual(function* () {
      let t1!: Task<number>, t2!: Task<number>;
      const r = yield* taskGroup(function* (tg) {
        t1 = tg.spawn(after(100, 42));
        t2 = tg.spawn(after(200, 11));
        return "body";
      });
      return [r, t1.result(), t2.result(), getRunningLoop().time()];
    });
    assert.deepEqual(out, ["body", 42, 11, 200]);
  });

  it("children spawned later in the body are waited for too (taskgroup_02)", async () => {
    const out = await virtual(function* () {
      let t2!: Task<number>;
      yield* taskGroup(function* (tg) {
        tg.spawn(after(100, 42));
        yield* sleep(150);
        t2 = tg.spawn(after(200, 11));
      });
      return [t2.result(), getRunningLoop().time()];
    });
    assert.deepEqual(out, [11, 350]);
  });

  it("a child cancelled explicitly is not a failure: the others go on (taskgroup_03)", async () => {
    await virtual(function* () {
      let t1!: Task<number>, t2!: Task<number>;
      yield* taskGroup(function* (tg) {
        t1 = tg.spawn(after(1000, 42));
        yield* sleep(150);
        t1.cancel();
        t2 = tg.spawn(after(200, 11));
      });
      assert.equal(t1.cancelled(), true);
      assert.equal(t2.result(), 11);
    });
  });

  it("the first child failure cancels the siblings and the body, then raises TaskGroupError (taskgroup_04, cancel_children_on_child_error)", async () => {
    await virtual(function* () {
      let siblingCancelled = false;
      let bodyCancelled = false;
      let afterBody = false;
      let sibling!: Task<void>;
      const group = taskGroup(function* (tg) {
        tg.spawn(crashAfter(100));
        tg.spawn(crashAfter(100));
        sibling = tg.spawn(function* () {
          try {
            yield* sleep(5000);
          } catch (e) {
            siblingCancelled = e instanceof CancelledError;
            throw e;
          }
        });
        try {
          yield* sleep(10_000);
        } catch (e) {
          bodyCancelled = e instanceof CancelledError;
          throw e;
        }
        afterBody = true;
      });
      const e = yield* catching(group);
      assert.deepEqual(errorTypes(e), ["RangeError"]);
      assert.equal((e as TaskGroupError).errors.length, 2, "both crashes of the same turn are kept");
      assert.ok(siblingCancelled && sibling.cancelled());
      assert.ok(bodyCancelled);
      assert.equal(afterBody, false);
      assert.equal(getRunningLoop().time(), 100);
    });
  });

  it("TaskGroupError is an AggregateError named TaskGroupError whose message lists the errors", async () => {
    const e = new TaskGroupError([new RangeError("a"), new TypeError("b")]);
    assert.ok(e instanceof AggregateError);
    assert.equal(e.name, "TaskGroupError");
    assert.match(e.message, /2 sub-errors\): RangeError: a; TypeError: b/);
    assert.equal(e.errors.length, 2);
  });

  it("external cancellation cancels every child and propagates CancelledError unwrapped, with its message (cancellation)", async () => {
    await virtual(function* () {
      let cancelledChildren = 0;
      const runner = spawn(function* () {
        yield* taskGroup(function* (tg) {
          for (let i = 0; i < 5; i++) {
            tg.spawn(function* () {
              try {
                yield* sleep(5000);
              } catch (e) {
                cancelledChildren++;
                throw e;
              }
            });
          }
        });
      });
      yield* sleep(100);
      assert.equal(runner.done(), false);
      runner.cancel("test");
      const e = yield* catching(runner);
      assert.ok(e instanceof CancelledError, `got ${e}`);
      assert.equal((e as CancelledError).message, "test");
      assert.equal(runner.cancelled(), true);
      assert.equal(cancelledChildren, 5);
    });
  });

  it("external cancellation reaches the body as well as the children (taskgroup_07)", async () => {
    await virtual(function* () {
      let n = 0;
      const runner = spawn(function* () {
        yield* taskGroup(function* (tg) {
          for (let i = 0; i < 5; i++) {
            tg.spawn(function* () {
              try {
                yield* sleep(5000);
              } catch (e) {
                n += 1;
                throw e;
              }
            });
          }
          try {
            yield* sleep(10_000);
          } catch (e) {
            n += 10;
            throw e;
          }
        });
      });
      yield* sleep(100);
      runner.cancel();
      assert.ok((yield* catching(runner)) instanceof CancelledError);
      assert.equal(n, 15);
    });
  });

  it("an external cancellation that coincides with child failures still ends as CancelledError (cancellation_in_body)", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* (tg) {
          for (let i = 0; i < 5; i++) tg.spawn(crashAfter(101));
          yield* sleep(10_000);
        });
      });
      yield* sleep(100);
      assert.equal(runner.done(), false);
      runner.cancel("test");
      const e = yield* catching(runner);
      assert.ok(e instanceof CancelledError, `got ${e}`);
      assert.equal((e as CancelledError).message, "test");
    });
  });

  it("an error in the body cancels the children and is raised in a TaskGroupError (taskgroup_09, taskgroup_10)", async () => {
    await virtual(function* () {
      for (const wait of [true, false]) {
        let t1!: Task<number>, t2!: Task<number>;
        const e = yield* catching(taskGroup(function* (tg) {
          t1 = tg.spawn(after(1000, 42));
          t2 = tg.spawn(after(2000, 11));
          if (wait) yield* sleep(100);
          throw new MyError("body");
        }));
        assert.deepEqual(errorTypes(e), ["MyError"]);
        assert.ok(t1.cancelled() && t2.cancelled());
      }
    });
  });

  it("nested groups: cancelling the outer cancels the inner group's children too (taskgroup_11, taskgroup_12)", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* (g1) {
          g1.spawn(after(10_000, 0));
          yield* taskGroup(function* (g2) {
            for (let i = 0; i < 5; i++) g2.spawn(crashAfter(101));
            yield* sleep(10_000);
          });
        });
      });
      yield* sleep(100);
      runner.cancel();
      assert.ok((yield* catching(runner)) instanceof CancelledError);
    });
  });

  it("nested groups nest their errors: an inner failure appears as a TaskGroupError inside the outer one (taskgroup_13, taskgroup_14)", async () => {
    await virtual(function* () {
      const e13 = yield* catching(taskGroup(function* (g1) {
        g1.spawn(crashAfter(100, new MyError("outer child")));
        yield* taskGroup(function* (g2) {
          g2.spawn(crashAfter(10_000));
        });
      }));
      assert.deepEqual(errorTypes(e13), ["MyError"], "the inner group was only cancelled");

      const e14 = yield* catching(taskGroup(function* (g1) {
        g1.spawn(crashAfter(10_000));
        yield* taskGroup(function* (g2) {
          g2.spawn(crashAfter(100, new MyError("inner child")));
        });
      }));
      assert.deepEqual(errorTypes(e14), ["TaskGroupError"]);
      assert.deepEqual(errorTypes((e14 as TaskGroupError).errors[0]), ["MyError"]);
    });
  });

  it("a child failure during the body's clean-up after an external cancellation is not swallowed: errors take priority (taskgroup_15, taskgroup_16)", async () => {
    await virtual(function* () {
      for (const nested of [false, true]) {
        const group = function* (): Coroutine<void> {
          yield* taskGroup(function* (g1) {
            g1.spawn(crashAfter(300));
            try {
              yield* sleep(10_000);
            } catch (e) {
              yield* sleep(500); // the child crashes meanwhile, at 300
              throw e;
            }
          });
        };
        const t0 = getRunningLoop().time();
        const runner = spawn(nested ? function* () { yield* spawn(group()); } : group);
        yield* sleep(100);
        runner.cancel();
        const e = yield* catching(runner);
        assert.deepEqual(errorTypes(e), ["RangeError"], `nested=${nested}`);
        assert.equal(getRunningLoop().time() - t0, 300, "the crash also cut the clean-up short");
      }
    });
  });

  it("a body whose clean-up outlasts no failure ends cancelled after an external cancellation (taskgroup_15 without the crash)", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* (g1) {
          g1.spawn(after(10_000, 0));
          try {
            yield* sleep(10_000);
          } catch (e) {
            yield* sleep(500);
            throw e;
          }
        });
      });
      yield* sleep(100);
      runner.cancel("bye");
      const e = yield* catching(runner);
      assert.ok(e instanceof CancelledError && e.message === "bye", `got ${e}`);
      assert.equal(getRunningLoop().time(), 600);
    });
  });

  it("child errors take priority over a simultaneous external cancellation", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* (tg) {
          for (let i = 0; i < 3; i++) tg.spawn(crashAfter(100));
          yield* sleep(10_000);
        });
      });
      yield* sleep(100); // the crashes and the cancel happen in the same loop turn
      runner.cancel("test");
      const e = yield* catching(runner);
      assert.deepEqual(errorTypes(e), ["RangeError"]);
    });
  });

  it("tg.cancel() stops every child and the body, and the group ends normally", async () => {
    const out = await virtual(function* () {
      const winner = yield* taskGroup(function* (tg) {
        let first: string | undefined;
        for (const [name, ms] of [["slow", 300], ["fast", 100], ["middle", 200]] as const) {
          tg.spawn(function* () {
            yield* sleep(ms);
            first ??= name;
            tg.cancel();
          });
        }
        try {
          yield* sleep(10_000);
        } catch (e) {
          assert.ok(e instanceof CancelledError);
        }
        return first;
      });
      return [winner, getRunningLoop().time(), currentTask()!.cancelling()];
    });
    assert.deepEqual(out, ["fast", 100, 0]);
  });

  it("an external cancellation during the wait after tg.cancel() is not dropped (gh-155433)", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* (tg) {
          tg.spawn(function* () {
            try {
              yield* sleep(10_000);
            } catch {
              yield* sleep(100); // slow clean-up: the group waits for it
            }
          });
          yield* sleep(10);
          tg.cancel();
        });
      });
      yield* sleep(50);
      runner.cancel("outside");
      const e = yield* catching(runner);
      assert.ok(e instanceof CancelledError && e.message === "outside", `got ${e}`);
    });
  });

  it("a group with no children is cancelled like its body (taskgroup_17)", async () => {
    await virtual(function* () {
      let n = 0;
      const runner = spawn(function* () {
        yield* taskGroup(function* () {
          try {
            yield* sleep(10_000);
          } catch (e) {
            n += 10;
            throw e;
          }
        });
      });
      yield* sleep(100);
      runner.cancel();
      assert.ok((yield* catching(runner)) instanceof CancelledError);
      assert.equal(n, 10);
    });
  });

  it("a body that turns its cancellation into an error yields a group error (taskgroup_18)", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* () {
          try {
            yield* sleep(10_000);
          } catch {
            throw new MyError("instead of the cancellation");
          }
        });
      });
      yield* sleep(100);
      runner.cancel();
      const e = yield* catching(runner);
      assert.deepEqual(errorTypes(e), ["MyError"]);
      assert.equal(runner.cancelled(), false);
    });
  });

  it("an error raised by the body while being cancelled joins the child's error (taskgroup_19)", async () => {
    await virtual(function* () {
      const e = yield* catching(taskGroup(function* (tg) {
        tg.spawn(crashAfter(100));
        try {
          yield* sleep(10_000);
        } finally {
          // deliberately replaces the CancelledError
          // eslint-disable-next-line no-unsafe-finally
          throw new MyError("from finally");
        }
      }));
      assert.deepEqual(errorTypes(e), ["MyError", "RangeError"]);
      const errors = (e as TaskGroupError).errors as Error[];
      assert.equal(errors[errors.length - 1]!.name, "MyError", "the body's own error comes last");
      assert.equal(currentTask()!.cancelling(), 0, "context_manager_exit_raises: the caller is not left cancelled");
    });
  });

  it("cancelling the group before its children finish ends it cancelled (taskgroup_22)", async () => {
    await virtual(function* () {
      const runner = spawn(function* () {
        yield* taskGroup(function* (tg) {
          tg.spawn(after(1000, 42));
          tg.spawn(after(2000, 11));
        });
      });
      yield* sleep(50);
      runner.cancel();
      assert.ok((yield* catching(runner)) instanceof CancelledError);
    });
  });

  it("finished children leave the group while it runs (taskgroup_23)", async () => {
    await virtual(function* () {
      yield* taskGroup(function* (tg) {
        for (let count = 0; count < 10; count++) {
          yield* sleep(100);
          tg.spawn(after(300, 0));
          if (count === 5) assert.ok(tg.size < 5, `size ${tg.size}`);
        }
        yield* sleep(1350);
        assert.equal(tg.size, 0);
      });
    });
  });

  it("children may spawn into the group, which waits for the grandchildren (taskgroup_24)", async () => {
    const t = await virtual(function* () {
      yield* taskGroup(function* (tg) {
        tg.spawn(function* () {
          yield* sleep(100);
          tg.spawn(after(100, 0));
          tg.spawn(after(200, 0));
        });
      });
      return getRunningLoop().time();
    });
    assert.equal(t, 300);
  });

  it("a failure stops children that keep spawning siblings (taskgroup_25)", async () => {
    await virtual(function* () {
      let hydras = 0;
      const hydra = function* (tg: import("../mod.ts").TaskGroup): Coroutine<void> {
        hydras++;
        yield* sleep(10);
        tg.spawn(hydra(tg));
        tg.spawn(hydra(tg));
      };
      const e = yield* catching(taskGroup(function* (tg) {
        tg.spawn(hydra(tg));
        tg.spawn(function* () {
          while (hydras < 10) yield* sleep(15);
          throw new MyError("hercules");
        });
      }));
      assert.deepEqual(errorTypes(e), ["MyError"]);
      assert.ok(hydras >= 10);
    });
  });

  it("spawn passes the name to the child task (taskgroup_task_name, test_name)", async () => {
    await virtual(function* () {
      let seen: string | undefined;
      yield* taskGroup(function* (tg) {
        const t = tg.spawn(function* () {
          seen = currentTask()?.name;
          yield* sleep(0);
        }, { name: "yolo" });
        assert.equal(t.name, "yolo");
      });
      assert.equal(seen, "yolo");
    });
  });

  it("spawning while the group shuts down after a failure throws InvalidStateError (no_create_task_after_failure)", async () => {
    await virtual(function* () {
      let refused: unknown;
      const e = yield* catching(taskGroup(function* (tg) {
        tg.spawn(crashAfter(1));
        tg.spawn(function* () {
          try {
            yield* sleep(1000);
          } catch {
            try {
              tg.spawn(after(1, 0));
            } catch (err) {
              refused = err;
            }
          }
        });
      }));
      assert.deepEqual(errorTypes(e), ["RangeError"]);
      assert.ok(refused instanceof InvalidStateError);
      assert.match((refused as Error).message, /shutting down/);
    });
  });

  it("spawning into a finished group throws InvalidStateError (taskgroup_finished)", async () => {
    await virtual(function* () {
      let saved!: import("../mod.ts").TaskGroup;
      yield* taskGroup(function* (tg) {
        saved = tg;
        yield* sleep(0);
      });
      let bodyRan = false;
      const gen = (function* () {
        bodyRan = true;
        yield* sleep(0);
      })();
      assert.throws(() => saved.spawn(gen), (e: Error) => e instanceof InvalidStateError && /is finished/.test(e.message));
      assert.equal(bodyRan, false);
      assert.equal(gen.next().done, true, "the refused generator was closed");
    });
  });

  it("the caller is not left cancelled after a group failure (cancelling_level_preserved, cancellation_does_not_leak_out_of_tg)", async () => {
    await virtual(function* () {
      const e = yield* catching(taskGroup(function* (tg) {
        tg.spawn(crashAfter(0));
      }));
      assert.deepEqual(errorTypes(e), ["RangeError"]);
      assert.equal(currentTask()!.cancelling(), 0);
      yield* sleep(0); // would throw if a cancellation had leaked
    });
  });

  it("nested groups both failing: each raises its own error and the caller is not left cancelled (nested_groups_both_cancelled)", async () => {
    await virtual(function* () {
      let innerError: unknown;
      const e = yield* catching(taskGroup(function* (outer) {
        try {
          yield* taskGroup(function* (inner) {
            inner.spawn(crashAfter(0, new MyError("inner")));
            outer.spawn(crashAfter(0, new TypeError("outer")));
          });
        } catch (err) {
          innerError = err;
        }
      }));
      assert.deepEqual(errorTypes(innerError), ["MyError"]);
      assert.deepEqual(errorTypes(e), ["TypeError"]);
      assert.equal(currentTask()!.cancelling(), 0);
    });
  });

  it("a caller cancelled while its group fails gets the TaskGroupError first, then its CancelledError at the next wait (error_and_cancel)", async () => {
    await virtual(function* () {
      const started = new Future<void>();
      const log: string[] = [];
      const inner = spawn(function* () {
        try {
          yield* taskGroup(function* (tg) {
            tg.spawn(function* () {
              yield* sleep(5);
              started.setResult(); // the caller is cancelled just as this child fails
              throw new MyError("child");
            });
            yield* sleep(1000);
            log.push("sleep in group was not cancelled");
          });
        } catch (e) {
          log.push(`${(e as Error).name}, cancelling ${currentTask()!.cancelling()}`);
        }
        log.push(`after group, cancelling ${currentTask()!.cancelling()}`);
        yield* sleep(1000);
        log.push("sleep after group was not cancelled");
      });
      yield* started;
      assert.equal(inner.cancelling(), 0);
      inner.cancel();
      assert.equal(inner.cancelling(), 1);
      const e = yield* catchingAny(inner);
      assert.ok(e instanceof CancelledError, `got ${e}; log ${log}`);
      assert.ok(inner.cancelled());
      assert.deepEqual(log, ["TaskGroupError, cancelling 1", "after group, cancelling 1"]);
    });
  });

  it("a caller that was not cancelled is not cancelled by a failing group's pending cancellation", async () => {
    await virtual(function* () {
      const group = taskGroup(function* (tg) {
        tg.spawn(function* () {
          yield* sleep(0);
          throw new MyError("child");
        });
        try {
          yield* sleep(1000);
        } catch {
          yield* sleep(50); // slow clean-up after the child's failure
        }
      });
      yield* sleep(10);
      group.cancel(); // the group itself is cancelled, not this task
      const e = yield* catching(group);
      assert.ok(e instanceof TaskGroupError, `got ${e}`);
      yield* sleep(10); // not cancelled
      assert.equal(currentTask()!.cancelling(), 0);
    });
  });

  it("a child created while its sibling is starting still gets cancelled when that sibling fails (cancels_task_if_created_during_creation)", async () => {
    await virtual(function* () {
      let ran = false;
      const e = yield* catching(taskGroup(function* (tg) {
        tg.spawn(function* () {
          tg.spawn(function* () {
            throw new MyError("third task failed");
          });
          try {
            yield* sleep(0);
            yield* sleep(0);
            assert.fail("not cancelled");
          } catch (err) {
            assert.ok(err instanceof CancelledError);
          }
          ran = true;
        });
      }));
      assert.ok(ran);
      assert.deepEqual(errorTypes(e), ["MyError"]);
    });
  });

  it("a timeout around a group turns the cancellation into TimeoutError (exception_refcycles_propagate_cancellation_error)", async () => {
    await virtual(function* () {
      const e = yield* catching(timeout(-1, function* () {
        yield* taskGroup(function* () {
          yield* sleep(0);
        });
      }));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.ok((e as TimeoutError).cause instanceof CancelledError);
    });
  });

  it("async children get their AbortSignal aborted and the group waits for them to settle", async () => {
    await virtual(function* () {
      const log: string[] = [];
      const e = yield* catching(taskGroup(function* (tg) {
        tg.spawn(async (signal) => {
          await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
          log.push(`aborted at ${getRunningLoop().time()}`);
          await sleep(50); // clean-up that takes time; the group waits
          log.push(`cleaned up at ${getRunningLoop().time()}`);
          throw signal.reason;
        });
        tg.spawn(crashAfter(100));
      }));
      assert.deepEqual(errorTypes(e), ["RangeError"]);
      assert.deepEqual(log, ["aborted at 100", "cleaned up at 150"]);
      assert.equal(getRunningLoop().time(), 150);
    });
  });

  it("an async body works like a generator body: its children are awaited and its result returned", async () => {
    const out = await virtual(async () => {
      return await taskGroup(async (tg) => {
        const a = tg.spawn(after(100, 1));
        const b = tg.spawn(async () => {
          await sleep(200);
          return 2;
        });
        return (await a) + (await b);
      });
    });
    assert.equal(out, 3);
  });

  it("an async body is cancelled through tg.signal when a child fails, and the group waits for it", async () => {
    await virtual(function* () {
      const log: string[] = [];
      const e = yield* catching(taskGroup(async (tg) => {
        tg.spawn(crashAfter(100));
        await new Promise<void>((resolve) => tg.signal.addEventListener("abort", () => resolve()));
        log.push(`body aborted at ${getRunningLoop().time()}`);
        await sleep(30);
        log.push("body done cleaning");
        throw new Error("AbortError-like rejection");
      }));
      assert.deepEqual(errorTypes(e), ["RangeError"], "the body's rejection after abort counts as its cancellation");
      assert.deepEqual(log, ["body aborted at 100", "body done cleaning"]);
      assert.equal(getRunningLoop().time(), 130);
    });
  });

  it("a body function that returns a task or future is waited on, and cancelled with the group", async () => {
    await virtual(function* () {
      const r = yield* taskGroup((tg) => tg.spawn(after(10, "from a task")));
      assert.equal(r, "from a task");
      let inner!: Task<string>;
      const runner = spawn(function* () {
        return yield* taskGroup((tg) => (inner = tg.spawn(after(1000, "never"))));
      });
      yield* sleep(5);
      runner.cancel("stop");
      const e = yield* catching(runner);
      assert.ok(e instanceof CancelledError && e.message === "stop", `got ${e}`);
      assert.ok(inner.cancelled());
    });
  });

  it("an async caller can cancel a group through the signal option, with the abort reason as message", async () => {
    await virtual(async () => {
      const ac = new AbortController();
      let childCancelled = false;
      const group = taskGroup(function* (tg) {
        tg.spawn(function* () {
          try {
            yield* sleep(10_000);
          } catch (e) {
            childCancelled = e instanceof CancelledError;
            throw e;
          }
        });
      }, { signal: ac.signal, name: "linked" });
      await sleep(10);
      ac.abort(new Error("user left"));
      await assert.rejects(Promise.resolve(group), (e: Error) => e instanceof CancelledError && e.message === "user left");
      assert.ok(childCancelled);
      assert.equal(group.name, "linked");
    });
  });

  it("a failing child of a group running inside run() never outlives the group", async () => {
    let leftovers = -1;
    await virtual(function* () {
      yield* catching(taskGroup(function* (tg) {
        tg.spawn(crashAfter(5));
        for (let i = 0; i < 3; i++) tg.spawn(async (signal) => {
          await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        });
      }));
      leftovers = allTasks().size;
    });
    assert.equal(leftovers, 1, "only the main task is alive after the group");
  });

  it("bad input: a body that is not a function is a TypeError, a body returning a plain value fails the group", async () => {
    await virtual(function* () {
      assert.throws(() => taskGroup(42 as never), /taskGroup\(\) expects a generator function or an async function.*number 42/);
      assert.throws(() => taskGroup(function* () {}, { signal: "x" as never }), /signal must be an AbortSignal/);
      const e = yield* catching(taskGroup((() => 5) as never));
      assert.deepEqual(errorTypes(e), ["TypeError"]);
      assert.match(((e as TaskGroupError).errors[0] as Error).message, /the body must be a generator function or an async function; it returned number 5/);
    });
  });
});
