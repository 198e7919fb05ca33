import assert from "node:assert/strict";
import {
  CancelledError,
  getRunningLoop,
  InvalidStateError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  run,
  sleep,
  spawn,
  yieldNow,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("Queue", () => {
  it("bad maxsize and options are refused with a clear error", () => {
    assert.throws(() => new Queue({ maxsize: 1.5 }), (e: Error) => e instanceof RangeError && /maxsize must be an integer >= 0.*1\.5/.test(e.message));
    assert.throws(() => new Queue({ maxsize: -1 }), RangeError);
    assert.throws(() => new Queue({ maxsize: "3" as never }), RangeError);
    assert.throws(() => new Queue(5 as never), TypeError);
    assert.throws(() => new PriorityQueue({ compare: 1 as never }), TypeError);
    assert.equal(new Queue().maxsize, 0);
  });

  it("putNowait/getNowait are FIFO and raise QueueFull and QueueEmpty", () => {
    const q = new Queue<number>({ maxsize: 2 });
    assert.equal(q.empty(), true);
    q.putNowait(1);
    q.putNowait(2);
    assert.equal(q.full(), true);
    assert.equal(q.qsize(), 2);
    assert.throws(() => q.putNowait(3), QueueFull);
    assert.equal(q.getNowait(), 1);
    assert.equal(q.getNowait(), 2);
    assert.throws(() => q.getNowait(), QueueEmpty);
  });

  it("put waits while the queue is full (back-pressure) and get while it is empty", async () => {
    const log: string[] = [];
    await run(function* () {
      const loop = getRunningLoop();
      const q = new Queue<number>({ maxsize: 1 });
      const producer = spawn(function* () {
        for (let i = 0; i < 3; i++) {
          yield* q.put(i);
          log.push(`put ${i} at ${loop.time()}`);
        }
      });
      for (let i = 0; i < 3; i++) {
        yield* sleep(10);
        log.push(`got ${yield* q.get()} at ${loop.time()}`);
      }
      yield* producer;
    }, virtual);
    assert.deepEqual(log, ["put 0 at 0", "got 0 at 10", "put 1 at 10", "got 1 at 20", "put 2 at 20", "got 2 at 30"]);
  });

  it("waiting getters are served in FIFO order", async () => {
    const got: string[] = [];
    await run(function* () {
      const q = new Queue<number>();
      const tasks = ["a", "b", "c"].map((name, i) =>
        spawn(function* () {
          yield* sleep(i);
          got.push(`${name}${yield* q.get()}`);
        }),
      );
      yield* sleep(5);
      q.putNowait(1);
      q.putNowait(2);
      q.putNowait(3);
      for (const t of tasks) yield* t;
    }, virtual);
    assert.deepEqual(got, ["a1", "b2", "c3"]);
  });

  it("a getter woken with an item then cancelled before it runs passes the item on", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const b = spawn(function* () {
        return yield* q.get();
      });
      const c = spawn(function* () {
        return yield* q.get();
      });
      yield* yieldNow();
      q.putNowait("x"); // handed to b, which is woken...
      b.cancel(); // ...and cancelled before it runs
      assert.equal(yield* c, "x");
      assert.equal(b.cancelled(), true);
      assert.equal(q.qsize(), 0);
    }, virtual);
  });

  it("an item reserved for a getter cancelled before it runs stays at the head of the queue", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const b = spawn(function* () {
        return yield* q.get();
      });
      yield* yieldNow();
      q.putNowait(1);
      q.putNowait(2);
      b.cancel();
      yield* yieldNow();
      assert.deepEqual([q.getNowait(), q.getNowait()], [1, 2]);
    }, virtual);
  });

  it("getters woken then cancelled before they run leave their items, in queue order, to the next getters", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const getter = () => spawn(function* () {
        return yield* q.get();
      });
      const b = getter();
      const c = getter();
      yield* yieldNow();
      q.putNowait(1); // handed to b
      q.putNowait(2); // handed to c
      b.cancel(); // b never takes 1
      assert.equal(yield* c, 1);
      assert.equal(q.getNowait(), 2);
    }, virtual);
  });

  it("a putter cancelled while waiting leaves its item out", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      q.putNowait(1);
      const p = spawn(function* () {
        yield* q.put(2);
      });
      yield* yieldNow();
      p.cancel();
      yield* yieldNow();
      assert.equal(p.cancelled(), true);
      assert.equal(q.getNowait(), 1);
      assert.equal(q.qsize(), 0);
    }, virtual);
  });

  it("taskDone and join: join resolves once every item put was marked done", async () => {
    await run(function* () {
      const q = new Queue<number>();
      assert.equal(q.join().done(), true);
      for (let i = 0; i < 3; i++) q.putNowait(i);
      const joined = q.join();
      const worker = spawn(function* () {
        for (;;) {
          yield* q.get();
          yield* sleep(10);
          q.taskDone();
        }
      });
      yield* joined;
      assert.equal(q.qsize(), 0);
      worker.cancel();
      assert.throws(() => q.taskDone(), (e: Error) => e instanceof InvalidStateError && /more times/.test(e.message));
    }, virtual);
  });

  it("shutdown(): put fails, waiting putters fail, get drains then fails with QueueShutDown", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      q.putNowait(1);
      const putter = q.put(2);
      q.shutdown();
      assert.equal(q.isShutdown(), true);
      assert.throws(() => putter.result(), QueueShutDown);
      assert.throws(() => q.putNowait(3), QueueShutDown);
      assert.throws(() => q.put(3).result(), QueueShutDown);
      assert.equal(yield* q.get(), 1);
      assert.throws(() => q.getNowait(), QueueShutDown);
      assert.throws(() => q.get().result(), QueueShutDown);
    }, virtual);
  });

  it("shutdown() wakes waiting getters with QueueShutDown", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const g = spawn(function* () {
        return yield* q.get();
      });
      yield* yieldNow();
      q.shutdown();
      yield* yieldNow();
      assert.ok(g.exception() instanceof QueueShutDown);
    }, virtual);
  });

  it("shutdown(true) drops the items left and releases join()", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      q.putNowait(2);
      const joined = q.join();
      q.shutdown(true);
      assert.equal(q.qsize(), 0);
      yield* joined;
      assert.throws(() => q.getNowait(), QueueShutDown);
    }, virtual);
  });

  it("for await reads every item until shutdown", async () => {
    const seen: number[] = [];
    await run(async () => {
      const q = new Queue<number>({ maxsize: 2 });
      const consumer = spawn(async () => {
        for await (const x of q) seen.push(x);
        return "ended";
      });
      for (let i = 0; i < 5; i++) await q.put(i);
      q.shutdown();
      assert.equal(await consumer, "ended");
    }, virtual);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  });

  it("iterate({signal}) stops when the signal aborts", async () => {
    await run(async () => {
      const q = new Queue<number>();
      const ac = new AbortController();
      q.putNowait(1);
      const seen: number[] = [];
      setTimeout(() => ac.abort(new CancelledError("stop")), 1);
      await assert.rejects(async () => {
        for await (const x of q.iterate({ signal: ac.signal })) seen.push(x);
      }, CancelledError);
      assert.deepEqual(seen, [1]);
      assert.equal(q._getters.size, 0);
    }, virtual);
  });

  it("an aborted signal withdraws a waiting get or put", async () => {
    await run(async () => {
      const q = new Queue<number>({ maxsize: 1 });
      const ac = new AbortController();
      const get = q.get({ signal: ac.signal });
      ac.abort(new Error("stop getting"));
      await assert.rejects(async () => await get, /stop getting/);
      assert.equal(q._getters.size, 0);
      q.putNowait(1);
      const ac2 = new AbortController();
      const put = q.put(2, { signal: ac2.signal });
      ac2.abort(new CancelledError("stop putting"));
      assert.equal(put.cancelled(), true);
      assert.equal(q._putters.size, 0);
      assert.equal(q.getNowait(), 1);
      assert.equal(q.empty(), true, "the withdrawn put left nothing");
    }, virtual);
  });

  it("`using` a queue shuts it down when the block ends", () => {
    let q: Queue<number>;
    {
      using inner = new Queue<number>();
      q = inner;
      q.putNowait(1);
    }
    assert.equal(q.isShutdown(), true);
    assert.equal(q.getNowait(), 1);
  });
});

describe("PriorityQueue", () => {
  it("gives the smallest item first, equal items in put order", () => {
    const q = new PriorityQueue<number>();
    for (const x of [5, 1, 4, 1, 3]) q.putNowait(x);
    const out: number[] = [];
    while (!q.empty()) out.push(q.getNowait());
    assert.deepEqual(out, [1, 1, 3, 4, 5]);
  });

  it("orders by the comparator, stable among equals", () => {
    const q = new PriorityQueue<{ p: number; id: string }>({ compare: (a, b) => b.p - a.p });
    q.putNowait({ p: 1, id: "low" });
    q.putNowait({ p: 9, id: "high-1" });
    q.putNowait({ p: 9, id: "high-2" });
    assert.deepEqual([q.getNowait().id, q.getNowait().id, q.getNowait().id], ["high-1", "high-2", "low"]);
  });
});

describe("LifoQueue", () => {
  it("gives the most recent item first", async () => {
    await run(function* () {
      const q = new LifoQueue<number>({ maxsize: 3 });
      q.putNowait(1);
      q.putNowait(2);
      yield* q.put(3);
      assert.equal(q.full(), true);
      assert.deepEqual([yield* q.get(), yield* q.get(), yield* q.get()], [3, 2, 1]);
    }, virtual);
  });
});
