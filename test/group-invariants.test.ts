/**
 * Seeded random trees of task groups, children that finish, fail, time out or spawn
 * groups of their own, and cancellations from outside: whatever happens, the rules hold.
 */
import assert from "node:assert/strict";
import {
  allTasks,
  CancelledError,
  type Coroutine,
  run,
  sleep,
  spawn,
  type Task,
  type TaskGroup,
  taskGroup,
  TaskGroupError,
  timeout,
  TimeoutError,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Boom extends Error {
  override name = "Boom";
}

interface Record {
  group: Task<unknown>;
  children: Task<unknown>[];
}

/** Starts a group with a random body; records it with its children. */
function makeGroup(rand: () => number, records: Record[], depth: number): Task<string> {
  const rec: Record = { group: undefined as never, children: [] };
  records.push(rec);
  const group = taskGroup(makeBody(rand, records, rec, depth));
  rec.group = group as Task<unknown>;
  return group;
}

function makeBody(rand: () => number, records: Record[], rec: Record, depth: number): (tg: TaskGroup) => Coroutine<string> {
  return function* (tg) {
    const n = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const kind = rand();
      const ms = Math.floor(rand() * 50);
      let child: Task<unknown>;
      if (kind < 0.45) {
        child = tg.spawn(function* () {
          yield* sleep(ms);
          return ms;
        });
      } else if (kind < 0.6) {
        child = tg.spawn(function* () {
          yield* sleep(ms);
          throw new Boom(`at ${ms}`);
        });
      } else if (kind < 0.7) {
        child = tg.spawn(async (signal) => {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, 0); // a host hop, then loop time
            signal.addEventListener("abort", () => {
              clearTimeout(t);
              reject(signal.reason);
            });
          });
          await sleep(ms);
          return ms;
        });
      } else if (kind < 0.8) {
        child = tg.spawn(function* () {
          try {
            return yield* timeout(ms / 2, function* () {
              yield* sleep(ms);
              return ms;
            });
          } catch (e) {
            if (e instanceof TimeoutError) return "timed out";
            throw e;
          }
        });
      } else if (depth < 3) {
        child = tg.spawn(function* () {
          return yield* makeGroup(rand, records, depth + 1);
        });
      } else {
        child = tg.spawn(function* () {
          yield* sleep(ms);
          return "leaf";
        });
      }
      rec.children.push(child);
    }
    yield* sleep(Math.floor(rand() * 30));
    return "body done";
  };
}

function collectNonCancelErrors(children: Task<unknown>[]): unknown[] {
  const out: unknown[] = [];
  for (const c of children) {
    if (c.cancelled()) continue;
    try {
      c.result();
    } catch (e) {
      out.push(e);
    }
  }
  return out;
}

describe("taskGroup invariants under random trees", () => {
  it("every child has ended when its group ends, a group fails exactly with its children's errors, and nothing outlives run()", async () => {
    const outcomes = { cancelled: 0, failed: 0, finished: 0, nested: 0 };
    for (let seed = 1; seed <= 60; seed++) {
      const rand = prng(seed);
      const records: Record[] = [];
      let leftover = -1;
      await run(function* () {
        const top = makeGroup(rand, records, 0);
        const cancelAt = rand() < 0.3 ? Math.floor(rand() * 40) : -1;
        if (cancelAt >= 0) {
          spawn(function* () {
            yield* sleep(cancelAt);
            top.cancel("outside");
          });
        }
        try {
          yield* top;
        } catch (e) {
          assert.ok(e instanceof TaskGroupError || e instanceof CancelledError, `seed ${seed}: ${e}`);
        }
        yield* sleep(1000); // let the canceller finish
        leftover = allTasks().size;
      }, { clock: "virtual" });
      assert.equal(leftover, 1, `seed ${seed}: only main is alive at the end`);

      for (const rec of records) {
        const g = rec.group;
        assert.ok(g.done(), `seed ${seed}: a group outlived run()`);
        for (const c of rec.children) assert.ok(c.done(), `seed ${seed}: a child outlived run()`);
        const errors = collectNonCancelErrors(rec.children);
        if (rec !== records[0]) outcomes.nested++;
        if (g.cancelled()) {
          outcomes.cancelled++;
          assert.deepEqual(errors, [], `seed ${seed}: a cancelled group swallowed child errors`);
        } else if (g.exception() !== undefined) {
          const e = g.exception();
          outcomes.failed++;
          assert.ok(e instanceof TaskGroupError, `seed ${seed}: ${e}`);
          assert.deepEqual(new Set(e.errors), new Set(errors), `seed ${seed}: the group's errors are exactly its children's`);
        } else {
          outcomes.finished++;
          assert.deepEqual(errors, [], `seed ${seed}: a group finished although a child failed`);
          assert.equal(g.result(), "body done");
        }
      }
    }
    // The trees are varied enough to exercise every outcome, nested groups included.
    for (const [k, v] of Object.entries(outcomes)) assert.ok(v >= 5, `only ${v} ${k} groups: ${JSON.stringify(outcomes)}`);
  });

  it("a group that ends has no child still running at that moment", async () => {
    for (let seed = 100; seed < 140; seed++) {
      const rand = prng(seed);
      await run(function* () {
        let children: Task<unknown>[] = [];
        const g = taskGroup(function* (tg) {
          for (let i = 0; i < 5; i++) {
            const ms = Math.floor(rand() * 40);
            const fail = rand() < 0.3;
            children.push(tg.spawn(function* () {
              try {
                yield* sleep(ms);
              } finally {
                yield* sleep(Math.floor(rand() * 10)); // clean-up takes time, even when cancelled
              }
              if (fail) throw new Boom(`${ms}`);
              return ms;
            }));
          }
          yield* sleep(Math.floor(rand() * 40));
        });
        g.addDoneCallback(() => {
          for (const c of children) assert.ok(c.done(), `seed ${seed}: a child was running when its group ended`);
        });
        let failed: unknown[] = [];
        try {
          yield* g;
        } catch (e) {
          assert.ok(e instanceof TaskGroupError, `seed ${seed}: ${e}`);
          failed = e.errors;
        }
        const expected = collectNonCancelErrors(children);
        assert.deepEqual(new Set(failed), new Set(expected), `seed ${seed}: the group's errors are exactly its children's`);
        children = [];
      }, { clock: "virtual" });
    }
  });
});
