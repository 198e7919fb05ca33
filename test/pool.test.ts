import assert from "node:assert/strict";
import {
  CancelledError,
  getRunningLoop,
  PoolClosedError,
  PoolQueueFullError,
  run,
  sleep,
  Task,
  transfer,
  until,
  WorkerPool,
  type WorkerPoolOptions,
} from "../mod.ts";
import { rejection } from "./expect.ts";
import { describe, it } from "./harness.ts";

type Tasks = typeof import("./fixtures/tasks.ts");
const TASKS = new URL("./fixtures/tasks.ts", import.meta.url);

function pool(options: WorkerPoolOptions = {}): WorkerPool<Tasks> {
  return new WorkerPool<Tasks>(TASKS, { maxWorkers: 2, ...options });
}

/** Host time, outside any loop: pool tests use the real clock. */
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe("WorkerPool: results and errors", () => {
  for (const kind of ["thread", "process", "inline"] as const) {
    it(`${kind}: a call returns the task's typed result, sync or async`, async () => {
      const p = pool({ kind });
      try {
        const sum: number = await p.run("add", 20, 22);
        assert.equal(sum, 42);
        assert.deepEqual(await p.run("delayedEcho", { a: [1, 2] }, 5), { a: [1, 2] });
        assert.equal(await p.run("asyncDouble", 4), 8);
        assert.deepEqual(await p.run("echo", new Map([[1, new Uint8Array([3])]])), new Map([[1, new Uint8Array([3])]]));
      } finally {
        await p.destroy();
      }
    });

    it(`${kind}: a task's error crosses with its name and message`, async () => {
      const p = pool({ kind });
      try {
        const e = await rejection(p.run("fail", "age must be positive"));
        assert.equal(e.name, "ValidationError");
        assert.equal(e.message, "age must be positive");
        assert.ok(e instanceof Error);
        const t = await rejection(p.run("failType", "not a number"));
        assert.ok(t instanceof TypeError, "a standard error class is rebuilt as that class");
        assert.equal(t.message, "not a number");
      } finally {
        await p.destroy();
      }
    });
  }

  it("an unknown task name rejects the call, naming the task and the module's functions", async () => {
    const p = pool();
    try {
      const e = await rejection((p as WorkerPool).run("nope"));
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /unknown task "nope"/);
      assert.match(e.message, /tasks\.ts/);
      assert.match(e.message, /\badd\b/);
      const notFn = await rejection((p as WorkerPool).run("notAFunction"));
      assert.match(notFn.message, /unknown task "notAFunction"/);
      const inherited = await rejection((p as WorkerPool).run("toString"));
      assert.match(inherited.message, /unknown task "toString"/, "only own exports are tasks");
      // The pool is still usable afterwards.
      assert.equal(await p.run("add", 1, 1), 2);
    } finally {
      await p.destroy();
    }
  });

  it("a missing module rejects each call with an error naming its path, and never throws in the constructor", async () => {
    const missing = new URL("./fixtures/does-not-exist.ts", import.meta.url);
    const p = new WorkerPool(missing, { maxWorkers: 1 });
    try {
      const e = await rejection(p.run("anything"));
      assert.match(e.message, /cannot load the task module/);
      assert.match(e.message, /does-not-exist\.ts/);
      const broken = new WorkerPool(new URL("./fixtures/broken.ts", import.meta.url), { maxWorkers: 1 });
      try {
        const b = await rejection(broken.run("never"));
        assert.match(b.message, /broken\.ts/);
        assert.match(b.message, /broken on purpose/);
      } finally {
        await broken.destroy();
      }
    } finally {
      await p.destroy();
    }
  });

  for (const kind of ["thread", "process", "inline"] as const) {
    it(`${kind}: an argument that cannot be cloned rejects the call, naming the argument`, async () => {
      const p = pool({ kind });
      try {
        const e = await rejection(p.run("echo", { f: () => 1 }));
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /argument 0/);
        assert.match(e.message, /cannot be cloned/);
        assert.equal(await p.run("add", 2, 3), 5, "the pool still works");
      } finally {
        await p.destroy();
      }
    });

    it(`${kind}: a result that cannot be cloned rejects the call, saying where, and the worker survives`, async () => {
      const p = pool({ kind, maxWorkers: 1 });
      try {
        assert.equal(await p.run("add", 1, 1), 2);
        const workers = p.stats().workers;
        const e = await rejection(p.run("unclonableResult"));
        assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
        assert.match(e.message, /result of task "unclonableResult" cannot be sent back/);
        assert.match(e.message, /\.f cannot be cloned/);
        assert.equal(await p.run("add", 2, 3), 5);
        assert.equal(p.stats().workers, workers, "no worker was lost");
      } finally {
        await p.destroy();
      }
    });
  }

  it("a call is a Task: yield*-able inside run(), awaitable outside, named after the task", async () => {
    const p = pool();
    try {
      const outside = p.run("add", 1, 2);
      assert.ok(outside instanceof Task);
      assert.equal(outside.name, "pool:add");
      assert.equal(await outside, 3);
      assert.equal(outside.result(), 3);
      const inside = await run(function* () {
        const t = p.run("add", 2, 3);
        assert.ok(t instanceof Task);
        return yield* t;
      });
      assert.equal(inside, 5);
    } finally {
      await p.destroy();
    }
  });

  it("transfer() moves an argument's buffer to a thread, and a task can move its result back", async () => {
    const p = pool();
    const moving = new WorkerPool<typeof import("./fixtures/transfer-tasks.ts")>(
      new URL("./fixtures/transfer-tasks.ts", import.meta.url),
      { maxWorkers: 1 },
    );
    try {
      const data = new Float64Array([1, 2, 3, 4]);
      assert.equal(await p.run("sum", transfer(data)), 10);
      assert.equal(data.length, 0, "the sender's buffer is detached: it was moved");
      const copied = new Float64Array([1, 2]);
      assert.equal(await p.run("sum", copied), 3);
      assert.equal(copied.length, 2, "without transfer() it is copied");
      const back = await moving.run("makeBuffer", 1024);
      assert.equal(back.byteLength, 1024);
      assert.equal(back[0], 7);
      assert.throws(() => transfer(42 as never), TypeError);
    } finally {
      await p.destroy();
      await moving.destroy();
    }
  });
});

describe("WorkerPool: types", () => {
  it("a wrong task name, wrong arguments or a wrong result type are compile errors", async () => {
    const p = pool();
    // Never run: the assertions are the @ts-expect-error lines, checked by tsc.
    const typeChecksOnly = (): void => {
      // @ts-expect-error: "nope" is not a task of the module
      p.run("nope");
      // @ts-expect-error: add takes numbers
      p.run("add", "1", 2);
      // @ts-expect-error: add takes two arguments
      p.run("add", 1);
      // @ts-expect-error: notAFunction is an export, but not a function
      p.run("notAFunction");
      const sum: Task<number> = p.run("add", 1, 2);
      // @ts-expect-error: the result of add is a number
      const wrong: Task<string> = p.run("add", 1, 2);
      const later: Task<number> = p.run("asyncDouble", 2); // an async task gives the awaited type
      // @ts-expect-error: map items are the task's first parameter
      p.map("square", ["a"]);
      void [sum, wrong, later];
    };
    assert.equal(typeof typeChecksOnly, "function");
    assert.equal(p.stats().workers, 0, "nothing ran");
    await p.destroy();
  });
});

describe("WorkerPool: options", () => {
  it("bad options throw in the constructor with an error naming the option and value", () => {
    const bad: [unknown, RegExp][] = [
      [{ maxWorkers: 0 }, /maxWorkers must be an integer >= 1, got number 0/],
      [{ maxWorkers: 1.5 }, /maxWorkers/],
      [{ maxWorkers: -1 }, /maxWorkers/],
      [{ minWorkers: 3, maxWorkers: 2 }, /minWorkers \(3\) must not exceed maxWorkers \(2\)/],
      [{ kind: "fiber" }, /kind must be "thread", "process" or "inline", got string "fiber"/],
      [{ maxQueue: -1 }, /maxQueue/],
      [{ idleTimeoutMs: Number.NaN }, /idleTimeoutMs/],
      [{ taskTimeoutMs: 0 }, /taskTimeoutMs/],
      [{ maxWorker: 2 }, /unknown WorkerPool option "maxWorker"/],
      [{ backend: "piscina" }, /backend must be "loopwork" or "tinypool", got string "piscina"/],
      [{ kind: "process", backend: "loopwork" }, /backend "loopwork" is for kind "thread" only/],
      [{ kind: "inline", backend: "tinypool" }, /backend is for kinds "thread" and "process", not "inline"/],
      [null, /options must be an object/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => new WorkerPool(TASKS, options as WorkerPoolOptions),
        (e: Error) => (e instanceof RangeError || e instanceof TypeError) && message.test(e.message),
        `options ${JSON.stringify(options)}`,
      );
    }
    assert.throws(() => new WorkerPool("./relative.ts"), /absolute URL/);
    assert.throws(() => new WorkerPool(42 as never), TypeError);
  });

  it("maxQueue: a call beyond a full queue is rejected with PoolQueueFullError, the others run", async () => {
    const p = pool({ maxWorkers: 1, maxQueue: 1 });
    try {
      const running = p.run("delayedEcho", "a", 200);
      const queued = p.run("delayedEcho", "b", 1);
      await delay(0); // let both calls reach the pool
      const over = p.run("delayedEcho", "c", 1);
      const e = await rejection(over);
      assert.ok(e instanceof PoolQueueFullError);
      assert.match(e.message, /maxQueue 1/);
      assert.equal(await running, "a");
      assert.equal(await queued, "b");
    } finally {
      await p.destroy();
    }
  });

  it("a call running longer than taskTimeoutMs is rejected with TimeoutError and its worker replaced", async () => {
    // The limit counts from dispatch, so it includes a cold worker's start: keep it roomy.
    const p = pool({ maxWorkers: 1, taskTimeoutMs: 2_000 });
    try {
      const e = await rejection(p.run("busy", 30_000));
      assert.equal(e.name, "TimeoutError");
      assert.match(e.message, /pool:busy took longer than taskTimeoutMs \(2000 ms\)/);
      assert.equal(await p.run("add", 1, 2), 3);
    } finally {
      await p.destroy();
    }
  });
});

describe("WorkerPool: close and destroy", () => {
  it("close() finishes queued and running calls, then refuses new ones", async () => {
    const p = pool({ maxWorkers: 1 });
    const a = p.run("delayedEcho", "a", 50);
    const b = p.run("delayedEcho", "b", 10);
    await delay(0);
    const closing = p.close();
    assert.equal(p.close(), closing, "close() is idempotent");
    await closing;
    assert.equal(await a, "a");
    assert.equal(await b, "b");
    const late = await rejection(p.run("add", 1, 2));
    assert.ok(late instanceof PoolClosedError);
    assert.equal(p.stats().workers, 0);
  });

  it("calls made just before close() still run; close() waits for them", async () => {
    const p = pool({ maxWorkers: 1 });
    const a = p.run("add", 1, 2);
    const b = p.run("delayedEcho", "b", 20);
    await p.close();
    assert.equal(await a, 3);
    assert.equal(await b, "b");
    const inLoop = pool({ maxWorkers: 1 });
    const c = await run(function* () {
      const t = inLoop.run("add", 2, 2);
      const closing = inLoop.close();
      const v = yield* t;
      yield* until(closing);
      return v;
    });
    assert.equal(c, 4);
    assert.equal(inLoop.stats().workers, 0);
  });

  it("destroy() rejects queued and running calls with PoolClosedError and leaves no worker", async () => {
    const p = pool({ maxWorkers: 1 });
    const running = p.run("busy", 10_000);
    const queued = p.run("add", 1, 2);
    await delay(50);
    assert.equal(p.stats().busy, 1);
    assert.equal(p.stats().queued, 1);
    const started = Date.now();
    await p.destroy();
    assert.ok(Date.now() - started < 5_000, "destroy does not wait for the running call");
    const r = await rejection(running);
    const q = await rejection(queued);
    assert.ok(r instanceof PoolClosedError && /while pool:busy was running/.test(r.message));
    assert.ok(q instanceof PoolClosedError && /before pool:add started/.test(q.message));
    assert.deepEqual([p.stats().workers, p.stats().busy, p.stats().queued], [0, 0, 0]);
    assert.ok((await rejection(p.run("add", 1, 1))) instanceof PoolClosedError);
  });

  it("Symbol.asyncDispose closes the pool", async () => {
    let stats;
    {
      await using p = pool();
      assert.equal(await p.run("add", 1, 1), 2);
      stats = p;
    }
    assert.ok((await rejection(stats.run("add", 1, 1))) instanceof PoolClosedError);
  });

  it("stats() counts workers, busy, queued, completed and failed calls, with time percentiles", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      assert.deepEqual(p.stats().workers, 0, "workers start on demand");
      const a = p.run("delayedEcho", 1, 100);
      const b = p.run("add", 1, 1);
      await delay(50);
      const mid = p.stats();
      assert.equal(mid.busy, 1);
      assert.equal(mid.queued, 1);
      assert.equal(mid.workers, 1);
      await a;
      await b;
      await rejection(p.run("fail", "x"));
      const s = p.stats();
      assert.equal(s.completed, 2);
      assert.equal(s.failed, 1);
      assert.ok(s.runTimeMs.p50 > 0 && s.runTimeMs.p99 >= s.runTimeMs.p50);
      assert.ok(s.waitTimeMs.p99 >= 40, `b waited for a: ${s.waitTimeMs.p99}`);
    } finally {
      await p.destroy();
    }
  });
});

describe("WorkerPool: map", () => {
  for (const chunkSize of [1, 3, "auto"] as const) {
    it(`map yields every result in item order (chunkSize ${chunkSize})`, async () => {
      const p = pool();
      try {
        const items = Array.from({ length: 25 }, (_, i) => i);
        const out: number[] = [];
        for await (const sq of p.map("square", items, { chunkSize })) out.push(sq);
        assert.deepEqual(out, items.map((i) => i * i));
      } finally {
        await p.destroy();
      }
    });
  }

  it("map with ordered: false yields every result once, in any order", async () => {
    const p = pool();
    try {
      const out: number[] = [];
      for await (const sq of p.map("square", [1, 2, 3, 4, 5, 6, 7], { chunkSize: 2, ordered: false })) out.push(sq);
      assert.deepEqual(out.sort((a, b) => a - b), [1, 4, 9, 16, 25, 36, 49]);
    } finally {
      await p.destroy();
    }
  });

  it('"auto" chunks batch tiny calls into few worker calls', async () => {
    const p = pool();
    try {
      let n = 0;
      for await (const _ of p.map("square", Array.from({ length: 2000 }, (_, i) => i))) n++;
      assert.equal(n, 2000);
      assert.ok(p.stats().completed <= 16, `2000 items took ${p.stats().completed} worker calls`);
    } finally {
      await p.destroy();
    }
  });

  it("an error in map rejects the iteration and cancels the chunks still running", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      const items = ["ok", "bad"];
      const it = (p as unknown as WorkerPool<{ fail(x: string): string }>).map("fail", items, { chunkSize: 1 });
      const e = await rejection(it.next());
      assert.equal(e.name, "ValidationError");
      assert.throws(() => p.map("square", [1], { chunkSize: 0 }), RangeError);
    } finally {
      await p.destroy();
    }
  });

  it("aborting a map's signal stops its running chunks and the iteration throws the reason", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      const ac = new AbortController();
      const seen: number[] = [];
      const iterate = (async () => {
        for await (const n of p.map("busy", [10, 20_000, 20_000], { chunkSize: 1, signal: ac.signal })) seen.push(n);
      })();
      while (seen.length === 0) await delay(10); // the first chunk is back (after the worker's start)
      await delay(50); // the second is running
      assert.equal(p.stats().busy, 1);
      ac.abort(new RangeError("enough"));
      const e = await rejection(iterate);
      assert.ok(e instanceof RangeError && e.message === "enough", `${e.name}: ${e.message}`);
      assert.equal(seen.length, 1, "the first chunk's result came through");
      assert.equal(p.stats().busy, 0, "the running chunk was stopped");
      assert.equal(p.stats().queued, 0);
      assert.throws(() => p.map("square", [1], { signal: "no" as never }), TypeError);
    } finally {
      await p.destroy();
    }
  });

  it("leaving a map loop early cancels its remaining chunks", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      for await (const _ of p.map("delayedEcho" as never, [1, 2, 3, 4] as never, { chunkSize: 1 })) break;
      assert.equal(p.stats().busy, 0);
      assert.equal(p.stats().queued, 0);
    } finally {
      await p.destroy();
    }
  });
});

describe("WorkerPool: cancellation", () => {
  it("cancelling a queued call removes it from the queue; it never runs", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      const first = p.run("delayedEcho", "first", 150);
      const second = p.run("delayedEcho", "second", 1);
      await delay(20);
      assert.equal(p.stats().queued, 1);
      second.cancel("not needed");
      const e = await rejection(second);
      assert.ok(e instanceof CancelledError);
      assert.equal(second.cancelled(), true);
      assert.equal(p.stats().queued, 0);
      assert.equal(await first, "first");
      assert.equal(p.stats().completed, 1, "the cancelled call never ran");
    } finally {
      await p.destroy();
    }
  });

  for (const kind of ["thread", "process"] as const) {
    it(`${kind}: cancelling a running call stops its worker, which the pool replaces`, async () => {
      const p = pool({ kind, maxWorkers: 1 });
      try {
        const before = await p.run("threadInfo");
        const long = p.run("busy", 20_000);
        await delay(150);
        assert.equal(p.stats().busy, 1);
        const t0 = Date.now();
        long.cancel("stop");
        await rejection(long);
        assert.equal(long.cancelled(), true);
        assert.ok(Date.now() - t0 < 5_000, "the call stops at once, it does not run to its end");
        assert.equal(await p.run("add", 1, 2), 3, "a new worker takes the next call");
        if (kind === "process") assert.notEqual((await p.run("threadInfo")).pid, before.pid);
      } finally {
        await p.destroy();
      }
    });
  }

  it('thread, backend "tinypool": results, errors, crashes and cancels keep their guarantees', async () => {
    const p = pool({ kind: "thread", backend: "tinypool", maxWorkers: 1 });
    try {
      assert.equal(await p.run("add", 20, 22), 42);
      const e = await rejection(p.run("fail", "boom"));
      assert.match(String((e as Error).message), /boom/);
      const crash = await rejection(p.run("exit", 3));
      assert.equal((crash as Error).name, "WorkerCrashedError");
      const long = p.run("busy", 20_000);
      await delay(150);
      long.cancel("stop");
      await rejection(long);
      assert.equal(long.cancelled(), true);
      assert.equal(await p.run("add", 1, 2), 3, "a new worker takes the next call");
    } finally {
      await p.destroy();
    }
  });

  it("cancelling the task that waits on a call stops the call (a failing sibling's group does this)", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      let call: Task<number> | undefined;
      await run(function* () {
        const parent = spawnWaiter(p, (t) => (call = t));
        yield* sleep(150);
        parent.cancel("a sibling failed");
        try {
          yield* parent;
        } catch (e) {
          assert.ok(e instanceof CancelledError);
        }
      });
      assert.equal(call!.cancelled(), true);
      assert.equal(p.stats().busy, 0);
    } finally {
      await p.destroy();
    }
  });

  it("run() cancels pool calls still running when its main task ends", async () => {
    const p = pool({ maxWorkers: 1 });
    try {
      let leftover: Task<number> | undefined;
      await run(function* () {
        leftover = p.run("busy", 20_000);
        yield* sleep(100);
      });
      assert.equal(leftover!.cancelled(), true);
      assert.equal(p.stats().busy, 0);
    } finally {
      await p.destroy();
    }
  });

  it("a call cancelled before it starts never reaches a worker", async () => {
    const p = pool();
    try {
      const t = p.run("add", 1, 2);
      t.cancel();
      await rejection(t);
      assert.equal(t.cancelled(), true);
      assert.equal(p.stats().workers, 0);
    } finally {
      await p.destroy();
    }
  });
});

function spawnWaiter(p: WorkerPool<Tasks>, keep: (t: Task<number>) => void): Task<number> {
  return getRunningLoop().createTask(function* () {
    const t = p.run("busy", 20_000);
    keep(t);
    return yield* t;
  });
}
