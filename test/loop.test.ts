import assert from "node:assert/strict";
import { allTasks, InvalidStateError, Loop, run, sleep, spawn } from "../mod.ts";
import { describe, it } from "./harness.ts";

describe("Loop", () => {
  it("callSoon callbacks run in FIFO order, with their arguments", async () => {
    const loop = new Loop({ clock: "virtual" });
    const seen: string[] = [];
    loop.callSoon((a: string, b: number) => seen.push(`${a}${b}`), "x", 1);
    loop.callSoon(() => seen.push("second"));
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    assert.deepEqual(seen, ["x1", "second"]);
  });

  it("a cancelled handle never runs", async () => {
    const loop = new Loop({ clock: "virtual" });
    const seen: string[] = [];
    const h = loop.callSoon(() => seen.push("cancelled one"));
    loop.callSoon(() => seen.push("kept"));
    h.cancel();
    assert.equal(h.cancelled(), true);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    loop.close();
    assert.deepEqual(seen, ["kept"]);
  });

  it("the virtual clock starts at 0 and jumps to the next timer when nothing is runnable", async () => {
    const loop = new Loop({ clock: "virtual" });
    const seen: Array<[string, number]> = [];
    assert.equal(loop.time(), 0);
    loop.callLater(60_000, () => seen.push(["late", loop.time()]));
    loop.callLater(5, () => seen.push(["early", loop.time()]));
    loop.callAt(60_001, () => loop.stop());
    const wall = performance.now();
    await loop.runForever();
    loop.close();
    assert.deepEqual(seen, [["early", 5], ["late", 60_000]]);
    assert.equal(loop.time(), 60_001);
    assert.ok(performance.now() - wall < 10_000, "virtual time takes no wall time");
  });

  it("timers due at the same instant run in one batch, in deadline then scheduling order", async () => {
    const loop = new Loop({ clock: "virtual" });
    const seen: string[] = [];
    loop.callAt(10, () => {
      seen.push("a@10");
      // Scheduled during the batch: runs after every timer of the batch.
      loop.callSoon(() => seen.push("soon-from-a"));
    });
    loop.callAt(5, () => seen.push("b@5"));
    loop.callAt(10, () => seen.push("c@10"));
    loop.callAt(5, () => seen.push("d@5"));
    loop.callAt(11, () => loop.stop());
    await loop.runForever();
    loop.close();
    // 5 and 10 are separate instants; in each, deadline order then scheduling order.
    assert.deepEqual(seen, ["b@5", "d@5", "a@10", "c@10", "soon-from-a"]);
  });

  it("a cancelled timer does not fire and the virtual clock does not jump to it", async () => {
    const loop = new Loop({ clock: "virtual" });
    let fired = false;
    const t = loop.callLater(1_000, () => (fired = true));
    loop.callLater(10, () => t.cancel());
    loop.callLater(20, () => loop.stop());
    await loop.runForever();
    assert.equal(fired, false);
    assert.equal(loop.time(), 20);
    loop.close();
  });

  it("host microtasks flush before the virtual clock jumps", async () => {
    const loop = new Loop({ clock: "virtual" });
    const seen: string[] = [];
    const value = await loop.runUntilComplete(function* () {
      // A promise chain several microtasks long settles a future before time moves.
      const fut = loop.createFuture<string>();
      Promise.resolve().then(() => Promise.resolve()).then(() => {
        seen.push(`promise@${loop.time()}`);
        fut.setResult("from a promise");
      });
      loop.callLater(1_000, () => seen.push(`timer@${loop.time()}`));
      const v = yield* fut;
      seen.push(`got@${loop.time()}`);
      yield* sleep(2_000);
      return v;
    });
    loop.close();
    assert.equal(value, "from a promise");
    assert.deepEqual(seen, ["promise@0", "got@0", "timer@1000"]);
  });

  it("the real clock waits for the earliest timer with a host timer", async () => {
    const loop = new Loop();
    const t0 = loop.time();
    const order: number[] = [];
    loop.callLater(30, () => order.push(30));
    loop.callLater(10, () => order.push(10));
    loop.callLater(40, () => loop.stop());
    await loop.runForever();
    loop.close();
    assert.deepEqual(order, [10, 30]);
    assert.ok(loop.time() - t0 >= 39, `at least the timer's delay passed (${loop.time() - t0} ms)`);
  });

  it("stop() lets the current batch finish; callbacks it schedules wait for the next run", async () => {
    const loop = new Loop({ clock: "virtual" });
    const seen: string[] = [];
    loop.callSoon(() => {
      seen.push("a");
      loop.stop();
      loop.callSoon(() => seen.push("scheduled by a"));
    });
    loop.callSoon(() => seen.push("b, same batch"));
    await loop.runForever();
    assert.deepEqual(seen, ["a", "b, same batch"]);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    assert.deepEqual(seen, ["a", "b, same batch", "scheduled by a"]);
    loop.close();
  });

  it("isRunning and isClosed report the loop's state; a closed loop refuses work", async () => {
    const loop = new Loop({ clock: "virtual" });
    assert.equal(loop.isRunning(), false);
    let during = false;
    loop.callSoon(() => {
      during = loop.isRunning();
      loop.stop();
    });
    await loop.runForever();
    assert.equal(during, true);
    assert.equal(loop.isRunning(), false);
    loop.close();
    loop.close();
    assert.equal(loop.isClosed(), true);
    assert.throws(() => loop.callSoon(() => {}), InvalidStateError);
    assert.throws(() => loop.runForever(), /closed/);
  });

  it("closing a running loop throws", async () => {
    const loop = new Loop({ clock: "virtual" });
    let error: unknown;
    loop.callSoon(() => {
      try {
        loop.close();
      } catch (e) {
        error = e;
      }
      loop.stop();
    });
    await loop.runForever();
    loop.close();
    assert.ok(error instanceof InvalidStateError);
  });

  it("runUntilComplete resolves to the result and rejects with the exception", async () => {
    const loop = new Loop({ clock: "virtual" });
    assert.equal(await loop.runUntilComplete(function* () {
      yield* sleep(100);
      return 7;
    }), 7);
    await assert.rejects(
      loop.runUntilComplete(function* () {
        yield* sleep(1);
        throw new SyntaxError("bad");
      }),
      SyntaxError,
    );
    loop.close();
  });

  it("runUntilComplete rejects when the loop is stopped before the future is done", async () => {
    const loop = new Loop({ clock: "virtual" });
    const fut = loop.createFuture<number>();
    loop.callLater(10, () => loop.stop());
    await assert.rejects(loop.runUntilComplete(fut), /stopped before the future completed/);
    loop.close();
  });

  it("a callback that throws goes to the exception handler and the loop goes on", async () => {
    const loop = new Loop({ clock: "virtual" });
    const reported: unknown[] = [];
    loop.setExceptionHandler((ctx) => reported.push(ctx.exception));
    const err = new Error("in a callback");
    let after = false;
    loop.callSoon(() => {
      throw err;
    });
    loop.callSoon(() => {
      after = true;
      loop.stop();
    });
    await loop.runForever();
    loop.close();
    assert.deepEqual(reported, [err]);
    assert.equal(after, true);
  });

  it("one loop runs at a time: a second loop cannot start while one runs", async () => {
    const a = new Loop({ clock: "virtual" });
    const b = new Loop({ clock: "virtual" });
    let error: unknown;
    a.callSoon(() => {
      try {
        void b.runForever();
      } catch (e) {
        error = e;
      }
      a.stop();
    });
    await a.runForever();
    a.close();
    b.close();
    assert.ok(error instanceof InvalidStateError);
    assert.match((error as Error).message, /another loop is running/);
  });

  it("the loop hands the thread back to the host while tasks keep yielding", async () => {
    // A task that yields forever must not starve host timers: the host gets its turn
    // between time slices.
    let hostTicks = 0;
    const interval = setInterval(() => hostTicks++, 1);
    try {
      await run(function* () {
        const start = performance.now();
        while (hostTicks < 3) {
          yield;
          if (performance.now() - start > 15_000) throw new Error("host timers starved");
        }
      });
    } finally {
      clearInterval(interval);
    }
    assert.ok(hostTicks >= 3);
  });

  it("tasks of a loop are listed by allTasks until they are done", async () => {
    await run(function* () {
      const t = spawn(function* () {
        yield* sleep(10);
      });
      assert.ok(allTasks().has(t));
      assert.equal(allTasks().size, 2);
      yield* t;
      assert.equal(allTasks().has(t), false);
      assert.equal(allTasks().size, 1);
    }, { clock: "virtual" });
  });
});

describe("Loop: bad input", () => {
  it("callLater with a negative, NaN or infinite delay throws RangeError naming the value", () => {
    const loop = new Loop({ clock: "virtual" });
    assert.throws(() => loop.callLater(-1, () => {}), /delay must be a finite number of milliseconds >= 0, got number -1/);
    assert.throws(() => loop.callLater(NaN, () => {}), /got number NaN/);
    assert.throws(() => loop.callLater(Infinity, () => {}), RangeError);
    assert.throws(() => loop.callLater("5" as never, () => {}), /got string "5"/);
    assert.throws(() => loop.callAt(NaN, () => {}), /callAt\(\): time must be a finite number/);
    loop.close();
  });

  it("callSoon with a non-function throws TypeError", () => {
    const loop = new Loop({ clock: "virtual" });
    assert.throws(() => loop.callSoon(null as never), /callSoon\(\): callback must be a function, got null/);
    assert.throws(() => loop.callLater(1, {} as never), /callLater\(\)|callAt\(\): callback must be a function/);
    loop.close();
  });

  it("an unknown clock or a bad debug option is refused", () => {
    assert.throws(() => new Loop({ clock: "fast" as never }), /clock must be "real" or "virtual", got "fast"/);
    assert.throws(() => new Loop({ debug: { slowStepMs: -5 } }), /Loop: debug.slowStepMs must be a finite number of milliseconds > 0, got number -5/);
    assert.throws(() => new Loop({ debug: "yes" as never }), /debug must be a boolean/);
  });
});
