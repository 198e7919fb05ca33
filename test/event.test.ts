import assert from "node:assert/strict";
import { Event, run, sleep, spawn, yieldNow } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Event", () => {
  it("set() wakes every waiter, in the order they waited", async () => {
    const order: string[] = [];
    await run(function* () {
      const ev = new Event();
      const tasks = ["a", "b", "c"].map((name) =>
        spawn(function* () {
          const v = yield* ev.wait();
          order.push(`${name}:${v}`);
        }),
      );
      yield* sleep(50);
      assert.deepEqual(order, []);
      ev.set();
      for (const t of tasks) yield* t;
    }, virtual);
    assert.deepEqual(order, ["a:true", "b:true", "c:true"]);
  });

  it("wait() on a set event resolves at once; clear() makes waits wait again", async () => {
    await run(function* () {
      const ev = new Event();
      ev.set();
      assert.equal(ev.isSet(), true);
      assert.equal(ev.wait().done(), true);
      ev.clear();
      const w = ev.wait();
      assert.equal(w.done(), false);
      ev.set();
      assert.equal(yield* w, true);
    }, virtual);
  });

  it("a cancelled waiter leaves the event's queue", async () => {
    await run(function* () {
      const ev = new Event();
      const t = spawn(function* () {
        yield* ev.wait();
      });
      yield* yieldNow();
      assert.equal(ev._waiters.size, 1);
      t.cancel();
      yield* yieldNow();
      assert.equal(ev._waiters.size, 0);
      assert.equal(t.cancelled(), true);
    }, virtual);
  });

  it("an async task waits with its signal and stops when cancelled", async () => {
    await run(function* () {
      const ev = new Event();
      const t = spawn(async (signal) => {
        await ev.wait({ signal });
        return "woke";
      });
      yield* sleep(10);
      t.cancel();
      yield* sleep(1); // lets the host's promise jobs run
      assert.equal(t.cancelled(), true);
      assert.equal(ev._waiters.size, 0);
    }, virtual);
  });
});
