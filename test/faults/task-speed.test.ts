/**
 * Issue 16 (speed of tasks and groups): a task group keeps its children in a list with a
 * count instead of a `Set`, compacted once more than half of it is finished children; a
 * zero sleep (`yieldNow()`) is its own iterator. These are the rules that must hold
 * through that: after many compactions the group still cancels exactly the children left
 * running, its `size` counts them, and `yield* yieldNow()` still yields once, resolves its
 * future, and takes a cancellation at that point. A fan-out allocates no more per task than
 * its task, its queue entry and its place in the results: the methods on the path of every
 * settled future make no closure (a function that makes one allocates its variables on every
 * call, even on a path that makes none).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CancelledError, Future, gather, getRunningLoop, Lock, run, sleep, spawn, taskGroup, TaskGroupError, yieldNow } from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

describe("task group children kept in a compacted list", () => {
  it("a failure after most children finished cancels exactly the ones still running", async () => {
    const N = 1_000;
    const outcome: string[] = new Array(N).fill("running");
    let sizes: number[] = [];
    await assert.rejects(
      run(function* () {
        yield* taskGroup(function* (tg) {
          for (let i = 0; i < N; i++) {
            tg.spawn(function* () {
              try {
                // Most end early, in waves, so the list is compacted several times.
                yield* sleep(i % 10 === 0 ? 1_000 : 1 + (i % 7));
                outcome[i] = "done";
              } catch (e) {
                outcome[i] = e instanceof CancelledError ? "cancelled" : "other";
                throw e;
              }
            });
          }
          yield* sleep(3);
          sizes.push(tg.size);
          yield* sleep(10);
          sizes.push(tg.size);
          tg.spawn(function* () {
            throw new RangeError("boom");
          });
          yield* sleep(2_000);
        });
      }, virtual),
      (e: unknown) => e instanceof TaskGroupError && e.errors.length === 1 && e.errors[0] instanceof RangeError,
    );
    // Ends at 1..7 ms: by 3 ms those at 1 and 2 ms are gone (i % 7 in {0, 1}, not a tenth).
    const early = Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 !== 0 && i % 7 <= 1).length;
    assert.deepEqual(sizes, [N - early, N / 10]);
    for (let i = 0; i < N; i++) assert.equal(outcome[i], i % 10 === 0 ? "cancelled" : "done", `child ${i}`);
  });

  it("a group cancelled from outside reaches every child still running, spawned before or after compactions", async () => {
    const cancelled = new Set<number>();
    await run(function* () {
      const g = taskGroup(function* (tg) {
        for (let round = 0; round < 5; round++) {
          for (let i = 0; i < 300; i++) {
            const id = round * 300 + i;
            tg.spawn(function* () {
              try {
                yield* sleep(id % 3 === 0 ? 10_000 : 1);
              } catch (e) {
                if (e instanceof CancelledError) cancelled.add(id);
                throw e;
              }
            });
          }
          yield* sleep(5);
        }
        yield* sleep(10_000);
      });
      yield* sleep(100);
      g.cancel();
      yield* sleep(1);
      assert.equal(g.cancelled(), true);
    }, virtual);
    const expected = Array.from({ length: 1_500 }, (_, i) => i).filter((i) => i % 3 === 0);
    assert.deepEqual([...cancelled].sort((a, b) => a - b), expected);
  });
});

describe("yield* yieldNow() as its own iterator", () => {
  it("yields once: other ready tasks run in between, and the future is resolved", async () => {
    const log: string[] = [];
    await run(function* () {
      const other = spawn(function* () {
        log.push("other");
      });
      const f = yieldNow();
      log.push("before");
      const v = yield* f;
      log.push(`after ${String(v)} ${f.done()}`);
      yield* f; // done: no further turn
      log.push("again");
      yield* other;
    }, virtual);
    assert.deepEqual(log, ["before", "other", "after undefined true", "again"]);
  });

  it("what was queued after the future, before the yield, still runs before the task resumes", async () => {
    const log: string[] = [];
    await run(function* () {
      const f = yieldNow();
      const later = spawn(function* () {
        log.push("spawned after yieldNow()");
      });
      getRunningLoop().callSoon(() => log.push("callback after yieldNow()"));
      yield* f;
      log.push("resumed");
      const g = yieldNow();
      const h = yieldNow();
      yield* g; // h was queued after g: the task resumes after h's turn, as it always did
      log.push(`h ${h.done()}`);
      yield* later;
    }, virtual);
    assert.deepEqual(log, ["spawned after yieldNow()", "callback after yieldNow()", "resumed", "h true"]);
  });

  it("a zero sleep its step does not yield still takes its turn, in its place", async () => {
    // The loop queues a zero sleep only once its step returns (or something else is queued):
    // here nothing else is ever queued, and only the sleep's own turn can wake the task.
    const log: string[] = [];
    await run(function* () {
      const f = yieldNow();
      const g = new Future<string>();
      f.addDoneCallback(() => g.setResult("woken by f's turn"));
      // A timer due now is queued at the start of the next turn: after f, made before it.
      getRunningLoop().callLater(0, () => log.push(`timer: f ${f.done() ? "done" : "pending"}`));
      log.push(yield* g);
      // Two in one step, the first queued when the second is made: both keep their order.
      const a = sleep(0, "a");
      const b = yieldNow();
      b.addDoneCallback(() => log.push("b"));
      a.addDoneCallback(() => log.push("a"));
      yield* sleep(1);
    }, virtual);
    assert.deepEqual(log, ["timer: f done", "woken by f's turn", "a", "b"]);
  });

  it("a cancellation requested while it waits is raised at that point", async () => {
    let reached = "";
    await run(function* () {
      const t = spawn(function* () {
        try {
          yield* yieldNow();
          reached = "resumed";
        } catch (e) {
          reached = e instanceof CancelledError ? `cancelled ${e.message}` : "other";
        }
      });
      yield; // t runs up to its yield
      t.cancel("stop");
      yield* t;
    }, virtual);
    assert.equal(reached, "cancelled stop");
  });

  it("a yieldNow() nobody waits on resolves on the next turn; each iterator taken while pending yields once", async () => {
    await run(function* () {
      const f = yieldNow();
      assert.equal(f.done(), false);
      yield;
      assert.equal(f.done(), true);
      const g = yieldNow();
      const a = g[Symbol.iterator]();
      const b = g[Symbol.iterator]();
      assert.equal(a.next().done, false);
      assert.equal(g.done(), true);
      assert.deepEqual(b.next(), { done: false, value: undefined });
      assert.deepEqual(a.next(), { done: true, value: undefined });
      assert.deepEqual(b.next(), { done: true, value: undefined });
      const c = g[Symbol.iterator]();
      assert.deepEqual(c.next(), { done: true, value: undefined }, "taken once done, it returns at once");
    }, virtual);
  });
});

describe("bytes allocated per task in a fan-out", () => {
  // Measured in a program of its own, with a young generation large enough that nothing is
  // collected while it measures: heap growth is then what was allocated. Deterministic, unlike
  // time. On Node 20, Node 24 and Deno 2.9: ~160–165 B for gather, ~165–172 B for a group,
  // beyond each child's generator (its task ~104 B, the result of its step 40 B, its place in
  // the ready queue, the lists and the results); ~190–220 B and ~220–240 B while each run grew
  // its ready queue from 64 entries and a group compacted its list of children (copies of half
  // of it, a quarter…) as they finished; ~280–300 B for both while every settled future
  // allocated a closure context (56 B) and gather's waiter another (40 B).
  it("spawn(gen(i)) + gather, and a task group, allocate at most ~200 B per child beyond its generator", async () => {
    const file = fileURLToPath(new URL("../fixtures/task-bytes-program.ts", import.meta.url));
    const flags = ["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];
    const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
    const [cmd, argv] = deno
      ? [deno.execPath(), ["run", "-A", `--v8-flags=${flags.join(",")}`, file]]
      : [process.execPath, [...flags, "--import", "tsx", file]];
    const out = await new Promise<string>((resolve, reject) => {
      execFile(cmd, argv, { timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const bytes = JSON.parse(out.trim().split("\n").pop()!) as { bodies: number; gather: number; group: number };
    assert.ok(bytes.bodies > 50, `the bodies' own allocation was measured (${bytes.bodies} B)`);
    assert.ok(bytes.gather <= 195, `gather: ${bytes.gather.toFixed(0)} B per task beyond its generator`);
    assert.ok(bytes.group <= 200, `task group: ${bytes.group.toFixed(0)} B per child beyond its generator`);
  }, 150_000);
});

describe("gather registering with fresh children in one pass", () => {
  it("a bad item after fresh tasks throws, and leaves no waiter on the tasks before it", async () => {
    await run(function* () {
      const a = spawn(function* () { return 1; });
      const b = spawn(function* () { return 2; });
      assert.throws(() => gather([a, b, 42 as never]), TypeError);
      assert.equal((a as unknown as { _cbs: unknown })._cbs, null);
      assert.equal((b as unknown as { _cbs: unknown })._cbs, null);
      assert.deepEqual(yield* gather([a, b]), [1, 2]);
    }, virtual);
  });

  it("a repeat, a done future, a waited-on task or a grant after fresh tasks: each counted once, the grant received", async () => {
    await run(function* () {
      const a = spawn(function* () { yield* sleep(1); return "a"; });
      const b = spawn(function* () { return "b"; });
      const waited = spawn(function* () { yield* sleep(2); return "w"; });
      const watcher = spawn(function* () { return yield* waited; });
      const done = new Future<string>();
      done.setResult("d");
      const lock = new Lock();
      const grant = lock.acquire(); // free: granted at once
      yield; // watcher now waits on `waited`
      const all = yield* gather([a, b, a, done, waited, grant]);
      assert.deepEqual(all.slice(0, 5), ["a", "b", "a", "d", "w"]);
      assert.equal(lock.locked(), true);
      (all[5] as { release(): void }).release();
      assert.equal(lock.locked(), false);
      assert.equal(yield* watcher, "w");
    }, virtual);
  });
});
