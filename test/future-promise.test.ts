/**
 * A Future is a full Promise (issue 15): `then`, `catch` and `finally` with the semantics of
 * `Promise.prototype`, returning native promises, so code written for promises takes a
 * loopwork future (a task, a sleep, a pool call, `delay()`) unchanged; `yield*` still works.
 * The "never retrieved" report counts `catch(f)` as looking; `finally(f)` alone hands the
 * failure to the promise it returns, as `then(f)` alone does.
 */
import assert from "node:assert/strict";
import {
  CancelledError,
  type Coroutine,
  delay,
  type ExceptionContext,
  Future,
  getRunningLoop,
  Lock,
  Queue,
  run,
  sleep,
  spawn,
  WorkerPool,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;
type Tasks = typeof import("./fixtures/tasks.ts");
const TASKS = new URL("./fixtures/tasks.ts", import.meta.url);

function* failAfter(ms: number, error: Error): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

/** Runs `main` on a virtual-clock loop; returns the loop's exception reports. */
async function reportsOf(main: () => Coroutine<unknown>): Promise<ExceptionContext[]> {
  const reported: ExceptionContext[] = [];
  await run(function* () {
    getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
    yield* spawn(main);
  }, virtual);
  return reported;
}

describe("Future is a Promise: catch", () => {
  it("catch() handles a failure and returns a native promise", async () => {
    await run(async () => {
      const t = spawn(failAfter(10, new Error("boom")));
      const p = t.catch((e: unknown) => `caught ${(e as Error).message}`);
      assert.ok(p instanceof Promise);
      assert.equal(await p, "caught boom");
    }, virtual);
  });

  it("catch() passes a result through, and sees a cancellation as CancelledError", async () => {
    await run(async () => {
      assert.equal(await sleep(5, 7).catch(() => -1), 7);
      const t = spawn(function* () {
        yield* sleep(1_000);
      });
      const p = t.catch((e: unknown) => e);
      t.cancel("stop");
      const e = await p;
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, "stop");
    }, virtual);
  });

  it("catch() with no handler is then(undefined, undefined): it settles as the future", async () => {
    await run(async () => {
      assert.equal(await sleep(1, "v").catch(), "v");
      await assert.rejects(spawn(failAfter(1, new Error("x"))).catch(null), /x/);
    }, virtual);
  });

  it("a failing task handled by catch() is not reported as never retrieved", async () => {
    const seen: string[] = [];
    const reported = await reportsOf(function* () {
      const before = spawn(failAfter(10, new Error("before")));
      void before.catch((e: Error) => seen.push(e.message));
      const after = spawn(failAfter(1, new Error("after")));
      yield* sleep(20);
      void after.catch((e: Error) => seen.push(e.message));
      yield* sleep(1);
    });
    assert.deepEqual(seen.sort(), ["after", "before"]);
    assert.deepEqual(reported, []);
  });
});

describe("Future is a Promise: finally", () => {
  it("finally() passes the value through and runs its callback once", async () => {
    await run(async () => {
      let calls = 0;
      const p = sleep(5, 42).finally(() => {
        calls++;
      });
      assert.ok(p instanceof Promise);
      assert.equal(await p, 42);
      assert.equal(calls, 1);
    }, virtual);
  });

  it("finally() passes the reason through, the callback takes no argument", async () => {
    await run(async () => {
      const args: unknown[][] = [];
      const p = spawn(failAfter(5, new Error("kept"))).finally((...a: unknown[]) => {
        args.push(a);
      });
      await assert.rejects(p, /kept/);
      assert.deepEqual(args, [[]]);
    }, virtual);
  });

  it("a throwing or rejecting callback replaces the outcome; a slow one is waited for", async () => {
    await run(async () => {
      await assert.rejects(
        sleep(1, 1).finally(() => {
          throw new Error("replaced");
        }),
        /replaced/,
      );
      await assert.rejects(
        spawn(failAfter(1, new Error("original"))).finally(() => Promise.reject(new Error("replaced too"))),
        /replaced too/,
      );
      // A fulfilled promise from the callback does not replace the outcome, but is awaited.
      const order: string[] = [];
      const v = await sleep(1, "value").finally(async () => {
        await sleep(10);
        order.push("callback done");
      });
      order.push(`got ${v}`);
      assert.deepEqual(order, ["callback done", "got value"]);
    }, virtual);
  });

  it("finally() on a cancelled task rejects with its CancelledError", async () => {
    await run(async () => {
      let ran = false;
      const t = spawn(function* () {
        yield* sleep(1_000);
      });
      const p = t.finally(() => {
        ran = true;
      });
      t.cancel();
      await assert.rejects(p, CancelledError);
      assert.ok(ran);
    }, virtual);
  });

  it("finally(f) alone hands the failure to the promise it returns (as then(f) alone)", async () => {
    const seen: string[] = [];
    const reported = await reportsOf(function* () {
      const t = spawn(failAfter(10, new Error("handed on")));
      const p = t.finally(() => seen.push("finally"));
      // The loop does not report it: the promise has it (handled here).
      void p.catch((e: Error) => seen.push(e.message));
      yield* sleep(20);
    });
    assert.deepEqual(seen, ["finally", "handed on"]);
    assert.deepEqual(reported, []);
  });
});

describe("Future is a Promise: interop", () => {
  it("a task or future types as a Promise, and Promise.resolve adopts it", async () => {
    await run(async () => {
      const p: Promise<number> = spawn(function* () {
        yield* sleep(3);
        return 3;
      });
      const adopted = Promise.resolve(p);
      assert.notEqual(adopted, p as unknown, "a Future is not a native promise: Promise.resolve wraps it");
      assert.equal(await adopted, 3);
      assert.equal(await Promise.race([sleep(5, "slow"), sleep(1, "fast")]), "fast");
      assert.deepEqual(await Promise.all([sleep(2, 1), spawn(async () => 2)]), [1, 2]);
    }, virtual);
  });

  it("yield* still waits on a future that has catch and finally", async () => {
    const out = await run(function* () {
      const t = spawn(function* () {
        yield* sleep(5);
        return "yielded";
      });
      void t.finally(() => {});
      return yield* t;
    }, virtual);
    assert.equal(out, "yielded");
  });

  it("Symbol.toStringTag names a future and a task", async () => {
    await run(function* () {
      const f = new Future<number>();
      assert.equal(Object.prototype.toString.call(f), "[object Future]");
      const t = spawn(function* () {});
      assert.equal(Object.prototype.toString.call(t), "[object Task]");
      yield* t;
    }, virtual);
  });

  it("delay(10).finally(…) runs, on the loop and outside any loop", async () => {
    let ran = 0;
    await run(async () => {
      await delay(10).finally(() => ran++);
    }, virtual);
    await delay(1).finally(() => ran++);
    assert.equal(ran, 2);
  });

  it("pool.run(…).catch(…) and .finally(…): inline pool", async () => {
    const pool = new WorkerPool<Tasks>(TASKS, { kind: "inline" });
    try {
      const e = await pool.run("fail", "bad input").catch((e: Error) => e);
      assert.equal((e as Error).message, "bad input");
      let done = false;
      assert.equal(await pool.run("add", 1, 2).finally(() => (done = true)), 3);
      assert.ok(done);
      assert.equal(await pool.run("add", 2, 2).catch(() => -1), 4);
    } finally {
      await pool.destroy();
    }
  });

  it("pool.run(…).catch(…): thread pool", async () => {
    const pool = new WorkerPool<Tasks>(TASKS, { kind: "thread", maxWorkers: 1 });
    try {
      const e = await pool.run("fail", "from a thread").catch((e: Error) => e);
      assert.equal((e as Error).message, "from a thread");
      let done = false;
      assert.equal(await pool.run("add", 20, 22).finally(() => (done = true)), 42);
      assert.ok(done);
    } finally {
      await pool.destroy();
    }
  }, 30_000);
});

describe("Future is a Promise: the waiting futures of locks and queues", () => {
  it("q.get().finally(…) and lock.acquire().catch(…) take what they were granted", async () => {
    await run(async () => {
      const q = new Queue<string>();
      const got = q.get().finally(() => {});
      await sleep(1);
      q.putNowait("item");
      assert.equal(await got, "item");
      assert.equal(q.qsize(), 0);
      const lock = new Lock();
      const first = await lock.acquire().catch(() => null);
      const second = lock.acquire().catch(() => null);
      await sleep(1);
      first!.release();
      const held = await second;
      assert.ok(lock.locked());
      held!.release();
      assert.ok(!lock.locked());
    }, virtual);
  });
});
