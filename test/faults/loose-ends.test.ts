/**
 * Fault tests for loose ends a previous session saw and left alone: a generator object run
 * by two tasks, runtime objects that fail to cross to a worker without a name, timeouts
 * while a task module loads on tinypool, getters the small-values encoder ran twice, and
 * class instances that lose their class on the way to a worker.
 */
import assert from "node:assert/strict";
import { type Coroutine, gather, run, sleep, spawn, type Task, taskGroup } from "../../mod.ts";
import { rejection } from "../expect.ts";
import { describe, it } from "../harness.ts";

/** Debug mode: where a task checks that no other task runs its generator object. */
const debug = { clock: "virtual", debug: true } as const;

function* child(log: string[], tag: string): Coroutine<string> {
  log.push(`${tag}:a`);
  yield* sleep(1);
  log.push(`${tag}:b`);
  yield;
  log.push(`${tag}:c`);
  return tag;
}

/** What `use` throws synchronously; fails the test if it throws nothing. */
function thrown(use: () => unknown): Error {
  try {
    use();
  } catch (e) {
    return e as Error;
  }
  assert.fail("expected a TypeError, got none");
}

/** What task `t` failed with; fails the test if it succeeded. */
function* catchingTask(t: Task<unknown>): Coroutine<Error> {
  try {
    yield* t;
  } catch (e) {
    return e as Error;
  }
  assert.fail(`expected ${t} to fail`);
}

function assertSecondUse(e: Error, firstTask: string): void {
  assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
  assert.match(e.message, /generator object/);
  assert.match(e.message, /runs in one task only/);
  assert.ok(e.message.includes(firstTask), `the message names the task that runs it: ${e.message}`);
}

describe("one generator object, one task (debug mode)", () => {
  it("a second spawn() of the same generator object throws a TypeError naming the task that runs it", async () => {
    const log: string[] = [];
    const out = await run(function* () {
      const g = child(log, "x");
      const first = spawn(g, { name: "first" });
      assertSecondUse(thrown(() => spawn(g, { name: "second" })), "first");
      return yield* first;
    }, debug);
    assert.equal(out, "x");
    assert.deepEqual(log, ["x:a", "x:b", "x:c"], "the first task ran the body once, undisturbed");
  });

  it("a generator object already spawned fails gather() and a task group's spawn() the same way", async () => {
    const log: string[] = [];
    await run(function* () {
      const g = child(log, "y");
      const first = spawn(g, { name: "owner" });
      assertSecondUse(thrown(() => gather([g])), "owner");
      yield* taskGroup(function* (tg) {
        assertSecondUse(thrown(() => tg.spawn(g)), "owner");
      });
      assert.equal(yield* first, "y");
    }, debug);
    assert.deepEqual(log, ["y:a", "y:b", "y:c"]);
  });

  it("a generator object whose task has finished is not run again (it would return undefined)", async () => {
    const log: string[] = [];
    const g = child(log, "z");
    assert.equal(await run(g, debug), "z");
    const e = await rejection(run(g, debug));
    assertSecondUse(e, "main");
    await run(function* () {
      assertSecondUse(thrown(() => spawn(g)), "main");
    }, debug);
    assert.deepEqual(log, ["z:a", "z:b", "z:c"]);
  });

  it("a function that returns a generator object another task runs fails its own task, naming that task", async () => {
    const log: string[] = [];
    await run(function* () {
      const g = child(log, "w");
      const first = spawn(() => g, { name: "by-function" });
      const second = spawn(() => g, { name: "again" });
      const e = yield* catchingTask(second);
      assertSecondUse(e, "by-function");
      assert.match(e.message, /Task again/);
      assert.equal(yield* first, "w");
    }, debug);
    assert.deepEqual(log, ["w:a", "w:b", "w:c"]);
  });

  it("a spawn() refused for its options leaves the generator object free for the next spawn()", async () => {
    const log: string[] = [];
    const out = await run(function* () {
      const g = child(log, "v");
      assert.throws(() => spawn(g, { name: 42 as unknown as string }), TypeError);
      return yield* spawn(g);
    }, debug);
    assert.equal(out, "v");
  });

  it("a generator function may be spawned any number of times: each task calls it anew", async () => {
    const log: string[] = [];
    function* body(): Coroutine<number> {
      log.push("run");
      yield* sleep(1);
      return 1;
    }
    const out = await run(function* () {
      return yield* gather([spawn(body), spawn(body), spawn(body)]);
    }, debug);
    assert.deepEqual(out, [1, 1, 1]);
    assert.equal(log.length, 3);
  });
});
