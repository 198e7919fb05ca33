/**
 * CPython's Lib/test/test_asyncio/test_queues.py (3.13, with `shutdown`), ported case by
 * case for Queue, LifoQueue and PriorityQueue. Each test names the CPython test it ports;
 * `asyncio.create_task` is `spawn`, `await asyncio.sleep(0)` is `yield* yieldNow()`,
 * `put_nowait` is `putNowait`, `task_done` is `taskDone`, `q._getters` is the internal
 * waiter list. The three cases test/asyncio-corners.test.ts already ports
 * (test_put_cancelled_race, test_cancelled_puts_not_being_held_in_self_putters,
 * test_cancelled_put_silence_value_error_exception) and the `repr`/`_format`/generic-alias
 * cases are left out. Where loopwork deliberately differs, the test says so.
 */
import assert from "node:assert/strict";
import {
  CancelledError,
  type Coroutine,
  Event,
  Future,
  getRunningLoop,
  InvalidStateError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  run,
  spawn,
  taskGroup,
  TimeoutError,
  wait,
  waitFor,
  yieldNow,
} from "../../mod.ts";
import { catching } from "../expect.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;


describe("test_queues: QueueBasicTests", () => {
  it("test_empty / test_full / test_order", async () => {
    await run(function* () {
      const q = new Queue<number>();
      assert.ok(q.empty());
      yield* q.put(1);
      assert.ok(!q.empty());
      assert.equal(yield* q.get(), 1);
      assert.ok(q.empty());
      assert.ok(!q.full());
      const q1 = new Queue<number>({ maxsize: 1 });
      yield* q1.put(1);
      assert.ok(q1.full());
      for (const i of [1, 3, 2]) yield* q.put(i);
      const items = [yield* q.get(), yield* q.get(), yield* q.get()];
      assert.deepEqual(items, [1, 3, 2]);
    }, virtual);
  });

  it("test_maxsize: the putter is blocked after maxsize items and resumes when one is taken", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 2 });
      assert.equal(q.maxsize, 2);
      const haveBeenPut: number[] = [];
      const t = spawn(function* () {
        for (let i = 0; i < 3; i++) {
          yield* q.put(i);
          haveBeenPut.push(i);
        }
        return true;
      });
      for (let i = 0; i < 2; i++) yield* yieldNow();
      assert.deepEqual(haveBeenPut, [0, 1]);
      assert.equal(yield* q.get(), 0);
      yield* yieldNow();
      assert.deepEqual(haveBeenPut, [0, 1, 2]);
      assert.equal(yield* q.get(), 1);
      assert.equal(yield* q.get(), 2);
      assert.ok(t.done() && t.result());
    }, virtual);
  });
});

describe("test_queues: QueueGetTests", () => {
  it("test_blocking_get / test_nonblocking_get / test_nonblocking_get_exception", async () => {
    await run(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      assert.equal(yield* q.get(), 1);
      q.putNowait(1);
      assert.equal(q.getNowait(), 1);
      assert.throws(() => q.getNowait(), QueueEmpty);
    }, virtual);
  });

  it("test_blocking_get_wait: a get waits for a later put", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const started = new Event();
      let finished = false;
      const t = spawn(function* () {
        started.set();
        const res = yield* q.get();
        finished = true;
        return res;
      });
      yield* started.wait();
      assert.ok(!finished);
      getRunningLoop().callLater(10, () => q.putNowait(1));
      assert.equal(yield* t, 1);
      assert.ok(finished);
    }, virtual);
  });

  it("test_get_cancelled_race: a getter cancelled before the put leaves the item to the next", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const t1 = spawn(function* () { return yield* q.get(); });
      const t2 = spawn(function* () { return yield* q.get(); });
      yield* yieldNow();
      t1.cancel();
      yield* yieldNow();
      assert.ok(t1.done());
      yield* q.put("a");
      yield* yieldNow();
      assert.equal(yield* t2, "a");
    }, virtual);
  });

  it("test_get_with_waiting_putters: puts waiting for room go in, in order, as gets make room", async () => {
    await run(function* () {
      const q = new Queue<string>({ maxsize: 1 });
      spawn(function* () { yield* q.put("a"); });
      spawn(function* () { yield* q.put("b"); });
      assert.equal(yield* q.get(), "a");
      assert.equal(yield* q.get(), "b");
    }, virtual);
  });

  it("test_why_are_getters_waiting: a producer and a consumer through a queue of 1 both finish", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      yield* taskGroup(function* (tg) {
        tg.spawn(function* () {
          for (let i = 0; i < 5; i++) yield* q.put(i);
        });
        tg.spawn(function* () {
          for (let i = 0; i < 5; i++) yield* q.get();
        });
      });
    }, virtual);
  });

  it("test_cancelled_getters_not_being_held_in_self_getters: a get timed out by waitFor leaves no getter", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 5 });
      const e = yield* catching(waitFor(q.get(), 100));
      assert.ok(e instanceof TimeoutError);
      assert.equal(q._getters.size, 0);
    }, virtual);
  });
});

describe("test_queues: QueuePutTests", () => {
  it("test_blocking_put / test_nonblocking_put / test_nonblocking_put_exception", async () => {
    await run(function* () {
      const q = new Queue<number>();
      yield* q.put(1);
      assert.equal(yield* q.get(), 1);
      q.putNowait(1);
      assert.equal(q.getNowait(), 1);
      const q1 = new Queue<number>({ maxsize: 1 });
      q1.putNowait(1);
      assert.throws(() => q1.putNowait(2), QueueFull);
    }, virtual);
  });

  it("test_blocking_put_wait: a put waits for a later get", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      const started = new Event();
      let finished = false;
      getRunningLoop().callLater(10, () => q.getNowait());
      const t = spawn(function* () {
        started.set();
        yield* q.put(1);
        yield* q.put(2);
        finished = true;
      });
      yield* started.wait();
      assert.ok(!finished);
      yield* t;
      assert.ok(finished);
    }, virtual);
  });

  it("test_get_cancel_drop_one_pending_reader: a reader woken and cancelled does not drop its item", async () => {
    await run(function* () {
      const q = new Queue<number>();
      let reader = spawn(function* () { return yield* q.get(); });
      yield* yieldNow();
      q.putNowait(1);
      q.putNowait(2);
      reader.cancel();
      yield* wait([reader]);
      if (reader.cancelled()) {
        reader = spawn(function* () { return yield* q.get(); });
        yield* reader;
      }
      assert.equal(reader.result(), 1, "if we get 2, 1 was dropped");
    }, virtual);
  });

  it("test_get_cancel_drop_many_pending_readers: the two items reach the two readers left", async () => {
    await run(function* () {
      const q = new Queue<number>();
      let r2: ReturnType<typeof spawn<number>> | undefined;
      let r3: ReturnType<typeof spawn<number>> | undefined;
      yield* taskGroup(function* (tg) {
        const r1 = tg.spawn(function* () { return yield* q.get(); });
        r2 = tg.spawn(function* () { return yield* q.get(); });
        r3 = tg.spawn(function* () { return yield* q.get(); });
        yield* yieldNow();
        q.putNowait(1);
        q.putNowait(2);
        r1.cancel();
        const e = yield* catching(r1);
        assert.ok(e instanceof CancelledError);
        yield* r3;
      });
      assert.deepEqual(new Set([r2!.result(), r3!.result()]), new Set([1, 2]));
    }, virtual);
  });

  it("test_put_cancel_drop: a put woken and cancelled puts nothing; a new put then goes in", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      q.putNowait(1);
      let writer = spawn(function* () { yield* q.put(2); });
      yield* yieldNow();
      assert.equal(q.getNowait(), 1);
      writer.cancel();
      yield* wait([writer]);
      if (writer.cancelled()) {
        writer = spawn(function* () { yield* q.put(2); });
        yield* writer;
      }
      assert.equal(q.getNowait(), 2);
      assert.equal(q.qsize(), 0);
    }, virtual);
  });

  it("test_float_maxsize: loopwork refuses a maxsize that is not an integer (deliberate: bad input gets a clear error)", () => {
    // CPython accepts 1.3 and compares qsize() >= maxsize (so it holds 2 items).
    assert.throws(() => new Queue({ maxsize: 1.3 }), RangeError);
  });

  it("test_put_cancelled / test_put_with_waiting_getters", async () => {
    await run(function* () {
      const q = new Queue<string | number>();
      const t = spawn(function* () {
        yield* q.put(1);
        return true;
      });
      assert.equal(yield* q.get(), 1);
      assert.ok(t.done() && t.result());
      const g = spawn(function* () { return yield* q.get(); });
      yield* yieldNow();
      yield* q.put("a");
      assert.equal(yield* g, "a");
    }, virtual);
  });

  it("test_why_are_putters_waiting: four putters and a getter that drains what is there all finish", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 2 });
      yield* taskGroup(function* (tg) {
        tg.spawn(function* () {
          yield* yieldNow();
          const num = q.qsize();
          for (let i = 0; i < num; i++) q.getNowait();
        });
        for (const i of [0, 1, 2, 3]) tg.spawn(function* () { yield* q.put(i); });
      });
    }, virtual);
  });
});

describe("test_queues: LifoQueueTests, PriorityQueueTests", () => {
  it("test_order", async () => {
    await run(function* () {
      const lifo = new LifoQueue<number>();
      const prio = new PriorityQueue<number>();
      for (const i of [1, 3, 2]) {
        yield* lifo.put(i);
        yield* prio.put(i);
      }
      assert.deepEqual([yield* lifo.get(), yield* lifo.get(), yield* lifo.get()], [2, 3, 1]);
      assert.deepEqual([yield* prio.get(), yield* prio.get(), yield* prio.get()], [1, 2, 3]);
    }, virtual);
  });
});

const kinds = [
  ["Queue", () => new Queue<number | string>()],
  ["LifoQueue", () => new LifoQueue<number | string>()],
  ["PriorityQueue", () => new PriorityQueue<number | string>()],
] as const;

for (const [name, make] of kinds) {
  describe(`test_queues: ${name}JoinTests`, () => {
    it("test_task_done_underflow: InvalidStateError (CPython: ValueError)", () => {
      assert.throws(() => make().taskDone(), InvalidStateError);
    });

    it("test_task_done: join() ends once two workers marked every item done", async () => {
      await run(function* () {
        const q = make();
        for (let i = 0; i < 100; i++) q.putNowait(i);
        let accumulator = 0;
        let running = true;
        yield* taskGroup(function* (tg) {
          const tasks = [0, 1].map(() =>
            tg.spawn(function* () {
              while (running) {
                const item = (yield* q.get()) as number;
                accumulator += item;
                q.taskDone();
              }
            })
          );
          yield* q.join();
          assert.equal(accumulator, (99 * 100) / 2);
          running = false;
          for (let i = 0; i < tasks.length; i++) q.putNowait(0);
        });
      }, virtual);
    });

    it("test_join_empty_queue", async () => {
      await run(function* () {
        const q = make();
        yield* q.join();
        yield* q.join();
      }, virtual);
    });
  });

  describe(`test_queues: ${name}ShutdownTests`, () => {
    it("test_shutdown_empty: a waiting get fails; join() ends; put and get fail", async () => {
      await run(function* () {
        const q = make();
        const getTask = spawn(function* () { return yield* q.get(); });
        yield* yieldNow();
        q.shutdown(false);
        assert.equal(q.qsize(), 0);
        yield* q.join();
        yield* yieldNow();
        assert.ok(getTask.done());
        assert.ok((yield* catching(getTask)) instanceof QueueShutDown);
        assert.ok((yield* catching(q.put("data"))) instanceof QueueShutDown);
        assert.throws(() => q.putNowait("data"), QueueShutDown);
        assert.ok((yield* catching(q.get())) instanceof QueueShutDown);
        assert.throws(() => q.getNowait(), QueueShutDown);
      }, virtual);
    });

    it("test_shutdown_nonempty: a waiting put fails; the item left is got; join() waits for its taskDone()", async () => {
      await run(function* () {
        const q = name === "Queue" ? new Queue<string>({ maxsize: 1 }) : name === "LifoQueue" ? new LifoQueue<string>({ maxsize: 1 }) : new PriorityQueue<string>({ maxsize: 1 });
        q.putNowait("data");
        const joinTask = spawn(function* () { yield* q.join(); });
        const putTask = spawn(function* () { yield* q.put("data2"); });
        yield* yieldNow();
        assert.ok(!putTask.done());
        q.shutdown(false);
        assert.equal(q.qsize(), 1);
        yield* yieldNow();
        assert.ok(putTask.done());
        assert.ok((yield* catching(putTask)) instanceof QueueShutDown);
        assert.equal(yield* q.get(), "data");
        yield* yieldNow();
        assert.ok(!joinTask.done());
        assert.ok((yield* catching(q.put("data"))) instanceof QueueShutDown);
        assert.throws(() => q.putNowait("data"), QueueShutDown);
        assert.ok((yield* catching(q.get())) instanceof QueueShutDown);
        assert.throws(() => q.getNowait(), QueueShutDown);
        q.taskDone();
        yield* yieldNow();
        assert.ok(joinTask.done());
        yield* joinTask;
        assert.throws(() => q.taskDone(), InvalidStateError);
      }, virtual);
    });

    it("test_shutdown_immediate: the items go, join() ends, put and get fail, nothing is left to mark done", async () => {
      await run(function* () {
        const q = make();
        q.putNowait("data");
        const joinTask = spawn(function* () { yield* q.join(); });
        q.shutdown(true);
        assert.equal(q.qsize(), 0);
        yield* yieldNow();
        assert.ok(joinTask.done());
        yield* joinTask;
        assert.ok((yield* catching(q.put("data"))) instanceof QueueShutDown);
        assert.throws(() => q.putNowait("data"), QueueShutDown);
        assert.ok((yield* catching(q.get())) instanceof QueueShutDown);
        assert.throws(() => q.getNowait(), QueueShutDown);
        assert.throws(() => q.taskDone(), InvalidStateError);
      }, virtual);
    });

    it("test_shutdown_immediate_with_unfinished: an item got but not marked done keeps join() waiting", async () => {
      await run(function* () {
        const q = make();
        q.putNowait("data");
        q.putNowait("data");
        const joinTask = spawn(function* () { yield* q.join(); });
        assert.equal(yield* q.get(), "data");
        q.shutdown(true);
        assert.equal(q.qsize(), 0);
        yield* yieldNow();
        assert.ok(!joinTask.done());
        assert.ok((yield* catching(q.put("data"))) instanceof QueueShutDown);
        assert.throws(() => q.putNowait("data"), QueueShutDown);
        assert.ok((yield* catching(q.get())) instanceof QueueShutDown);
        assert.throws(() => q.getNowait(), QueueShutDown);
        q.taskDone();
        assert.throws(() => q.taskDone(), InvalidStateError);
        yield* yieldNow();
        assert.ok(joinTask.done());
        yield* joinTask;
      }, virtual);
    });
  });
}
