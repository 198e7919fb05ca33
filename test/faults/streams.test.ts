/**
 * Fault campaign on `pool.stream(name, ...args)`: a generator task's values read as they
 * come, the worker at most 16 values ahead, leaving the loop cancelling the task. Each case
 * runs on every kind that streams (the own thread backend, tinypool threads, inline); process
 * and "bullmq" pools refuse streams with a clear error. What a task did is read from shared
 * memory it counts in (see test/fixtures/stream-tasks.ts), never from timing; real-time
 * bounds are "it did not hang" guards only. A process-level trap checks that no rejection
 * escapes.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { abortable, moveOnAfter, PoolClosedError, run, until as untilDone, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { redisAvailable, redisRequired, startRedis } from "../cluster-helpers.ts";
import { unhandledDuring, within } from "../expect.ts";
import { runProgram } from "../subprocess.ts";
import { describe, it, skip } from "../harness.ts";
import { FINALLY, GO, PRODUCED, STARTED } from "../fixtures/stream-tasks.ts";

type Tasks = typeof import("../fixtures/stream-tasks.ts");
const TASKS = new URL("../fixtures/stream-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const CASE_MS = 120_000;
/** A grace no test outlives: a worker stopped by it would fail the test (a new worker id). */
const LONG_GRACE_MS = 60_000;
/** How many values a stream's worker may run ahead of its reader (README). */
const WINDOW = 16;

/** "thread" is the own thread backend (the default); "tinypool threads" the same kind on tinypool. */
type Flavour = "thread" | "tinypool threads" | "inline";
const FLAVOURS: Flavour[] = ["thread", "tinypool threads", "inline"];

function pool(flavour: Flavour, options: WorkerPoolOptions = {}): WorkerPool<Tasks> {
  const kind = flavour === "inline" ? "inline" : "thread";
  const backend = flavour === "tinypool threads" ? { backend: "tinypool" as const } : {};
  return new WorkerPool<Tasks>(TASKS, { kind, maxWorkers: 1, cancelGraceMs: LONG_GRACE_MS, ...backend, ...options });
}

async function withPool(flavour: Flavour, options: WorkerPoolOptions, body: (p: WorkerPool<Tasks>) => Promise<void>): Promise<void> {
  const p = pool(flavour, options);
  try {
    await within("the case", body(p), CASE_MS - 10_000);
  } finally {
    await p.destroy();
  }
}

/** Shared cells a task counts in (PRODUCED, FINALLY, STARTED). */
function cells(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * 4));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `ok()` holds (polling); fails naming `what` after a generous bound. */
async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: never happened`);
    await delay(5);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Reads `it` to its end; returns the values that came and the error it ended with. */
async function readToError<T>(it: AsyncIterable<T>): Promise<{ got: T[]; error: unknown }> {
  const got: T[] = [];
  try {
    for await (const x of it) got.push(x);
  } catch (error) {
    return { got, error };
  }
  throw new assert.AssertionError({ message: `the stream ended without an error after ${JSON.stringify(got)}` });
}

for (const flavour of FLAVOURS) {
  describe(`faults (streams, ${flavour})`, () => {
    it("a yielded value that cannot cross fails the stream naming the task, the value's index and why; the worker is kept", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        const cases: [string, RegExp][] = [
          ["function", /\.nested\.fn cannot be cloned \(it is a function\)/],
          ["symbol", /the value itself cannot be cloned \(it is a symbol\)/],
          ["deep", /nested too deeply/],
          ["late", /could not be cloned/],
        ];
        for (const [kind, why] of cases) {
          const c = cells();
          const { got, error } = await readToError(p.stream("bad", kind, 2, c));
          assert.deepEqual(got, [0, 1], kind);
          assert.ok(error instanceof TypeError, `${kind}: ${String(error)}`);
          assert.match(error.message, /^value 2 that task "bad" yielded cannot be sent to the reader: /, kind);
          assert.match(error.message, why, kind);
          await until(`${kind}: the generator's finally`, () => c[FINALLY] === 1);
          assert.equal(await p.run("where"), first, `${kind}: the worker was kept`);
        }
      });
    }, CASE_MS);

    it("values that do cross arrive as structured clone makes them: a cycle, a class instance, 8 MB, undefined, null", async () => {
      await withPool(flavour, {}, async (p) => {
        const [cycle, point, big, u, n] = await collect(p.stream("odd")) as [{ self: unknown; n: number }, object, string, unknown, unknown];
        assert.equal(cycle.self, cycle);
        assert.deepEqual(point, { x: 1, y: 2 });
        assert.equal(big.length, 8 << 20);
        assert.equal(u, undefined);
        assert.equal(n, null);
      });
    }, CASE_MS);

    it("a generator that throws (an Error, a string, undefined, null) fails the stream after its values", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        for (const kind of ["error", "string", "undefined", "null"]) {
          const { got, error } = await readToError(p.stream("throws", kind));
          assert.deepEqual(got, [1, 2], kind);
          assert.ok(error instanceof Error, kind);
          if (kind === "error") assert.ok(error instanceof RangeError && error.message === "the stream broke");
          else assert.match(error.message, /a non-Error value was thrown/, kind);
        }
        assert.equal(await p.run("where"), first);
        // Its return value is not a value of the stream.
        assert.deepEqual(await collect(p.stream("returns")), [1]);
      });
    }, CASE_MS);

    it("a reader that leaves a generator whose finally throws: the loop ends, the worker is kept", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        const c = cells();
        for await (const x of p.stream("finallyThrows", c)) if (x === 3) break;
        await until("the finally", () => c[FINALLY] === 1);
        assert.equal(await p.run("where"), first);
      });
    }, CASE_MS);

    it("return() while a next() waits for a value ends the stream at once and cancels the task", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        const c = cells();
        const it = p.stream("stalls", c, false);
        assert.deepEqual(await it.next(), { value: 1, done: false });
        const pending = it.next();
        await until("the task waits", () => c[PRODUCED] === 1);
        assert.deepEqual(await within("return()", it.return!()), { value: undefined, done: true });
        assert.deepEqual(await within("the waiting next()", pending), { value: undefined, done: true });
        await until("the task's finally", () => c[FINALLY] === 1);
        assert.equal(await within("a call after", p.run("where")), first, "the worker was kept");
        assert.deepEqual(await it.next(), { value: undefined, done: true });
      });
    }, CASE_MS);

    it("throw() while a next() waits ends the stream with that error", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        const it = p.stream("silent", c);
        const pending = it.next();
        await until("the task started", () => c[STARTED] === 1);
        const mine = new Error("the reader's own");
        await assert.rejects(within("throw()", it.throw!(mine)), (e) => e === mine);
        assert.deepEqual(await within("the waiting next()", pending), { value: undefined, done: true });
        await until("the task's finally", () => c[FINALLY] === 1);
        assert.equal(typeof await within("a call after", p.run("where")), "string");
      });
    }, CASE_MS);

    it("a task that ignores its signal: return() while next() waits still ends the stream, and the worker is freed", async () => {
      await withPool(flavour, { cancelGraceMs: 200 }, async (p) => {
        const first = await p.run("where");
        const c = cells();
        const it = p.stream("stalls", c, true);
        await it.next();
        const pending = it.next();
        await within("return()", it.return!());
        assert.deepEqual(await within("the waiting next()", pending), { value: undefined, done: true });
        // Threads: the worker is stopped after the grace and replaced; inline: nothing runs it.
        const next = await within("a call after", p.run("where"));
        if (flavour !== "inline") assert.notEqual(next, first);
      });
    }, CASE_MS);

    it("an abortable() stream aborted while it waits for a value frees its worker (the task's finally runs)", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        const c = cells();
        const ac = new AbortController();
        const read = (async () => {
          for await (const _ of abortable(p.stream("stalls", c, false), { signal: ac.signal })) {
            // one value, then the task waits
          }
        })();
        await until("the task waits", () => c[PRODUCED] === 1);
        ac.abort(new Error("enough"));
        await assert.rejects(within("the loop", read), /enough/);
        await until("the task's finally", () => c[FINALLY] === 1);
        assert.equal(await within("a call after", p.run("where")), first);
      });
    }, CASE_MS);

    it("a loopwork timeout around the loop (a coroutine reading with until(), an async body with abortable()) frees the worker", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        const a = cells();
        const b = cells();
        const got = await run(function* () {
          const seen: unknown[] = [];
          yield* moveOnAfter(200, function* () {
            const it = p.stream("stalls", a, false);
            try {
              for (;;) {
                const r = yield* untilDone(it.next());
                if (r.done === true) break;
                seen.push(r.value);
              }
            } finally {
              yield* untilDone(it.return!());
            }
          });
          yield* moveOnAfter(200, async (scope) => {
            for await (const x of abortable(p.stream("stalls", b, false), { signal: scope.signal })) seen.push(x);
          });
          return seen;
        });
        assert.deepEqual(got, [1, 1]);
        await until("the first task's finally", () => a[FINALLY] === 1);
        await until("the second task's finally", () => b[FINALLY] === 1);
        assert.equal(await within("a call after", p.run("where")), first);
      });
    }, CASE_MS);

    it("return()/throw() before the first value never start the call; after the end they answer done", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        const a = p.stream("endless", c);
        assert.deepEqual(await a.return!(), { value: undefined, done: true });
        assert.deepEqual(await a.next(), { value: undefined, done: true });
        const b = p.stream("endless", c);
        await assert.rejects(b.throw!(new Error("mine")), /mine/);
        assert.deepEqual(await b.next(), { value: undefined, done: true });
        p.stream("endless", c); // never read
        await p.run("where"); // the worker has had every chance to start a call
        assert.equal(c[STARTED], 0, "no stream call started");
        assert.equal(p.stats().busy, 0);
        const d = p.stream("count", 2);
        assert.deepEqual(await collect(d), [0, 1]);
        assert.deepEqual(await d.return!(), { value: undefined, done: true });
        assert.deepEqual(await d.next(), { value: undefined, done: true });
        // A second loop over the same stream object continues it: here, it is over.
        assert.deepEqual(await collect(d), []);
      });
    }, CASE_MS);

    it("results have an async generator's shapes: return(v) answers { value: v, done: true }; each result is a fresh object", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        const it = p.stream("endless", c);
        const first = await it.next();
        assert.deepEqual(first, { value: 0, done: false });
        const ended = await it.return!(7);
        assert.deepEqual(ended, { value: 7, done: true });
        await until("the task's finally", () => c[FINALLY] === 1);
        assert.deepEqual(await it.return!(Promise.resolve(8)), { value: 8, done: true });
        const a = await it.next();
        const b = await it.next();
        assert.deepEqual(a, { value: undefined, done: true });
        assert.notEqual(a, b, "a fresh result each time");
        for (const r of [first, ended, a]) assert.ok(!Object.isFrozen(r), "a reader may keep and change its result");
      });
    }, CASE_MS);

    it("await using a stream ends it with its scope", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        {
          await using s = p.stream("endless", c);
          assert.deepEqual(await s.next(), { value: 0, done: false });
        }
        await until("the task's finally", () => c[FINALLY] === 1);
      });
    }, CASE_MS);

    it("a reader that throws inside for await cancels the task; the error is the reader's", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        await assert.rejects(async () => {
          for await (const x of p.stream("endless", c)) if (x === 5) throw new Error("reader broke");
        }, /reader broke/);
        await until("the task's finally", () => c[FINALLY] === 1);
      });
    }, CASE_MS);

    it("a slow reader: the worker runs at most 16 values ahead of what was read", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        const it = p.stream("endless", c);
        for (let read = 1; read <= 40; read += 13) {
          while ((await it.next()).value !== read - 1) {
            // read up to value read - 1, i.e. `read` values
          }
          await until(`the worker fills its window after ${read} values`, () => c[PRODUCED] >= read + WINDOW);
          await delay(50); // room to overshoot, if it would
          assert.ok(c[PRODUCED] - read <= WINDOW, `after ${read} values read the worker made ${c[PRODUCED]}`);
        }
        await it.return!();
        await until("the task's finally", () => c[FINALLY] === 1);
      });
    }, CASE_MS);

    it("streams not generators, unknown names, bad arguments, and run() on an async generator fail clearly", async () => {
      await withPool(flavour, {}, async (p) => {
        const first = await p.run("where");
        await assert.rejects(collect(p.stream("plain")), /pool\.stream\(\) reads the values a task yields: the task returned number, not a generator/);
        assert.deepEqual(await collect(p.stream("array")), [10, 20, 30]);
        assert.deepEqual(await collect(p.stream("syncCount", 3)), [0, 1, 2]);
        await assert.rejects(collect(p.stream("nope" as "plain")), /unknown task "nope"/);
        await assert.rejects(collect(p.stream("count", (() => 1) as unknown as number)), /its arguments cannot be sent to a worker/);
        await assert.rejects(Promise.resolve(p.run("count", 3)), /the task is an async generator: read its values with pool\.stream\(\)/);
        assert.equal(await p.run("where"), first);
      });
    }, CASE_MS);

    it("destroy() during a stream fails it with PoolClosedError after the values read; close() lets it finish", async () => {
      const p = pool(flavour);
      const it = p.stream("endless", cells());
      await it.next();
      const destroyed = p.destroy();
      await assert.rejects(within("the stream", collect(it)), (e) => e instanceof PoolClosedError);
      await within("destroy()", destroyed);
      const q = pool(flavour);
      try {
        const s = q.stream("count", 100);
        assert.deepEqual(await s.next(), { value: 0, done: false });
        const closed = q.close();
        assert.equal((await within("the stream", collect(s))).length, 99);
        await within("close()", closed);
      } finally {
        await q.destroy();
      }
    }, CASE_MS);

    it("taskSignal() in a generator's body finds its call (its first next() runs there, not in the call)", async () => {
      await withPool(flavour, {}, async (p) => {
        const c = cells();
        const it = p.stream("silent", c);
        const pending = it.next();
        await until("the task started", () => c[STARTED] === 1 || c[FINALLY] === 1);
        await it.return!();
        assert.deepEqual(await pending, { value: undefined, done: true });
        await until("the task's finally", () => c[FINALLY] === 1);
      });
    }, CASE_MS);

    if (flavour !== "inline") {
      it("a worker that exits or dies mid-stream fails it with WorkerCrashedError after its values; a new worker serves", async () => {
        for (const how of ["exit", "uncaught"]) {
          await withPool(flavour, {}, async (p) => {
            const first = await p.run("where");
            const { got, error } = await readToError(p.stream("dies", how));
            assert.deepEqual(got, [1], how);
            assert.ok(error instanceof WorkerCrashedError, `${how}: ${String(error)}`);
            assert.notEqual(await p.run("where"), first);
          });
        }
      }, CASE_MS);
    }

    if (flavour !== "inline") {
      it("a worker that runs out of memory mid-stream fails it with WorkerCrashedError after its values", async () => {
        await withPool(flavour, { resourceLimits: { maxOldGenerationSizeMb: 32 } }, async (p) => {
          const first = await p.run("where");
          const { got, error } = await readToError(p.stream("oom"));
          assert.deepEqual(got, [1]);
          assert.ok(error instanceof WorkerCrashedError && /ran out of memory/.test(error.message), String(error));
          assert.notEqual(await p.run("where"), first);
        });
      }, CASE_MS);

      it("close() after a cancel whose worker dies within its grace ends once the worker is gone, not at the grace's end", async () => {
        // A grace no test waits for: close() must not wait for it once the worker has died.
        const grace = 600_000;
        for (const how of ["stream", "run"]) {
          const p = pool(flavour, { cancelGraceMs: grace });
          try {
            const c = cells();
            if (how === "stream") {
              const it = p.stream("exitsOnAbort", c);
              assert.deepEqual(await it.next(), { value: 1, done: false });
              await within("return()", it.return!());
            } else {
              const t = p.run("exitsOnAbortRun", c);
              await until("the task started", () => c[STARTED] === 1);
              t.cancel();
            }
            await until(`${how}: the task saw its abort`, () => c[FINALLY] === 1);
            await within(`${how}: close()`, p.close(), 45_000);
          } finally {
            await p.destroy();
          }
        }
      }, CASE_MS);

      if (flavour === "thread") {
        it("a call cancelled before its worker took it never runs, even when that worker then dies", async () => {
          await withPool(flavour, { concurrentTasksPerWorker: 2 }, async (p) => {
            await p.run("where"); // the worker has answered: what it never took goes back if it dies
            const a = cells();
            const b = cells();
            const spinning = Promise.resolve(p.run("spinThenExit", a)).then(() => "answered", (e: unknown) => e);
            await until("the worker spins", () => a[STARTED] === 1);
            const t = p.run("mark", b); // posted to the spinning worker, which cannot take it
            await until("the call is posted to the worker", () => p.stats().busy === 2);
            t.cancel();
            Atomics.store(a, GO, 1); // the worker ends
            assert.ok(await within("the spinning call", spinning) instanceof WorkerCrashedError);
            // Calls after run on a new worker, behind anything given back.
            for (let i = 0; i < 3; i++) assert.equal(await within("a call after", p.run("double", i)), 2 * i);
            assert.equal(b[STARTED], 0, "the cancelled call ran");
          });
        }, CASE_MS);
      }

      it("run() calls made while a stream holds a worker run on another (none is posted behind the stream for ever)", async () => {
        await withPool(flavour, { maxWorkers: 2 }, async (p) => {
          await p.run("where");
          const c = cells();
          const it = p.stream("endless", c);
          const first = it.next();
          const runs = Array.from({ length: 20 }, (_, i) => p.run("double", i));
          assert.deepEqual(await within("the calls", Promise.all(runs)), runs.map((_, i) => 2 * i));
          assert.deepEqual(await first, { value: 0, done: false });
          assert.equal(c[FINALLY], 0, "the stream is still open");
          await it.return!();
        });
      }, CASE_MS);
    }

    it("close() during a stream waits for its reader to leave, then ends", async () => {
      const p = pool(flavour);
      try {
        const c = cells();
        const it = p.stream("endless", c);
        await it.next();
        let closed = false;
        const closing = p.close().then(() => (closed = true));
        await it.next();
        await delay(20);
        assert.equal(closed, false, "close() waits for the open stream");
        await it.return!();
        await within("close()", closing);
        // close() waits for the cancelled task within its grace: its finally has run.
        assert.equal(c[FINALLY], 1);
      } finally {
        await p.destroy();
      }
    }, CASE_MS);

    it("close() waiting on a run() call that is then cancelled lets the task's finally run (its grace is kept)", async () => {
      const p = pool(flavour);
      try {
        const c = cells();
        const t = p.run("waits", c);
        await until("the task started", () => c[STARTED] === 1);
        const closing = p.close();
        await delay(20); // close() now waits for the call
        t.cancel();
        await within("close()", closing);
        assert.equal(c[FINALLY], 1);
      } finally {
        await p.destroy();
      }
    }, CASE_MS);

    if (flavour === "thread") {
      it("many streams at once on one worker (concurrentTasksPerWorker), mixed with run() calls", async () => {
        await withPool(flavour, { concurrentTasksPerWorker: 4 }, async (p) => {
          const streams = [p.stream("count", 50), p.stream("count", 50), p.stream("count", 50)];
          const out: number[][] = [[], [], []];
          for (let i = 0; i < 50; i++) {
            for (let s = 0; s < 3; s++) out[s]!.push((await streams[s]!.next()).value as number);
            if (i % 10 === 0) assert.equal(await p.run("double", i), 2 * i);
          }
          for (const o of out) assert.deepEqual(o, Array.from({ length: 50 }, (_, i) => i));
        });
      }, CASE_MS);
    }
  });
}

describe("faults (streams): a dropped iterator", () => {
  for (const kind of ["thread", "inline"]) {
    it(`${kind}: a reader that drops its iterator unclosed has its call cancelled once it is collected`, async () => {
      const program = new URL("../fixtures/stream-drop-program.ts", import.meta.url);
      const r = await runProgram(fileURLToPath(program), [kind], undefined, ["--expose-gc"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").at(-1)!), { first: 0, freed: true, next: 42 });
    }, CASE_MS);
  }
});

describe("faults (streams, kinds that do not stream)", () => {
  it("a process pool refuses a stream at its first next(); a stream never read throws nothing", async () => {
    const p = new WorkerPool<Tasks>(TASKS, { kind: "process", maxWorkers: 1 });
    try {
      p.stream("count", 3);
      await assert.rejects(p.stream("count", 3).next(), /pool\.stream\(\) needs kind "thread" or "inline", not "process"/);
    } finally {
      await p.destroy();
    }
  }, CASE_MS);

  if (redisAvailable || redisRequired) {
    it("a \"bullmq\" pool refuses a stream at its first next()", async () => {
      const redis = await startRedis();
      const p = new WorkerPool<Tasks>(null, { kind: "bullmq", connection: redis.url, queue: "streams" });
      try {
        await assert.rejects(p.stream("count", 3).next(), /pool\.stream\(\) needs kind "thread" or "inline", not "bullmq"/);
      } finally {
        await p.destroy();
        await redis.stop();
      }
    }, CASE_MS);
  } else {
    skip("a \"bullmq\" pool refuses a stream (no redis-server)");
  }
});


describe("faults (streams): no rejection escapes", () => {
  it("streams that fail, are left, are never read, or outlive their pool leak no rejection", async () => {
    const escaped = await unhandledDuring(async () => {
      for (const flavour of FLAVOURS) {
        const p = pool(flavour, { cancelGraceMs: 100 });
        const swallow = (x: Promise<unknown>) => x.then(undefined, () => {});
        await swallow(collect(p.stream("bad", "function", 1)));
        await swallow(collect(p.stream("throws", "undefined")));
        const left = p.stream("stalls", cells(), true);
        await left.next();
        void left.next(); // its outcome is never read
        await left.return!();
        p.stream("endless", cells()); // never read
        if (flavour !== "inline") await swallow(collect(p.stream("dies", "uncaught")));
        const held = p.stream("endless", cells());
        await held.next(); // read once, then kept until the pool goes
        await p.destroy();
        await swallow(held.next());
      }
    }, CASE_MS - 10_000);
    assert.deepEqual(escaped, []);
  }, CASE_MS);
});
