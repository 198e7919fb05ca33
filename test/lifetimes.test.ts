import assert from "node:assert/strict";
import { allTasks, debounce, delay, Lock, Queue, retry, run, Semaphore, sleep, spawn } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("nothing outlives run()", () => {
  it("a retry still backing off when run() ends is cancelled with the other tasks", async () => {
    let attempts = 0;
    let r: ReturnType<typeof retry<number>> | undefined;
    await run(function* () {
      r = retry(async () => {
        attempts++;
        throw new Error("down");
      }, { minTimeout: 60_000 });
      yield* sleep(10);
      assert.ok(allTasks().size >= 2, "the retry runs as a task of the loop");
    }, virtual);
    assert.equal(attempts, 1);
    assert.equal(r!.cancelled(), true);
  });

  it("tasks blocked on a lock, a semaphore or a queue are cancelled and leave their queues", async () => {
    const lock = new Lock();
    const sem = new Semaphore(0);
    const q = new Queue<number>();
    await run(function* () {
      yield* lock.acquire();
      spawn(function* () {
        yield* lock.acquire();
      });
      spawn(function* () {
        yield* sem.acquire();
      });
      spawn(function* () {
        yield* q.get();
      });
      yield* sleep(1);
    }, virtual);
    assert.equal(lock._waiters.size, 0);
    assert.equal(sem._waiters.size, 0);
    assert.equal(q._getters.size, 0);
  });

  it("a debounce or delay timer on the loop goes with the loop", async () => {
    const calls: string[] = [];
    await run(function* () {
      const f = debounce(() => calls.push("late"), 1_000);
      f();
      delay(5_000).then(() => calls.push("delay"));
      yield* sleep(1);
    }, virtual);
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(calls, []);
  });
});
