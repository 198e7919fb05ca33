import assert from "node:assert/strict";
import {
  asCompleted,
  CancelledError,
  type Coroutine,
  currentTask,
  Future,
  gather,
  getRunningLoop,
  run,
  shield,
  sleep,
  spawn,
  type Task,
  TimeoutError,
  wait,
  waitFor,
} from "../mod.ts";
import { catching } from "./expect.ts";
import { describe, it } from "./harness.ts";

const virtual = <T>(main: () => Coroutine<T> | Promise<T>): Promise<T> =>
  run(main as () => Coroutine<T>, { clock: "virtual" });

const now = (): number => getRunningLoop().time();

function* after<T>(ms: number, value: T): Coroutine<T> {
  yield* sleep(ms);
  return value;
}

function* failAfter(ms: number, error: unknown): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

describe("gather", () => {
  it("runs awaitables concurrently and gives results in argument order, not completion order", async () => {
    await virtual(function* () {
      const t = spawn(after(20, "task"));
      const [a, b, c, d] = yield* gather([after(30, 1), t, sleep(10, "future"), Promise.resolve("promise")]);
      const typed: [number, string, string, string] = [a, b, c, d];
      assert.deepEqual(typed, [1, "task", "future", "promise"]);
      assert.equal(now(), 30);
    });
  });

  it("the first error propagates at once while the siblings keep running", async () => {
    await virtual(function* () {
      const sibling = spawn(after(100, "sibling"));
      const e = yield* catching(gather([failAfter(10, new RangeError("first")), sibling, failAfter(20, new TypeError("second"))]));
      assert.ok(e instanceof RangeError && e.message === "first");
      assert.equal(now(), 10);
      assert.equal(sibling.done(), false);
      assert.equal(yield* sibling, "sibling", "not cancelled");
    });
  });

  it("returnExceptions puts errors and CancelledErrors in the results", async () => {
    await virtual(function* () {
      const doomed = spawn(after(100, "never"));
      const g = gather([after(10, 1), failAfter(5, new RangeError("bad")), doomed], { returnExceptions: true });
      yield* sleep(1);
      doomed.cancel("gone");
      const out = yield* g;
      assert.equal(out[0], 1);
      assert.ok(out[1] instanceof RangeError);
      assert.ok(out[2] instanceof CancelledError && out[2].message === "gone");
    });
  });

  it("with returnExceptions the results are typed as value or Error, in order", async () => {
    await virtual(function* () {
      const out = yield* gather([after(1, 1), failAfter(2, new RangeError("r")), Promise.resolve("s")], { returnExceptions: true });
      const typed: [number | Error, Error, string | Error] = out;
      assert.equal(typed[0], 1);
      assert.ok(typed[1] instanceof RangeError);
      assert.equal(typed[2], "s");
    });
  });

  it("a cancelled child fails the gather with CancelledError without cancelling the gather or its siblings", async () => {
    await virtual(function* () {
      const victim = spawn(after(100, 0));
      const sibling = spawn(after(50, 1));
      const g = gather([victim, sibling]);
      yield* sleep(1);
      victim.cancel("victim");
      const e = yield* catching(g);
      assert.ok(e instanceof CancelledError && e.message === "victim");
      assert.equal(g.cancelled(), false);
      assert.equal(yield* sibling, 1);
    });
  });

  it("cancelling the gather cancels every child, and the gather ends cancelled even with returnExceptions", async () => {
    await virtual(function* () {
      for (const returnExceptions of [false, true]) {
        const a = spawn(after(100, 0));
        const b = spawn(after(200, 1));
        const g = gather([a, b], { returnExceptions });
        yield* sleep(10);
        assert.equal(g.cancel("enough"), true);
        const e = yield* catching(g);
        assert.ok(e instanceof CancelledError && e.message === "enough", `got ${e}`);
        assert.ok(a.cancelled() && b.cancelled() && g.cancelled());
      }
    });
  });

  it("cancelling the task waiting on a gather cancels the gather's children", async () => {
    await virtual(function* () {
      const children: Task<number>[] = [spawn(after(100, 0)), spawn(after(100, 1))];
      const waiter = spawn(function* () {
        return yield* gather(children);
      });
      yield* sleep(10);
      waiter.cancel();
      const e = yield* catching(waiter);
      assert.ok(e instanceof CancelledError);
      assert.ok(children.every((c) => c.cancelled()));
    });
  });

  it("an empty list resolves to [] and a repeated awaitable runs once", async () => {
    await virtual(function* () {
      assert.deepEqual(yield* gather([]), []);
      let runs = 0;
      const once = (function* () {
        runs++;
        yield* sleep(5);
        return "x";
      })();
      assert.deepEqual(yield* gather([once, once]), ["x", "x"]);
      assert.equal(runs, 1);
    });
  });

  it("works from an async function and outside any loop for promises and futures", async () => {
    assert.deepEqual(await gather([Promise.resolve(1), Promise.resolve("a")]), [1, "a"]);
    const out = await virtual(async () => await gather([sleep(10, 1), after(5, 2)]));
    assert.deepEqual(out, [1, 2]);
  });

  it("errors of children that fail after the gather failed are not reported as never retrieved", async () => {
    const reported: unknown[] = [];
    await virtual(function* () {
      getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx.exception));
      yield* catching(gather([failAfter(1, new Error("a")), failAfter(2, new Error("b"))]));
      yield* sleep(5);
    });
    assert.deepEqual(reported, []);
  });

  it("bad input: a non-awaitable item is a TypeError naming its index, and no task is started", async () => {
    await virtual(function* () {
      let started = false;
      const gen = (function* () {
        started = true;
      })();
      assert.throws(() => gather([gen, 42 as never]), (e: Error) => e instanceof TypeError && /item 1 is not awaitable: got number 42/.test(e.message));
      assert.throws(() => gather([after as never]), /call it first/);
      assert.throws(() => gather("abc" as never), /expects an array/);
      assert.throws(() => gather([], { returnExceptions: "yes" as never }), /returnExceptions must be a boolean/);
      yield* sleep(1);
      assert.equal(started, false);
    });
  });
});

describe("wait", () => {
  it("ALL_COMPLETED (default) waits for everything and returns done and pending sets", async () => {
    await virtual(function* () {
      const a = spawn(after(10, 1));
      const b = spawn(failAfter(20, new Error("b")));
      const { done, pending } = yield* wait([a, b]);
      assert.deepEqual([done.size, pending.size], [2, 0]);
      assert.ok(done.has(a) && done.has(b));
      assert.equal(now(), 20);
      assert.throws(() => b.result(), /b/);
    });
  });

  it("FIRST_COMPLETED returns at the first completion and never cancels the rest", async () => {
    await virtual(function* () {
      const fast = spawn(after(10, "fast"));
      const slow = spawn(after(100, "slow"));
      const { done, pending } = yield* wait([fast, slow], { returnWhen: "FIRST_COMPLETED" });
      assert.ok(done.has(fast) && pending.has(slow));
      assert.equal(now(), 10);
      assert.equal(yield* slow, "slow");
    });
  });

  it("FIRST_EXCEPTION returns at the first failure, or when all are done if none fails", async () => {
    await virtual(function* () {
      const ok = spawn(after(5, 1));
      const bad = spawn(failAfter(10, new Error("x")));
      const slow = spawn(after(100, 2));
      const r1 = yield* wait([ok, bad, slow], { returnWhen: "FIRST_EXCEPTION" });
      assert.ok(r1.done.has(ok) && r1.done.has(bad) && r1.pending.has(slow));
      assert.equal(now(), 10);
      const r2 = yield* wait([slow, spawn(after(1, 3))], { returnWhen: "FIRST_EXCEPTION" });
      assert.equal(r2.pending.size, 0);
      assert.equal(now(), 100);
    });
  });

  it("a timeout returns what is done so far and cancels nothing", async () => {
    await virtual(function* () {
      const a = spawn(after(10, 1));
      const b = spawn(after(100, 2));
      const { done, pending } = yield* wait([a, b], { timeout: 50 });
      assert.ok(done.has(a) && pending.has(b));
      assert.equal(now(), 50);
      assert.equal(b.cancelled(), false);
      yield* b;
    });
  });

  it("takes any iterable, and a repeated awaitable counts once", async () => {
    await virtual(function* () {
      const a = spawn(after(5, 1));
      const { done, pending } = yield* wait(new Set([a, a]));
      assert.deepEqual([done.size, pending.size], [1, 0]);
      const r = yield* wait([a, a, a]);
      assert.equal(r.done.size, 1);
    });
  });

  it("generator objects and promises are wrapped: the sets hold the wrappers", async () => {
    await virtual(function* () {
      const { done } = yield* wait([after(5, "g"), Promise.resolve("p")]);
      assert.deepEqual([...done].map((f) => f.result()).sort(), ["g", "p"]);
    });
  });

  it("cancelling the wait cancels none of the awaitables and leaves no timer behind", async () => {
    await virtual(function* () {
      const a = spawn(after(100, 1));
      const w = wait([a], { timeout: 10_000 });
      yield* sleep(1);
      w.cancel();
      yield* a;
      assert.equal(now(), 100, "the virtual clock did not jump to the dropped 10 s timer");
    });
  });

  it("bad input: an empty list or an unknown returnWhen is a RangeError; a NaN timeout too", async () => {
    await virtual(function* () {
      assert.throws(() => wait([]), (e: Error) => e instanceof RangeError && /at least one awaitable, got an empty list/.test(e.message));
      assert.throws(() => wait([sleep(1)], { returnWhen: "FIRST" as never }), (e: Error) => e instanceof RangeError && /returnWhen must be .* got string "FIRST"/.test(e.message));
      assert.throws(() => wait([sleep(1)], { timeout: NaN }), (e: Error) => e instanceof RangeError && /NaN/.test(e.message));
      assert.throws(() => wait([{}] as never), /item 0 is not awaitable: got Object object/);
      yield* sleep(2);
    });
  });
});

describe("asCompleted", () => {
  it("iterating gives futures that settle in completion order", async () => {
    await virtual(function* () {
      const seen: [string, number][] = [];
      for (const next of asCompleted([sleep(300, "slow"), after(100, "fast"), Promise.resolve("now"), sleep(200, "middle")])) {
        seen.push([yield* next, now()]);
      }
      assert.deepEqual(seen, [["now", 0], ["fast", 100], ["middle", 200], ["slow", 300]]);
    });
  });

  it("the futures carry errors in completion order too", async () => {
    await virtual(function* () {
      const it = asCompleted<string>([sleep(20, "ok"), failAfter(10, new RangeError("early"))])[Symbol.iterator]();
      const e = yield* catching(it.next().value!);
      assert.ok(e instanceof RangeError);
      assert.equal(yield* it.next().value!, "ok");
      assert.equal(it.next().done, true);
    });
  });

  it("futures taken all at once still settle in completion order", async () => {
    await virtual(function* () {
      const futures = [...asCompleted([sleep(30, "c"), sleep(10, "a"), sleep(20, "b")])];
      assert.equal(futures.length, 3);
      assert.deepEqual(yield* gather(futures), ["a", "b", "c"]);
    });
  });

  it("for await gives the results in completion order, and a failure throws", async () => {
    await virtual(async () => {
      const order: string[] = [];
      for await (const x of asCompleted([spawn(after(20, "slow")), after(10, "fast"), Promise.resolve("now")])) {
        const typed: string = x;
        order.push(`${typed}@${now()}`);
      }
      assert.deepEqual(order, ["now@0", "fast@10", "slow@20"]);
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const x of asCompleted([sleep(5, 1), failAfter(10, new RangeError("r")), sleep(20, 3)])) seen.push(x);
      }, RangeError);
      assert.deepEqual(seen, [1]);
    });
  });

  it("a timeout makes the remaining futures fail with TimeoutError and cancels nothing", async () => {
    await virtual(function* () {
      const slow = spawn(after(100, "slow"));
      const got: unknown[] = [];
      for (const next of asCompleted([sleep(10, "fast"), slow], { timeout: 50 })) {
        try {
          got.push(yield* next);
        } catch (e) {
          got.push(e instanceof TimeoutError ? `timeout at ${now()}` : e);
        }
      }
      assert.deepEqual(got, ["fast", "timeout at 50"]);
      assert.equal(yield* slow, "slow");
    });
  });

  it("for await throws TimeoutError once the timeout passed", async () => {
    await virtual(async () => {
      const seen: string[] = [];
      await assert.rejects(async () => {
        for await (const x of asCompleted([sleep(10, "a"), sleep(100, "b")], { timeout: 50 })) seen.push(x);
      }, TimeoutError);
      assert.deepEqual(seen, ["a"]);
    });
  });

  it("a waiter that gives up (is cancelled) passes its turn to the next one", async () => {
    await virtual(function* () {
      const it = asCompleted([sleep(10, "a"), sleep(20, "b")])[Symbol.iterator]();
      const first = it.next().value!;
      const second = it.next().value!;
      first.cancel();
      assert.equal(yield* second, "a");
    });
  });

  it("breaking out early stops listening and leaves no timer behind", async () => {
    await virtual(function* () {
      for (const next of asCompleted([sleep(10, "a"), sleep(20, "b")], { timeout: 60_000 })) {
        yield* next;
        break;
      }
      yield* sleep(25);
      assert.equal(now(), 35);
    });
  });

  it("bad input: a non-awaitable is a TypeError, a NaN timeout a RangeError", async () => {
    await virtual(function* () {
      assert.throws(() => asCompleted([null as never]), /item 0 is not awaitable: got null/);
      assert.throws(() => asCompleted([sleep(1)], { timeout: NaN }), RangeError);
      yield* sleep(2);
    });
  });
});

describe("shield", () => {
  it("cancelling the waiter leaves the shielded task running", async () => {
    await virtual(function* () {
      const save = spawn(after(100, "saved"));
      const waiter = spawn(function* () {
        return yield* shield(save);
      });
      yield* sleep(10);
      waiter.cancel();
      const e = yield* catching(waiter);
      assert.ok(e instanceof CancelledError);
      assert.equal(save.cancelled(), false);
      assert.equal(yield* save, "saved");
      assert.equal(now(), 100);
    });
  });

  it("the shield settles as the inner does: result, error or cancellation", async () => {
    await virtual(function* () {
      assert.equal(yield* shield(after(5, 1)), 1);
      assert.ok((yield* catching(shield(failAfter(5, new RangeError("r"))))) instanceof RangeError);
      const inner = spawn(after(50, 0));
      const s = shield(inner);
      inner.cancel("inner gone");
      const e = yield* catching(s);
      assert.ok(e instanceof CancelledError && e.message === "inner gone");
    });
  });

  it("waitFor(shield(task)) times out the wait while the task goes on (the asyncio pattern)", async () => {
    await virtual(function* () {
      const save = spawn(after(100, "saved"));
      const e = yield* catching(waitFor(shield(save), 10));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.equal(now(), 10);
      assert.equal(yield* save, "saved");
    });
  });

  it("an awaitable already done is returned as it is; a promise is wrapped", async () => {
    await virtual(function* () {
      const f = new Future<number>();
      f.setResult(1);
      assert.equal(shield(f), f);
      assert.equal(yield* shield(Promise.resolve("p")), "p");
      assert.throws(() => shield(3 as never), /shield\(\) expects a Future, a Task, a generator object or a promise, got number 3/);
    });
  });

  it("a shielded task that fails after its shield was cancelled is reported, since nobody awaited it", async () => {
    const reported: unknown[] = [];
    await virtual(function* () {
      getRunningLoop().setExceptionHandler((ctx) => reported.push((ctx.exception as Error).message));
      const s = shield(failAfter(10, new Error("late")));
      s.cancel();
      yield* sleep(20);
    });
    assert.deepEqual(reported, ["late"]);
  });
});
