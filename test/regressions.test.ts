// Rules found missing by a review of the core against CPython's asyncio, each with the
// scenario that broke it.
import assert from "node:assert/strict";
import {
  CancelledError,
  currentTask,
  type Executor,
  Future,
  getRunningLoop,
  Loop,
  run,
  sleep,
  spawn,
  until,
  yieldNow,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;
const settle = (f: Future<unknown>) => until(f.then(() => {}, () => {}));

describe("core: robustness", () => {
  it("a task function returning a thenable whose then() throws fails that task, and the loop goes on", async () => {
    const v = await run(function* () {
      const t = spawn((() => ({
        then() {
          throw new Error("bad thenable");
        },
      })) as never);
      yield* settle(t);
      assert.match(String(t.exception()), /bad thenable/);
      yield* sleep(5);
      return "still running";
    }, virtual);
    assert.equal(v, "still running");
  });

  it("runUntilComplete on a running loop throws and leaves no stray task that stops the loop", async () => {
    const v = await run(function* () {
      const loop = getRunningLoop();
      assert.throws(() => loop.runUntilComplete(function* () {
        yield* sleep(1);
      }), /already running/);
      yield* sleep(10);
      return "main finished normally";
    }, virtual);
    assert.equal(v, "main finished normally");
  });

  it("runUntilComplete refuses a future of another loop", async () => {
    const a = new Loop({ clock: "virtual" });
    const b = new Loop({ clock: "virtual" });
    assert.throws(() => a.runUntilComplete(b.createFuture()), /belongs to another loop/);
    a.close();
    b.close();
  });

  it("cancelling a task whose function returned a loopwork future cancels that future", async () => {
    await run(function* () {
      const loop = getRunningLoop();
      const t = spawn(() => sleep(1_000, "late"));
      yield* sleep(10);
      t.cancel("stop");
      yield* settle(t);
      assert.equal(t.cancelled(), true);
      assert.equal(loop.time(), 10, "the sleep's timer was removed: time did not run to 1000");
    }, virtual);
  });

  it("cancelling a runInExecutor task cancels the executor's future", async () => {
    let inner!: Future<unknown>;
    await run(function* () {
      const loop = getRunningLoop();
      const executor: Executor = {
        run: () => (inner = loop.createFuture()),
        close: () => Promise.resolve(),
      };
      const t = loop.runInExecutor(executor, "fib", 30);
      yield* sleep(1);
      t.cancel();
      yield* settle(t);
      assert.equal(inner.cancelled(), true);
    }, virtual);
  });

  it("Handle.cancelled() is false for a handle whose callback ran", async () => {
    const loop = new Loop({ clock: "virtual" });
    const h = loop.callSoon(() => loop.stop());
    await loop.runForever();
    assert.equal(h.cancelled(), false);
    loop.close();
  });

  it("Task-N numbers follow creation order, whatever order names are read in", async () => {
    await run(function* () {
      const a = spawn(function* () {});
      const b = spawn(function* () {});
      const nb = Number(b.name.slice(5));
      const na = Number(a.name.slice(5));
      assert.equal(nb, na + 1);
      yield* a;
      yield* b;
    }, virtual);
  });
});

describe("core: fairness", () => {
  it("yieldNow() resumes after one turn, like a bare yield (asyncio's sleep(0))", async () => {
    const order: string[] = [];
    await run(function* () {
      const a = spawn(function* () {
        for (let i = 0; i < 3; i++) {
          order.push("A");
          yield* yieldNow();
        }
      });
      const b = spawn(function* () {
        for (let i = 0; i < 3; i++) {
          order.push("B");
          yield;
        }
      });
      yield* a;
      yield* b;
    }, virtual);
    assert.equal(order.join(""), "ABABAB");
  });

  it("an async task awaiting loop futures steps about as often as a spinning generator task", async () => {
    let spins = 0;
    await run(function* () {
      let done = false;
      const spinner = spawn(function* () {
        while (!done) {
          spins++;
          yield;
        }
      });
      const awaiter = spawn(async () => {
        for (let i = 0; i < 50; i++) await yieldNow();
        done = true;
      });
      yield* awaiter;
      yield* spinner;
    }, virtual);
    // One await is a few loop turns; before the fix each cost a whole 8 ms time slice.
    assert.ok(spins < 50 * 20, `the generator spun ${spins} times while the async task awaited 50 times`);
  });

  it("the host gets the thread back within a time slice even when every step is slow", async () => {
    let hostRanAtStep = -1;
    let step = 0;
    setTimeout(() => (hostRanAtStep = step), 0);
    await run(function* () {
      for (step = 0; step < 40; step++) {
        const until = performance.now() + 3;
        while (performance.now() < until) { /* a 3 ms step */ }
        yield;
      }
    });
    assert.ok(hostRanAtStep >= 0 && hostRanAtStep < 12, `the host timer ran at step ${hostRanAtStep} of 40`);
  });
});

describe("core: cancellation details", () => {
  it("the signal read after a cancel carries the cancel message", async () => {
    await run(function* () {
      const t = spawn(function* () {
        yield* sleep(100);
      });
      yield* sleep(1);
      t.cancel("why");
      assert.equal(t.signal.aborted, true);
      assert.equal((t.signal.reason as Error).message, "why");
      yield* settle(t);
    }, virtual);
  });

  it("an abort listener sees the cancel request already counted", async () => {
    await run(function* () {
      const t = spawn(async (signal) => {
        let seen = -1;
        signal.addEventListener("abort", () => (seen = currentTaskCancelling(t)));
        await new Promise((r) => signal.addEventListener("abort", r));
        return seen;
      });
      yield* sleep(1);
      t.cancel();
      yield* settle(t);
      assert.equal(t.cancelling(), 1);
    }, virtual);
    function currentTaskCancelling(t: { cancelling(): number }) {
      return t.cancelling();
    }
  });

  it("with two cancel requests while waiting, the first message wins", async () => {
    await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1_000);
      });
      yield* sleep(1);
      t.cancel("first");
      t.cancel("second");
      yield* settle(t);
      assert.throws(() => t.result(), (e: Error) => e instanceof CancelledError && e.message === "first");
    }, virtual);
  });
});

describe("core: shutdown and unread failures", () => {
  it("run() also cancels tasks spawned while it shuts down", async () => {
    let late!: ReturnType<typeof spawn<void>>;
    let lateCleanedUp = false;
    await run(function* () {
      spawn(function* () {
        try {
          yield* sleep(60_000);
        } finally {
          late = spawn(function* () {
            try {
              yield* sleep(60_000);
            } finally {
              lateCleanedUp = true;
            }
          });
        }
      });
      yield* sleep(1);
    }, virtual);
    assert.equal(late.cancelled(), true);
    assert.equal(lateCleanedUp, true);
  });

  it("abort listeners run inside the loop during shutdown, so they may use it", async () => {
    let spawnedFromListener = false;
    await run(function* () {
      spawn(async (signal) => {
        signal.addEventListener("abort", () => {
          spawn(function* () {
            spawnedFromListener = true;
          });
        });
        await new Promise((r) => signal.addEventListener("abort", r));
      });
      yield* sleep(1);
    }, virtual);
    assert.equal(spawnedFromListener, true);
  });

  it("a failure read by nobody is reported even if a done callback was attached", async () => {
    const reported: unknown[] = [];
    await run(function* () {
      getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx.exception));
      const t = spawn(function* () {
        throw new Error("unread");
      });
      t.addDoneCallback(() => {});
      yield* sleep(1);
    }, virtual);
    assert.equal(reported.length, 1);
    assert.match(String(reported[0]), /unread/);
  });

  it("closing a plain loop reports failures nobody read", async () => {
    const reported: string[] = [];
    const loop = new Loop({ clock: "virtual" });
    loop.setExceptionHandler((ctx) => reported.push(ctx.message));
    const t = loop.createTask(function* () {
      throw new Error("x");
    });
    await loop.runUntilComplete(loop.createTask(function* () {
      yield* sleep(1);
    }));
    assert.equal(t.done(), true);
    loop.close();
    assert.deepEqual(reported, ["Task exception was never retrieved"]);
  });
});
