/**
 * Fault suite, issue 14 item 9: "Task exception was never retrieved" is reported for
 * exactly the failures nobody looked at. Looking means `result()`, `exception()`, `yield*`
 * (before or after the failure), `then()`/`await` (before or after), a task woken by the
 * failure, or a combinator that consumes it (gather, taskGroup, asCompleted). A bare done
 * callback is not looking (asyncio). `then(onFulfilled)` alone hands the failure to the
 * promise it returns, which the host reports as an unhandled rejection if nobody handles
 * it: the loop does not report it a second time.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  asCompleted,
  type Coroutine,
  type ExceptionContext,
  gather,
  getRunningLoop,
  run,
  sleep,
  spawn,
  type Task,
  taskGroup,
  timeout,
  TimeoutError,
} from "../../mod.ts";
import { describe, it, runtime } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/** Runs `main` on a virtual-clock loop; returns what its exception handler received. */
async function reportsOf(main: () => Coroutine<unknown> | Promise<unknown>): Promise<ExceptionContext[]> {
  const reported: ExceptionContext[] = [];
  await run(function* () {
    getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
    const out = main();
    if (out instanceof Promise) yield* spawn(() => out);
    else yield* spawn(out);
  }, virtual);
  return reported;
}

function* failAfter(ms: number, error: Error): Coroutine<never> {
  yield* sleep(ms);
  throw error;
}

const messages = (r: ExceptionContext[]) => r.map((c) => `${c.message}: ${(c.exception as Error)?.message}`);

describe("faults: unretrieved task failures", () => {
  it("a task awaited from async code before it fails is not reported", async () => {
    const reported = await reportsOf(async () => {
      const tasks = Array.from({ length: 50 }, (_, i) => spawn(failAfter(10 + i, new Error(`f${i}`))));
      let caught = 0;
      for (const t of tasks) {
        try {
          await t;
        } catch {
          caught++;
        }
      }
      assert.equal(caught, 50);
    });
    assert.deepEqual(messages(reported), []);
  });

  it("a task given an onRejected handler with then() before it fails is not reported", async () => {
    const seen: string[] = [];
    const reported = await reportsOf(function* () {
      const t = spawn(failAfter(10, new Error("late")));
      void t.then(undefined, (e: unknown) => seen.push((e as Error).message));
      // then(onFulfilled) alone: the promise it returns takes the failure (handled here).
      const u = spawn(failAfter(10, new Error("derived")));
      u.then(() => {}).catch((e: Error) => seen.push(e.message));
      yield* sleep(20);
    });
    assert.deepEqual(seen, ["late", "derived"]);
    assert.deepEqual(messages(reported), []);
  });

  it("a failure read with yield*, result() or exception() is not reported", async () => {
    const reported = await reportsOf(function* () {
      const a = spawn(failAfter(10, new Error("a")));
      const b = spawn(failAfter(10, new Error("b")));
      const c = spawn(failAfter(10, new Error("c")));
      try {
        yield* a;
      } catch { /* read */ }
      yield* sleep(5);
      assert.throws(() => b.result(), /b/);
      assert.equal((c.exception() as Error).message, "c");
    });
    assert.deepEqual(messages(reported), []);
  });

  it("a failure only watched by a done callback is reported, once", async () => {
    const reported = await reportsOf(function* () {
      const t = spawn(failAfter(10, new Error("watched only")));
      t.addDoneCallback(() => {});
      yield* sleep(20);
    });
    assert.deepEqual(messages(reported), ["Task exception was never retrieved: watched only"]);
  });

  it("a failure nobody looked at is reported exactly once, naming its task", async () => {
    const reported = await reportsOf(function* () {
      spawn(failAfter(10, new Error("forgotten")), { name: "forgotten" });
      const read = spawn(failAfter(10, new Error("read")));
      yield* sleep(20);
      read.exception();
    });
    assert.deepEqual(messages(reported), ["Task exception was never retrieved: forgotten"]);
    assert.equal(reported[0]!.taskName, "forgotten");
  });

  it("a task cancelled one loop turn after the timeout() it waits on expired reports nothing", async () => {
    // The scope fails with TimeoutError on turn N; its waiter, woken for turn N+1, was
    // cancelled in between: it gets its cancellation, and waking on the scope took the
    // TimeoutError (asyncio's __wakeup reads the result first). Try each turn around it.
    for (let turns = 0; turns < 5; turns++) {
      let outcome = "";
      const reported = await reportsOf(function* () {
        const outer = spawn(function* () {
          yield* timeout(10, function* () {
            yield* sleep(100);
          });
        });
        yield* sleep(10);
        for (let i = 0; i < turns; i++) yield;
        outer.cancel();
        try {
          yield* outer;
          outcome = "finished";
        } catch (e) {
          outcome = (e as Error).name;
        }
      });
      assert.deepEqual(messages(reported), [], `cancelled ${turns} turn(s) after the expiry`);
      assert.ok(outcome === "CancelledError" || outcome === "TimeoutError", outcome);
    }
  });

  it("a task following a failed task and cancelled before it resumes reports nothing", async () => {
    for (let turns = 0; turns < 4; turns++) {
      const reported = await reportsOf(function* () {
        const inner = spawn(failAfter(10, new Error("followed")));
        const outer = spawn(() => inner); // a function task following a future
        yield* sleep(10);
        for (let i = 0; i < turns; i++) yield;
        outer.cancel();
        try {
          yield* outer;
        } catch { /* cancelled or failed */ }
      });
      assert.deepEqual(messages(reported), [], `cancelled ${turns} turn(s) after`);
    }
  });

  it("failures consumed by gather, taskGroup and asCompleted are not reported again", async () => {
    const reported = await reportsOf(function* () {
      const g = [spawn(failAfter(5, new Error("g1"))), spawn(failAfter(6, new Error("g2")))];
      try {
        yield* gather(g);
      } catch { /* the first */ }
      try {
        yield* taskGroup(function* (tg) {
          tg.spawn(failAfter(5, new Error("tg")));
          yield* sleep(100);
        });
      } catch { /* TaskGroupError */ }
      for (const next of asCompleted([spawn(failAfter(5, new Error("ac")))])) {
        try {
          yield* next;
        } catch { /* read */ }
      }
      yield* sleep(10);
    });
    assert.deepEqual(messages(reported), []);
  });

  it("a timeout that expired and is awaited reports nothing, its TimeoutError is the outcome", async () => {
    const reported = await reportsOf(async () => {
      await assert.rejects(
        async () => await timeout(10, function* () { yield* sleep(100); }),
        TimeoutError,
      );
    });
    assert.deepEqual(messages(reported), []);
  });

  it("property: the reports are exactly the failures nobody looked at", async () => {
    const MODES = [
      "none", "doneCallback", "yieldBefore", "yieldAfter", "awaitBefore", "awaitAfter",
      "thenBefore", "thenAfter", "result", "exception", "gather", "group", "wokenCancelled",
    ] as const;
    type Mode = (typeof MODES)[number];
    const unread = new Set<Mode>(["none", "doneCallback"]);
    const spec = fc.array(
      fc.record({ fails: fc.boolean(), at: fc.integer({ min: 0, max: 20 }), mode: fc.constantFrom(...MODES) }),
      { minLength: 1, maxLength: 12 },
    );
    await fc.assert(
      fc.asyncProperty(spec, async (items) => {
        const reported = await reportsOf(function* () {
          const waiters: Task<unknown>[] = [];
          const tasks = items.map(({ fails, at }, i) =>
            spawn(function* () {
              yield* sleep(at);
              if (fails) throw new Error(`e${i}`);
              return i;
            }),
          );
          const swallow = function* (t: Task<unknown>, wait = 0): Coroutine<void> {
            if (wait > 0) yield* sleep(wait);
            try {
              yield* t;
            } catch { /* read */ }
          };
          items.forEach(({ mode }, i) => {
            const t = tasks[i]!;
            switch (mode) {
              case "doneCallback": t.addDoneCallback(() => {}); break;
              case "yieldBefore": waiters.push(spawn(swallow(t))); break;
              case "yieldAfter": waiters.push(spawn(swallow(t, 30))); break;
              case "awaitBefore": waiters.push(spawn(async () => { try { await t; } catch { /* read */ } })); break;
              case "awaitAfter": waiters.push(spawn(async () => { await sleep(30); try { await t; } catch { /* read */ } })); break;
              case "thenBefore": void t.then(undefined, () => {}); break;
              case "thenAfter": waiters.push(spawn(function* () { yield* sleep(30); void t.then(undefined, () => {}); })); break;
              case "result": waiters.push(spawn(function* () { yield* sleep(30); try { t.result(); } catch { /* read */ } })); break;
              case "exception": waiters.push(spawn(function* () { yield* sleep(30); t.exception(); })); break;
              case "gather": waiters.push(spawn(function* () { try { yield* gather([t]); } catch { /* read */ } })); break;
              case "group": waiters.push(spawn(function* () {
                try {
                  yield* taskGroup(function* (tg) { tg.spawn(swallow(t)); });
                } catch { /* read */ }
              })); break;
              case "wokenCancelled": {
                // A waiter cancelled right after t settled: it wakes, but gets its cancellation.
                const w = spawn(swallow(t));
                waiters.push(w);
                t.addDoneCallback(() => w.cancel());
                break;
              }
            }
          });
          yield* sleep(50);
          for (const w of waiters) {
            try {
              yield* w;
            } catch { /* a cancelled waiter */ }
          }
        });
        const expected = items.flatMap(({ fails, mode }, i) => (fails && unread.has(mode) ? [`e${i}`] : [])).sort();
        const got = reported.map((c) => {
          assert.equal(c.message, "Task exception was never retrieved");
          return (c.exception as Error).message;
        }).sort();
        assert.deepEqual(got, expected);
      }),
      { numRuns: 150 },
    );
  });

  it("a task collected unread is reported once, on a loop and on the pool's host loop (GC path)", async () => {
    const file = fileURLToPath(new URL("../fixtures/unretrieved-gc.ts", import.meta.url));
    const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
    const [cmd, argv] = runtime === "deno"
      ? [deno!.execPath(), ["run", "-A", "--v8-flags=--expose-gc", file]]
      : [process.execPath, ["--expose-gc", "--import", "tsx", file]];
    const out = await new Promise<string>((resolve, reject) => {
      execFile(cmd, argv, { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const { reports, beforeClose, unhandled } = JSON.parse(out.trim().split("\n").pop()!) as {
      reports: string[];
      beforeClose: number;
      unhandled: string[];
    };
    // One report per task nobody looked at, made when it was collected (the loop's before it
    // closed, so close() did not report it again); none for the awaited tasks.
    assert.equal(reports.length, 2, reports.join("\n"));
    assert.match(reports[0]!, /never retrieved loop-unread/);
    assert.match(reports[1]!, /never retrieved \(task host-unread\)/);
    assert.equal(beforeClose, 1);
    // then(onFulfilled) alone: the host reports the derived promise's rejection, once.
    assert.deepEqual(unhandled.sort(), ["host-then-only", "loop-then-only"]);
  }, 60_000);
});
