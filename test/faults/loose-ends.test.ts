/**
 * Fault tests for loose ends a previous session saw and left alone: a generator object run
 * by two tasks, runtime objects that fail to cross to a worker without a name, timeouts
 * while a task module loads on tinypool, getters the small-values encoder ran twice, and
 * class instances that lose their class on the way to a worker.
 */
import assert from "node:assert/strict";
import { createHistogram } from "node:perf_hooks";
import {
  type Coroutine,
  gather,
  run,
  sleep,
  spawn,
  type Task,
  taskGroup,
  WorkerPool,
  type WorkerPoolOptions,
} from "../../mod.ts";
import { decodeValue, encodeValue } from "../../src/pool/protocol.ts";
import { rejection } from "../expect.ts";
import { describe, it, runtime } from "../harness.ts";

type Hostile = typeof import("../fixtures/hostile-tasks.ts");
const HOSTILE = new URL("../fixtures/hostile-tasks.ts", import.meta.url);

/** The pool's ways of running calls; tinypool's threads are checked under Node. */
type Flavour = "thread" | "process" | "tinypool threads" | "inline";
const flavours: Flavour[] = runtime === "node" ? ["thread", "process", "tinypool threads", "inline"] : ["thread", "process", "inline"];

/** The pool options that make `flavour`. */
function kindOf(flavour: Flavour): WorkerPoolOptions {
  return flavour === "tinypool threads" ? { kind: "thread", backend: "tinypool" } : { kind: flavour };
}

function poolOf(flavour: Flavour, options: WorkerPoolOptions = {}): WorkerPool<Hostile> {
  return new WorkerPool<Hostile>(HOSTILE, { maxWorkers: 1, ...kindOf(flavour), ...options });
}

/** Generous "it did not hang" bound for real workers; never a speed check. */
const WORKER_GUARD_MS = 30_000;

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

describe("runtime objects that cannot cross to a worker are named", () => {
  for (const flavour of flavours) {
    it(`${flavour}: a DOMException argument arrives as one, with its name and message, or fails its own call naming it`, async () => {
      const pool = poolOf(flavour);
      try {
        let out: unknown;
        try {
          out = await pool.run("give", { why: [new DOMException("stopped by the user", "AbortError")] });
        } catch (e) {
          assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
          assert.match(e.message, /DOMException/, `the message names the class: ${e.message}`);
          assert.match(e.message, /\.why\[0\]/, `the message names the path: ${e.message}`);
        }
        if (out !== undefined) {
          const back = (out as { why: unknown[] }).why[0];
          assert.ok(back instanceof DOMException, `arrived as ${Object.prototype.toString.call(back)}`);
          assert.equal(back.name, "AbortError");
          assert.equal(back.message, "stopped by the user");
        }
      } finally {
        await pool.destroy();
      }
    }, WORKER_GUARD_MS);

    it(`${flavour}: a Histogram argument arrives as one, or fails its own call naming its class and path`, async () => {
      const pool = poolOf(flavour);
      try {
        const h = createHistogram();
        h.record(5);
        let out: unknown;
        try {
          out = await pool.run("give", { nested: { h } });
        } catch (e) {
          assert.ok(e instanceof TypeError, `expected a TypeError, got ${e}`);
          assert.match(e.message, /Histogram/, `the message names the class: ${e.message}`);
          assert.match(e.message, /\.nested\.h\b/, `the message names the path: ${e.message}`);
          assert.doesNotMatch(e.message, /could not be read by the worker/);
        }
        if (out !== undefined) {
          const back = (out as { nested: { h: { count: number } } }).nested.h;
          assert.equal(back.count, 1, "the histogram arrived with its data");
        }
        assert.equal(await pool.run("give", 7), 7, "the pool still runs calls");
      } finally {
        await pool.destroy();
      }
    }, WORKER_GUARD_MS);
  }
});

describe("a timeout while the task module loads names the module on tinypool's workers too", () => {
  const tinypoolFlavours: Flavour[] = runtime === "node" ? ["process", "tinypool threads"] : ["process"];
  const NEVER = new URL("../fixtures/never-loads.ts", import.meta.url);
  for (const flavour of tinypoolFlavours) {
    it(`${flavour}: a call that times out while its module loads says the module had not finished loading`, async () => {
      // The timeout counts from the call's start, which includes its worker's start: 5 s leaves room for that.
      const pool = new WorkerPool<typeof import("../fixtures/never-loads.ts")>(NEVER, { maxWorkers: 1, taskTimeoutMs: 5000, ...kindOf(flavour) });
      try {
        const e = await rejection(pool.run("never"));
        assert.equal(e.name, "TimeoutError", e.message);
        assert.match(e.message, /never-loads\.ts had not finished loading after 5000 ms/);
      } finally {
        await pool.destroy();
      }
    }, WORKER_GUARD_MS * 2);

    it(`${flavour}: a call that times out in its task, once the module loaded, does not blame the module`, async () => {
      const pool = new WorkerPool<typeof import("../fixtures/ends-tasks.ts")>(new URL("../fixtures/ends-tasks.ts", import.meta.url), {
        maxWorkers: 1,
        // Long enough for the first call, which waits for its worker's start and module load.
        taskTimeoutMs: 10_000,
        ...kindOf(flavour),
      });
      try {
        assert.equal(await pool.run("receive", 1), "Number"); // the module is loaded
        const e = await rejection(pool.run("sleepFor", 60_000));
        assert.equal(e.name, "TimeoutError", e.message);
        assert.doesNotMatch(e.message, /loading/);
      } finally {
        await pool.destroy();
      }
    }, WORKER_GUARD_MS * 2);
  }
});

describe("the small-values encoder runs a getter once", () => {
  /** A value that is not small (a Date), after a getter that counts its calls. */
  function counted(): { value: Record<string, unknown>; calls: () => number } {
    let n = 0;
    const value = {
      get g() {
        return ++n;
      },
      d: new Date(0),
    };
    return { value, calls: () => n };
  }

  it("a getter of an object that turns out not to be small runs once, and its one value arrives", () => {
    const { value, calls } = counted();
    const back = decodeValue(encodeValue(value)) as { g: number; d: Date };
    assert.equal(calls(), 1, "the getter ran once");
    assert.equal(back.g, 1, "the value of its one run arrived");
    assert.ok(back.d instanceof Date && back.d.getTime() === 0);
  });

  it("a getter nested in a small part of a value that is not small runs once", () => {
    const { value, calls } = counted();
    const back = decodeValue(encodeValue({ a: [1, 2, { inner: value }], big: 10n })) as { a: [number, number, { inner: { g: number } }]; big: bigint };
    assert.equal(calls(), 1);
    assert.equal(back.a[2].inner.g, 1);
    assert.equal(back.big, 10n);
  });

  it("an array element that is a getter runs once", () => {
    let n = 0;
    const a: unknown[] = [0, new Date(0)];
    Object.defineProperty(a, 0, { get: () => ++n, enumerable: true });
    const back = decodeValue(encodeValue(a)) as [number, Date];
    assert.equal(n, 1);
    assert.equal(back[0], 1);
  });

  it("a getter that answers differently each time gives one consistent value (no torn value)", () => {
    let n = 0;
    // Each read gives a new, larger object: a torn value would mix two reads.
    const value = {
      get pair() {
        n++;
        return { first: n, second: n };
      },
      later: new Map([[1, 2]]),
    };
    const back = decodeValue(encodeValue(value)) as { pair: { first: number; second: number } };
    assert.equal(n, 1);
    assert.deepEqual(back.pair, { first: 1, second: 1 });
  });

  it("a small value with a getter still encodes as node:v8 encodes it, running the getter once", () => {
    let n = 0;
    const value = {
      a: 1,
      get b() {
        return ++n;
      },
    };
    assert.deepEqual(decodeValue(encodeValue(value)), { a: 1, b: 1 });
    assert.equal(n, 1);
  });
});

describe("a class instance crosses as a plain object of its own fields (the documented rule)", () => {
  class Point {
    #secret = "stays behind";
    constructor(readonly x: number, readonly y: number) {}
    norm(): number {
      return Math.hypot(this.x, this.y);
    }
    reveal(): string {
      return this.#secret;
    }
  }

  for (const flavour of flavours) {
    it(`${flavour}: own fields arrive; the prototype and #private fields do not`, async () => {
      const pool = poolOf(flavour);
      try {
        const p = new Point(3, 4);
        assert.equal(p.reveal(), "stays behind");
        const back = (await pool.run("give", p)) as unknown;
        assert.ok(!(back instanceof Point), "the class does not cross");
        assert.equal(Object.getPrototypeOf(back), Object.prototype);
        assert.deepEqual(back, { x: 3, y: 4 });
      } finally {
        await pool.destroy();
      }
    }, WORKER_GUARD_MS);
  }
});
