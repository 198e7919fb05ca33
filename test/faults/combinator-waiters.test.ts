/**
 * Issue 16 (speed of the combinators): gather, wait and taskGroup now count their children
 * as waiters woken when each settles, and asCompleted queues in O(1). These are the rules
 * that must hold through that: repeats count once, a failure's done callback still runs
 * (and reads it) one turn later, a grant handed to a combinator counts as received, and
 * completion order survives queues far longer than a compaction step.
 */
import assert from "node:assert/strict";
import {
  asCompleted,
  Future,
  gather,
  getRunningLoop,
  Queue,
  run,
  sleep,
  spawn,
  taskGroup,
  wait,
  yieldNow,
} from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

describe("combinators as waiters of their children", () => {
  it("gather: a future listed several times, pending or already done, counts once and fills each place", async () => {
    const out = await run(function* () {
      const pending = new Future<number>();
      const done = new Future<string>();
      done.setResult("d");
      const all = gather([pending, done, pending, done, pending]);
      yield* sleep(1);
      assert.equal(all.done(), false, "the gather waits for the pending future");
      pending.setResult(1);
      return yield* all;
    }, virtual);
    assert.deepEqual(out, [1, "d", 1, "d", 1]);
  });

  it("gather: a queue's get() handed to it is received, so the item is the gather's and leaves the queue", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const all = gather([q.get(), q.get()]);
      q.putNowait(1);
      q.putNowait(2);
      q.putNowait(3);
      assert.deepEqual(yield* all, [1, 2]);
      assert.equal(q.qsize(), 1);
      assert.equal(q.getNowait(), 3);
    }, virtual);
  });

  // A rejection is a failure whatever its value: `throw undefined` is legal JavaScript, and
  // Promise.all rejects on it. (asyncio cannot raise None, so `exception() is None` meant "no
  // failure" there; here it read a task that threw undefined as a success.)
  it("wait(FIRST_EXCEPTION): a future rejected with undefined is a failure: the wait ends on it", async () => {
    await run(function* () {
      const odd = new Future<number>();
      const slow = sleep(50, 2);
      const w = wait([odd, slow], { returnWhen: "FIRST_EXCEPTION" });
      odd.setException(undefined);
      yield* sleep(10);
      assert.equal(w.done(), true, "an undefined rejection ends a FIRST_EXCEPTION wait");
      const { done, pending } = yield* w;
      assert.ok(done.has(odd));
      assert.ok(pending.has(slow));
      slow.cancel();
    }, virtual);
  });

  it("gather: a task that throws undefined fails the gather (no false [undefined] success)", async () => {
    const outcome = await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1);
        throw undefined;
      });
      const other = spawn(function* () {
        yield* sleep(5);
        return 1;
      });
      try {
        const r = yield* gather([t, other]);
        return { ok: true, r };
      } catch (e) {
        return { ok: false, e };
      }
    }, virtual);
    assert.deepEqual(outcome, { ok: false, e: undefined });
    const kept = await run(function* () {
      const t = spawn(function* () {
        yield* sleep(1);
        throw undefined;
      });
      return yield* gather([t], { returnExceptions: true });
    }, virtual);
    assert.deepEqual(kept, [undefined]);
  });

  it("run(): a task left at shutdown that fails with undefined is reported, not taken for a success", async () => {
    const reported: { message: string; exception: unknown }[] = [];
    await run(function* () {
      getRunningLoop().setExceptionHandler((ctx) => reported.push({ message: ctx.message, exception: ctx.exception }));
      spawn(function* () {
        try {
          yield* sleep(1_000);
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw undefined;
        }
      });
      yield* sleep(1);
    }, virtual);
    assert.deepEqual(reported, [{ message: "unhandled exception during run() shutdown", exception: undefined }]);
  });

  it("wait(FIRST_EXCEPTION) ends one turn after the first failure, with the failure read", async () => {
    const order: string[] = [];
    await run(function* () {
      const bad = new Future<number>();
      const never = new Future<number>();
      const w = wait([never, bad], { returnWhen: "FIRST_EXCEPTION" });
      w.addDoneCallback(() => order.push("wait done"));
      bad.setException(new Error("boom"));
      order.push("failed");
      yield; // the wait's done callback runs on this turn
      yield;
      order.push("two turns later");
      const { done } = yield* w;
      assert.ok(done.has(bad));
      never.cancel();
    }, virtual);
    assert.deepEqual(order, ["failed", "wait done", "two turns later"]);
  });

  it("asCompleted: 5000 completions in a shuffled order come out in completion order, iterated ahead of them or behind", async () => {
    const n = 5000;
    const order = Array.from({ length: n }, (_, i) => (i * 7919) % n); // a permutation (7919 is prime)
    const got = await run(function* () {
      const fs = Array.from({ length: n }, () => new Future<number>());
      const it = asCompleted(fs)[Symbol.iterator]();
      const outs: Future<number>[] = [];
      // Half the iterators wait before any completion; the rest come after.
      for (let i = 0; i < n / 2; i++) outs.push(it.next().value!);
      for (const k of order) fs[k]!.setResult(k);
      yield;
      for (let i = n / 2; i < n; i++) outs.push(it.next().value!);
      assert.equal(it.next().done, true);
      return yield* gather(outs);
    }, virtual);
    assert.deepEqual(got, order);
  });

  it("taskGroup: the group ends once its last child has, and size counts the children still running", async () => {
    const seen: number[] = [];
    await run(function* () {
      yield* taskGroup(function* (tg) {
        for (let i = 0; i < 50; i++) {
          tg.spawn(function* () {
            for (let k = 0; k < i % 5; k++) yield* yieldNow();
            return i;
          });
        }
        for (let k = 0; k < 8; k++) {
          seen.push(tg.size);
          yield* yieldNow();
        }
      });
    }, virtual);
    assert.equal(seen[0], 50);
    assert.equal(seen.at(-1), 0);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! <= seen[i - 1]!, `size never grows: ${seen}`);
  });

  it("yield* yieldNow(): the future is done as soon as a task waits on it; cancelling that task then cancels the task, not the future", async () => {
    await run(function* () {
      let f!: Future<void>;
      const seen: string[] = [];
      const a = spawn(function* () {
        try {
          f = yieldNow();
          yield* f;
          seen.push("a resumed");
        } catch (e) {
          seen.push(`a: ${(e as Error).name} ${(e as Error).message}`);
        }
      });
      const b = spawn(function* () {
        seen.push(`b sees f done: ${f.done()}`); // same turn as a's wait
        a.cancel("stop");
      });
      yield* gather([a, b]);
      assert.deepEqual(seen, ["b sees f done: true", "a: CancelledError stop"]);
      assert.equal(f.cancelled(), false);
      assert.equal(f.done(), true);
    }, virtual);
  });

  it("yieldNow(): cancelled before its turn, it stays cancelled; the loop's turn for it does nothing", async () => {
    await run(function* () {
      const f = yieldNow();
      assert.equal(f.cancel("no"), true);
      yield;
      assert.equal(f.cancelled(), true);
      const g = yieldNow();
      const waiter = spawn(function* () {
        yield* g;
        return "resumed";
      });
      assert.equal(yield* waiter, "resumed");
      assert.equal(g.done() && !g.cancelled(), true);
    }, virtual);
  });
});
