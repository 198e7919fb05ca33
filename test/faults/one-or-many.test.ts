/**
 * Fault tests for one awaitable given where a list goes, and a list's items given one by one,
 * as asyncio's `gather(*aws)` habit writes them: `gather(task)`, `gather(a, b)`,
 * `wait(gen())`, `asCompleted(task)`, and a future spread or iterated by `for…of` outside a
 * task. A future or task is iterable (for `yield*`), so before these checks a pending one
 * spread by a combinator yielded itself for ever: `gather(task)` ended the process out of
 * memory, and `gather(gen())` ran the coroutine's body outside the loop. Each case must end
 * with our TypeError naming the fix (a generous real-time guard, never a speed check).
 */
import assert from "node:assert/strict";
import { asCompleted, type Coroutine, Future, gather, moveOnAfter, run, sleep, spawn, taskGroup, timeout, timeoutAt, wait } from "../../mod.ts";
import { within } from "../expect.ts";
import { describe, it } from "../harness.ts";

function* download(ms: number, ran: number[]) {
  ran.push(ms);
  yield* sleep(ms);
  return ms;
}

/** Runs `body` on a virtual clock and returns the TypeError it ends with. */
async function typeErrorOf(body: () => Coroutine<unknown>): Promise<TypeError> {
  const error = await within("the run", run(body, { clock: "virtual" }).then(
    () => assert.fail("expected a TypeError"),
    (e: unknown) => e,
  ));
  assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
  return error;
}

describe("faults (one or many): one awaitable where a list goes", () => {
  for (const [name, call] of [
    ["gather", (x: unknown) => gather(x as never)],
    ["wait", (x: unknown) => wait(x as never)],
    ["asCompleted", (x: unknown) => asCompleted(x as never)],
  ] as const) {
    it(`${name}(task) names the list it wants and waits on nothing`, async () => {
      const error = await typeErrorOf(function* () {
        const t = spawn(download(5, []));
        yield* call(t) as unknown as Coroutine<unknown>;
      });
      assert.match(error.message, new RegExp(`^${name}\\(\\) expects an array .* got one awaitable, Task .*put it in a list, ${name}\\(\\[x\\]\\)`));
    });

    it(`${name}(gen()) does not run the coroutine's body outside the loop`, async () => {
      const ran: number[] = [];
      const error = await typeErrorOf(function* () {
        yield* call(download(7, ran)) as unknown as Coroutine<unknown>;
      });
      assert.match(error.message, /got one awaitable, a generator object/);
      assert.deepEqual(ran, [], "the coroutine's body ran");
    });

    it(`${name}(promise) is refused as not a list`, async () => {
      const error = await typeErrorOf(function* () {
        yield* call(Promise.resolve(1)) as unknown as Coroutine<unknown>;
      });
      assert.match(error.message, new RegExp(`^${name}\\(\\) expects an array`));
    });
  }

  it("an iterable that is not an awaitable is still a list: a Set of tasks, a generator's items spread", async () => {
    const got = await run(function* () {
      const set = new Set([spawn(download(2, [])), spawn(download(1, []))]);
      function* items() {
        yield Promise.resolve("p");
        yield spawn(download(3, []));
      }
      return [yield* gather([...set]), yield* gather([...items()])];
    }, { clock: "virtual" });
    assert.deepEqual(got, [[2, 1], ["p", 3]]);
  });
});

describe("faults (one or many): a list's awaitables given one by one", () => {
  for (const [name, call] of [
    ["gather", (a: unknown, b: unknown) => gather([a] as never, b as never)],
    ["wait", (a: unknown, b: unknown) => wait([a] as never, b as never)],
    ["asCompleted", (a: unknown, b: unknown) => asCompleted([a] as never, b as never)],
  ] as const) {
    for (const [kind, second] of [
      ["a task", () => spawn(download(2, []))],
      ["a promise", () => Promise.resolve(2)],
      ["a generator object", () => download(2, [])],
    ] as const) {
      it(`${name}(a, ${kind}) says the awaitables go in one list`, async () => {
        const error = await typeErrorOf(function* () {
          const r = call(spawn(download(1, [])), second());
          if (name === "asCompleted") for (const f of r as Iterable<Future<unknown>>) yield* f;
          else yield* r as unknown as Coroutine<unknown>;
        });
        assert.match(error.message, new RegExp(`^${name}\\(\\) takes its awaitables as one list, ${name}\\(\\[a, b\\]\\)`));
      });
    }
  }
});

describe("faults (one or many): a future's iterator outside a task", () => {
  it("spreading a pending future throws at once instead of yielding it for ever", () => {
    const f = new Future<number>();
    assert.throws(() => [...(f as unknown as Iterable<unknown>)], /iterated outside a task: a future's iterator is for `yield\* future`/);
    // The mark is cleared: the future can still be waited on as usual.
    f.setResult(1);
    assert.deepEqual([...(f as unknown as Iterable<unknown>)], []);
  });

  it("a coroutine spread outside the loop stops at its first wait", () => {
    const f = new Future<number>();
    function* body() {
      const x = yield* f;
      return x;
    }
    let steps = 0;
    assert.throws(() => {
      for (const _ of body()) if (++steps > 10) break;
    }, /iterated outside a task/);
    assert.equal(steps, 1);
  });

  it("a future's iterator stepped once (a peek, a destructuring) leaves no mark that breaks a later yield* of that future", async () => {
    // The check is of one iterator resumed while the future it yielded is still pending: the
    // mark its first step left, which no task took, must not count against another iterator.
    const f = new Future<number>();
    for (const x of f as unknown as Iterable<unknown>) {
      assert.equal(x, f);
      break;
    }
    const g = new Future<number>();
    const got = await within("the run", run(function* () {
      spawn(function* () {
        yield* sleep(1);
        f.setResult(42);
        yield* sleep(1);
        g.setResult(1);
      });
      const first = yield* f;
      const [peeked] = g as unknown as Iterable<unknown>;
      assert.equal(peeked, g);
      return first + (yield* g);
    }, { clock: "virtual" }));
    assert.equal(got, 43);
  });

  it("two tasks waiting on one future, and one task's yield* after another's, are untouched", async () => {
    const got = await run(function* () {
      const f = new Future<string>();
      const a = spawn(function* () { return yield* f; });
      const b = spawn(function* () { return (yield* f) + (yield* f); });
      yield* sleep(1);
      f.setResult("x");
      return [yield* a, yield* b];
    }, { clock: "virtual" });
    assert.deepEqual(got, ["x", "xx"]);
  });
});

describe("faults (one or many): an awaitable or a called generator where a body goes", () => {
  for (const [name, call, hint] of [
    ["timeout", (b: unknown) => timeout(50, b as never), /use waitFor\(aw, ms\)/],
    ["timeoutAt", (b: unknown) => timeoutAt(50, b as never), /use waitFor\(aw, ms\)/],
    ["moveOnAfter", (b: unknown) => moveOnAfter(50, b as never), /wrap it, moveOnAfter\(…, function\* \(\) \{ return yield\* aw; \}\)/],
    ["taskGroup", (b: unknown) => taskGroup(b as never), /taskGroup\(function\* \(tg\) \{ tg\.spawn\(…\); \}\)/],
  ] as const) {
    it(`${name}(…, task) names the call that takes an awaitable`, async () => {
      const error = await typeErrorOf(function* () {
        const t = spawn(download(5, []));
        yield* call(t) as unknown as Coroutine<unknown>;
      });
      assert.match(error.message, new RegExp(`^${name}\\(\\) expects a generator function .*got Task .*which is already an awaitable`));
      assert.match(error.message, hint);
    });

    it(`${name}(…, gen()) says to pass the function, not its call, and runs nothing`, async () => {
      const ran: number[] = [];
      const error = await typeErrorOf(function* () {
        yield* call(download(5, ran)) as unknown as Coroutine<unknown>;
      });
      assert.match(error.message, /got a generator object: pass the function itself, not its call/);
      assert.deepEqual(ran, []);
    });
  }
});
