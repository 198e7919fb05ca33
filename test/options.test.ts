/**
 * Every options object is checked (issue 15): a misspelt option throws a TypeError naming
 * it and the known ones, as the WorkerPool constructor does, instead of being ignored; a
 * negative timeout of wait()/asCompleted() is a RangeError. One helper does it all
 * (src/core/options.ts, `checkOptions`).
 */
import assert from "node:assert/strict";
import {
  asCompleted,
  Barrier,
  Condition,
  Event,
  gather,
  LifoQueue,
  Lock,
  Loop,
  monitorLag,
  PriorityQueue,
  Queue,
  run,
  Semaphore,
  sleep,
  spawn,
  taskGroup,
  timeout,
  timeoutAt,
  wait,
  WorkerPool,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;
const TASKS = new URL("./fixtures/tasks.ts", import.meta.url);

/** Asserts `f` throws a TypeError naming the unknown option `key` and listing `known`. */
function unknown(f: () => unknown, key: string, known: string): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof TypeError, `a TypeError, got ${e}`);
    assert.match(e.message, new RegExp(`unknown .*option "?${key.replace(".", "\\.")}"? \\(known: ${known}\\)`));
    return true;
  });
}

describe("options: a misspelt option is a TypeError naming it and the known ones", () => {
  it("run(), new Loop() and its debug object", () => {
    unknown(() => run(function* () {}, { clok: "virtual" } as never), "clok", "clock, debug, name, dumpOnStuckMs");
    unknown(() => new Loop({ clok: "virtual" } as never), "clok", "clock, debug");
    unknown(() => new Loop({ debug: { slowStep: 5 } } as never), "debug.slowStep", "slowStepMs");
    // Nothing was started by the failed run(): a new one runs.
    return run(function* () {}, virtual);
  });

  it("spawn(), taskGroup(), timeout(), timeoutAt()", async () => {
    await run(function* () {
      unknown(() => spawn(function* () {}, { nmae: "x" } as never), "nmae", "name");
      unknown(() => taskGroup(function* () {}, { signl: undefined } as never), "signl", "name, signal");
      unknown(() => timeout(10, function* () {}, { nme: "t" } as never), "nme", "name, signal");
      unknown(() => timeoutAt(10, function* () {}, { nme: "t" } as never), "nme", "name, signal");
      yield* sleep(1);
    }, virtual);
  });

  it("gather(), wait(), asCompleted()", async () => {
    await run(function* () {
      const s = sleep(1);
      unknown(() => gather([s], { returnException: true } as never), "returnException", "returnExceptions");
      unknown(() => wait([s], { return_when: "FIRST_COMPLETED" } as never), "return_when", "returnWhen, timeout");
      unknown(() => asCompleted([s], { timeoutMs: 5 } as never), "timeoutMs", "timeout");
      yield* s;
    }, virtual);
  });

  it("Queue, LifoQueue, PriorityQueue, and the signal options of waiting calls", async () => {
    unknown(() => new Queue({ maxSize: 1 } as never), "maxSize", "maxsize");
    unknown(() => new LifoQueue({ maxSize: 1 } as never), "maxSize", "maxsize");
    unknown(() => new PriorityQueue({ comparator: () => 0 } as never), "comparator", "maxsize, compare");
    assert.equal(new PriorityQueue<number>({ maxsize: 2, compare: (a, b) => b - a }).maxsize, 2);
    await run(function* () {
      const q = new Queue<number>();
      unknown(() => q.put(1, { sigal: undefined } as never), "sigal", "signal");
      unknown(() => q.get({ sigal: undefined } as never), "sigal", "signal");
      unknown(() => new Lock().acquire({ sigal: undefined } as never), "sigal", "signal");
      unknown(() => new Semaphore(1).acquire({ sigal: undefined } as never), "sigal", "signal");
      unknown(() => new Event().wait({ sigal: undefined } as never), "sigal", "signal");
      unknown(() => new Barrier(2).wait({ sigal: undefined } as never), "sigal", "signal");
      unknown(() => new Condition().acquire({ sigal: undefined } as never), "sigal", "signal");
      yield* sleep(1);
    }, virtual);
  });

  it("monitorLag(), WorkerPool and its nested objects, pool.map()", async () => {
    unknown(() => monitorLag({ interval: 5 } as never), "interval", "intervalMs");
    unknown(() => new WorkerPool(TASKS, { maxWorker: 2 } as never), "maxWorker", "kind, maxWorkers, .*");
    unknown(
      () => new WorkerPool(TASKS, { kind: "bullmq", queue: "q", connection: "redis://x", backoff: { type: "fixed", delai: 1 } } as never),
      "backoff.delai",
      "type, delay",
    );
    const pool = new WorkerPool<typeof import("./fixtures/tasks.ts")>(TASKS, { kind: "inline" });
    try {
      unknown(() => pool.map("square", [1, 2], { chunksize: 1 } as never), "chunksize", "chunkSize, ordered, signal");
    } finally {
      await pool.destroy();
    }
  });

  it("an options object that is not an object is still a TypeError", () => {
    assert.throws(() => new Queue(5 as never), /Queue options must be an object, got number 5/);
    assert.throws(() => run(function* () {}, "virtual" as never), /run\(\) options must be an object/);
  });
});

describe("options: the @std/async jobs check theirs too", () => {
  it("loopwork's delay(), deadline(), abortable(), debounce(), throttle(), retry(), pooledMap(), pooledMapSettled(), poll()", async () => {
    const lw = await import("../mod.ts");
    const bad = { signl: 1 } as never;
    assert.throws(() => lw.delay(1, bad), /unknown delay\(\) option "signl" \(known: signal, persistent\)/);
    assert.throws(() => lw.deadline(Promise.resolve(1), 10, bad), /unknown deadline\(\) option "signl" \(known: signal\)/);
    assert.throws(() => lw.abortable(Promise.resolve(1), bad), /unknown abortable\(\) option "signl" \(known: signal\)/);
    assert.throws(() => lw.debounce(() => {}, 10, bad), /unknown debounce\(\) option "signl" \(known: signal\)/);
    assert.throws(() => lw.throttle(() => {}, 10, bad), /unknown throttle\(\) option "signl" \(known: ensureLastCall, signal\)/);
    assert.throws(() => lw.retry(async () => 1, { maxAttemps: 3 } as never), /unknown retry\(\) option "maxAttemps" \(known: .*maxAttempts/);
    assert.throws(() => lw.pooledMap(2, [1], async (x: number) => x, bad), /unknown pooledMap\(\) option "signl" \(known: signal\)/);
    assert.throws(() => lw.pooledMap([1], async (x: number) => x, { poolLimit: 2, signl: 1 } as never), /unknown pooledMap\(\) option "signl" \(known: poolLimit, signal\)/);
    assert.throws(() => lw.pooledMapSettled([1], async (x: number) => x, { pooLimit: 2 } as never), /unknown pooledMapSettled\(\) option "pooLimit"/);
    await assert.rejects(lw.poll(() => 1, () => true, { intervl: 5 } as never), /unknown poll\(\) option "intervl" \(known: signal, interval\)/);
  });

  it("loopwork/std rejects (as its Promise-returning jobs reject) where loopwork throws", async () => {
    const std = await import("../std.ts");
    await assert.rejects(std.retry(async () => 1, { maxAttemps: 3 } as never), TypeError);
    await assert.rejects(std.deadline(Promise.resolve(1), 10, { signl: 1 } as never), TypeError);
  });
});

describe("options: negative timeouts", () => {
  it("asCompleted(…, { timeout: -1 }) and wait(…, { timeout: -1 }) are RangeErrors", async () => {
    await run(function* () {
      const s = sleep(1);
      assert.throws(() => asCompleted([s], { timeout: -1 }), (e: Error) => e instanceof RangeError && /-1/.test(e.message));
      assert.throws(() => wait([s], { timeout: -1 }), (e: Error) => e instanceof RangeError && /-1/.test(e.message));
      assert.throws(() => wait([s], { timeout: "5" as never }), TypeError);
      // 0 and Infinity stay valid.
      const r = yield* wait([s], { timeout: 0 });
      assert.equal(r.pending.size, 1);
      yield* wait([s], { timeout: Infinity });
    }, virtual);
  });
});
