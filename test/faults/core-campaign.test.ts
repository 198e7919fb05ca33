/**
 * Fault tests from a hostile campaign on the coroutine loop and its primitives (src/core,
 * src/structured, src/sync, src/std): user code that waits in cycles, refuses cancellation,
 * throws from where nobody expects it, or hands over values of the wrong kind. Each case must
 * end (no hang: a generous real-time guard, never a speed check), lose no value, and let no
 * rejection escape the library (a process-level trap watches every case).
 */
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  CapacityLimiter,
  type Coroutine,
  debounce,
  dumpTasks,
  type ExceptionContext,
  Future,
  gather,
  getRunningLoop,
  InvalidStateError,
  Lock,
  monitorLag,
  poll,
  PriorityQueue,
  run,
  Semaphore,
  sleep,
  spawn,
  type Task,
  throttle,
  timeout,
  type TimeoutScope,
  until,
} from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/** Generous "it did not hang" bound, in real time; never a speed check. */
const HANG_GUARD_MS = 10_000;

/**
 * Runs `main` on a virtual-clock loop with a process-level trap for unhandled rejections and
 * a real-time hang guard; resolves to main's result and what the loop's exception handler got.
 */
async function guarded<T>(main: () => Coroutine<T>): Promise<{ value: T; reported: ExceptionContext[] }> {
  const escaped: unknown[] = [];
  const trap = (e: unknown) => escaped.push(e);
  process.on("unhandledRejection", trap);
  const reported: ExceptionContext[] = [];
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    const hung = new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error(`hung: still running after ${HANG_GUARD_MS} ms of real time`)), HANG_GUARD_MS);
    });
    const value = await Promise.race([
      run(function* () {
        getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
        return yield* main();
      }, virtual),
      hung,
    ]);
    // Let late host turns deliver any rejection the run left behind.
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(escaped, [], "no rejection escapes the library");
    return { value, reported };
  } finally {
    clearTimeout(guard);
    process.off("unhandledRejection", trap);
  }
}

describe("faults (core campaign): tasks that wait on each other in a cycle", () => {
  it("cancelling one of two tasks that wait on each other ends both cancelled, without a stack overflow", async () => {
    const { value, reported } = await guarded(function* () {
      const box: { t2?: Task<unknown> } = {};
      const t1 = spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* box.t2!;
      });
      box.t2 = spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* t1;
      });
      yield* sleep(10);
      t1.cancel("stop");
      yield* sleep(10);
      return [t1.cancelled(), box.t2.cancelled()];
    });
    assert.deepEqual(value, [true, true]);
    assert.deepEqual(reported, []);
  }, 30_000);

  it("run() ends when main returns while two tasks wait on each other", async () => {
    const seen: string[] = [];
    const { value, reported } = await guarded(function* () {
      const box: { t2?: Task<unknown> } = {};
      const t1 = spawn(function* (): Coroutine<unknown> {
        try {
          yield* sleep(1);
          return yield* box.t2!;
        } finally {
          seen.push("t1 cleaned up");
        }
      });
      box.t2 = spawn(function* (): Coroutine<unknown> {
        try {
          yield* sleep(1);
          return yield* t1;
        } finally {
          seen.push("t2 cleaned up");
        }
      });
      yield* sleep(10);
      return "main done";
    });
    assert.equal(value, "main done");
    assert.deepEqual(seen.sort(), ["t1 cleaned up", "t2 cleaned up"]);
    assert.deepEqual(reported, []);
  }, 30_000);

  it("a task that gathers itself can be cancelled", async () => {
    const { value } = await guarded(function* () {
      const box: { t?: Task<unknown> } = {};
      box.t = spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* gather([box.t!]);
      });
      yield* sleep(10);
      box.t.cancel();
      yield* sleep(10);
      return box.t.cancelled();
    });
    assert.equal(value, true);
  }, 30_000);

  it("a cycle of three tasks, one through gather(), ends cancelled at run()'s shutdown", async () => {
    const { value } = await guarded(function* () {
      const ring: Task<unknown>[] = [];
      ring.push(spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* ring[1]!;
      }));
      ring.push(spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* gather([ring[2]!]);
      }));
      ring.push(spawn(function* (): Coroutine<unknown> {
        yield* sleep(1);
        return yield* ring[0]!;
      }));
      yield* sleep(10);
      return ring.length;
    });
    assert.equal(value, 3);
  }, 30_000);
});

/** Counts the abort listeners added to `signal` and not yet removed (portable: Node and Deno). */
function countListeners(signal: AbortSignal): { live(): number } {
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...a: Parameters<AbortSignal["addEventListener"]>) => {
    if (a[0] === "abort") live.add(a[1]);
    add(...a);
  }) as AbortSignal["addEventListener"];
  signal.removeEventListener = ((...a: Parameters<AbortSignal["removeEventListener"]>) => {
    if (a[0] === "abort") live.delete(a[1]);
    remove(...a);
  }) as AbortSignal["removeEventListener"];
  return { live: () => live.size };
}

describe("faults (core campaign): std helpers under cancellation and with a long-lived signal", () => {
  it("poll() stops calling fn once the task waiting on it is cancelled", async () => {
    const { value } = await guarded(function* () {
      let calls = 0;
      const waiting = spawn(function* () {
        return yield* poll(() => ++calls, () => false, { interval: 5 });
      });
      yield* sleep(22);
      waiting.cancel();
      yield* sleep(1);
      const atCancel = calls;
      yield* sleep(100);
      return { cancelled: waiting.cancelled(), atCancel, after: calls };
    });
    assert.equal(value.cancelled, true);
    assert.equal(value.after, value.atCancel, "fn is not called after the cancellation");
  }, 30_000);

  it("poll() run as an async task ends when the task is cancelled, so run() does not wait for it", async () => {
    const { value } = await guarded(function* () {
      const t = spawn(() => poll(() => 0, () => false, { interval: 5 }));
      yield* sleep(12);
      t.cancel();
      yield* sleep(1);
      return t.cancelled();
    });
    assert.equal(value, true);
  }, 30_000);

  it("debounce() and throttle() keep no abort listener on a long-lived signal once nothing is pending", async () => {
    const ac = new AbortController();
    const listeners = countListeners(ac.signal);
    const calls: string[] = [];
    await guarded(function* () {
      for (let i = 0; i < 30; i++) {
        const d = debounce((x: string) => calls.push(x), 5, { signal: ac.signal });
        d(`d${i}`);
        const t = throttle((x: string) => calls.push(x), 5, { signal: ac.signal, ensureLastCall: true });
        t(`t${i}`);
        t(`t${i}-last`);
        yield* sleep(10);
      }
      return undefined;
    });
    assert.equal(calls.length, 90, "every debounced and throttled call ran");
    assert.equal(listeners.live(), 0, "no listener left on the signal");
  }, 30_000);

  it("aborting the signal still drops a pending debounced or trailing throttled call", async () => {
    const ac = new AbortController();
    const calls: string[] = [];
    await guarded(function* () {
      const d = debounce((x: string) => calls.push(x), 5, { signal: ac.signal });
      const t = throttle((x: string) => calls.push(x), 5, { signal: ac.signal, ensureLastCall: true });
      d("d");
      t("t-first");
      t("t-trailing");
      ac.abort();
      d.flush();
      t.flush();
      d("after");
      t("after");
      yield* sleep(20);
      return undefined;
    });
    assert.deepEqual(calls, ["t-first"]);
  }, 30_000);

  it("a throttled async function's rejection is reported to the loop, not lost", async () => {
    const { reported } = await guarded(function* () {
      const t = throttle(() => Promise.reject(new Error("throttled call failed")), 5);
      t();
      yield* sleep(10);
      return undefined;
    });
    assert.deepEqual(reported.map((c) => (c.exception as Error).message), ["throttled call failed"]);
  }, 30_000);
});

describe("faults (core campaign): a PriorityQueue whose comparator throws", () => {
  /** Compares numbers; throws whenever the poisoned value takes part. */
  const poisoned = (poison: number) => (a: number, b: number): number => {
    if (a === poison || b === poison) throw new Error(`cannot compare ${poison}`);
    return a - b;
  };

  it("a put that throws leaves nothing in the queue, and a get that throws takes nothing out", async () => {
    const { value } = await guarded(function* () {
      const q = new PriorityQueue<number>({ compare: poisoned(-1) });
      for (const x of [5, 1, 4, 2, 3]) q.putNowait(x);
      assert.throws(() => q.putNowait(-1), /cannot compare -1/);
      assert.equal(q.qsize(), 5, "the failed put added nothing");
      const failedPut = yield* catchingOf(q.put(-1));
      assert.match(String(failedPut), /cannot compare -1/);
      assert.equal(q.qsize(), 5);
      const out: number[] = [];
      while (!q.empty()) {
        out.push(q.getNowait());
        q.taskDone();
      }
      yield* q.join();
      return out;
    });
    assert.deepEqual(value, [1, 2, 3, 4, 5]);
  }, 30_000);

  it("a get whose reordering throws keeps every item; the items come out once the comparator recovers", async () => {
    const { value } = await guarded(function* () {
      let broken = false;
      const q = new PriorityQueue<number>({
        compare: (a, b) => {
          if (broken) throw new Error("comparator broke");
          return a - b;
        },
      });
      for (const x of [5, 1, 4, 2, 3, 6, 0]) q.putNowait(x);
      broken = true;
      assert.throws(() => q.getNowait(), /comparator broke/);
      assert.equal(q.qsize(), 7, "the failed get took nothing");
      broken = false;
      const out: number[] = [];
      while (!q.empty()) out.push(q.getNowait());
      return out;
    });
    assert.deepEqual(value, [0, 1, 2, 3, 4, 5, 6]);
  }, 30_000);

  it("a waiting put whose item cannot be ordered fails that put; the get that made room keeps its item; join() still ends", async () => {
    const { value } = await guarded(function* () {
      const q = new PriorityQueue<number>({ maxsize: 2, compare: poisoned(-1) });
      q.putNowait(1);
      q.putNowait(2);
      const asTask = spawn(function* () {
        yield* q.put(-1);
      });
      const asPromise = spawn(async () => {
        await q.put(-1);
      });
      yield* sleep(1);
      const first = q.getNowait(); // makes room: the waiting puts are admitted
      q.taskDone();
      yield* sleep(1);
      const second = q.getNowait();
      q.taskDone();
      yield* sleep(1);
      const errors = [asTask, asPromise].map((t) => (t.done() && !t.cancelled() ? String(t.exception()) : "pending"));
      yield* q.join();
      return { first, second, errors, left: q.qsize() };
    });
    assert.deepEqual(value, {
      first: 1,
      second: 2,
      errors: ["Error: cannot compare -1", "Error: cannot compare -1"],
      left: 0,
    });
  }, 30_000);
});

describe("faults (core campaign): a PriorityQueue whose comparator throws at random", () => {
  it("every operation either completes or changes nothing: no item lost or doubled, and the order stays right", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 3 })), { maxLength: 200 }),
        (ops) => {
          let fail = false;
          let calls = 0;
          const q = new PriorityQueue<number>({
            compare: (a, b) => {
              if (fail && ++calls % 3 === 0) throw new Error("flaky comparator");
              return a - b;
            },
          });
          const model: number[] = [];
          for (const [isPut, x, flaky] of ops) {
            fail = flaky === 0;
            calls = 0;
            if (isPut) {
              try {
                q.putNowait(x);
                model.push(x);
              } catch (e) {
                assert.match((e as Error).message, /flaky comparator/);
              }
            } else if (model.length > 0) {
              try {
                const got = q.getNowait();
                const min = Math.min(...model);
                assert.equal(got, min);
                model.splice(model.indexOf(min), 1);
              } catch (e) {
                assert.match((e as Error).message, /flaky comparator/);
              }
            }
            assert.equal(q.qsize(), model.length);
          }
          fail = false;
          const rest: number[] = [];
          while (!q.empty()) rest.push(q.getNowait());
          assert.deepEqual(rest, [...model].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("faults (core campaign): timers beyond what a host timer holds", () => {
  it("monitorLag() refuses an interval no host timer holds, naming it", () => {
    assert.throws(() => monitorLag({ intervalMs: 2 ** 40 }).stop(), (e: unknown) => e instanceof RangeError && /intervalMs/.test((e as Error).message));
    monitorLag({ intervalMs: 2 ** 31 - 1 }).stop();
  });

  it("a real-clock sleep longer than 2^31 - 1 ms arms no host timer longer than that, and does not end early", async () => {
    const host = globalThis.setTimeout;
    const asked: number[] = [];
    globalThis.setTimeout = ((cb: () => void, ms?: number) => {
      asked.push(ms ?? 0);
      return host(cb, ms);
    }) as typeof setTimeout;
    let early: boolean;
    try {
      early = await run(function* () {
        const long = spawn(function* () {
          yield* sleep(2 ** 31 + 10);
        });
        yield* until(new Promise((resolve) => host(resolve, 100)));
        const done = long.done();
        long.cancel();
        return done;
      });
    } finally {
      globalThis.setTimeout = host;
    }
    assert.equal(early, false, "the long sleep is still asleep");
    assert.ok(asked.length > 0, "the loop armed a host timer");
    assert.ok(Math.max(...asked) <= 2 ** 31 - 1, `host timers asked: ${asked.join(", ")}`);
  }, 30_000);
});

describe("faults (core campaign): the handle an acquire returns releases once", () => {
  it("Lock: releasing a handle again (by hand, or by `using` at the end of the block) never releases another task's hold", async () => {
    const { value } = await guarded(function* () {
      const lock = new Lock();
      const log: string[] = [];
      const other = spawn(function* () {
        yield* sleep(1);
        using _h = yield* lock.acquire();
        log.push(`other holds: ${lock.locked()}`);
        yield* sleep(10);
        log.push(`other still holds: ${lock.locked()}`);
      });
      {
        using h = yield* lock.acquire();
        h.release(); // early, by hand
        yield* sleep(2); // other acquires meanwhile
        assert.throws(() => h.release(), (e: unknown) => e instanceof InvalidStateError && /already released/.test((e as Error).message));
      } // `using` disposes h again here: nothing happens
      log.push(`after the block: ${lock.locked()}`);
      yield* other;
      return { log, locked: lock.locked() };
    });
    assert.deepEqual(value.log, ["other holds: true", "after the block: true", "other still holds: true"]);
    assert.equal(value.locked, false);
  }, 30_000);

  it("Semaphore: a handle released twice does not add a permit (the count cannot drift)", async () => {
    const { value } = await guarded(function* () {
      const sem = new Semaphore(1);
      const h = yield* sem.acquire();
      h.release();
      const t = spawn(function* () {
        using _p = yield* sem.acquire();
        yield* sleep(5);
      });
      yield* sleep(1);
      assert.throws(() => h.release(), /already released/);
      h[Symbol.dispose]();
      const whileHeld = sem.value;
      yield* t;
      return { whileHeld, after: sem.value };
    });
    assert.deepEqual(value, { whileHeld: 0, after: 1 });
  }, 30_000);

  it("CapacityLimiter: an old handle does not give back the token its task borrowed again", async () => {
    const { value } = await guarded(function* () {
      const limiter = new CapacityLimiter(1);
      const first = yield* limiter.acquire();
      first.release();
      yield* limiter.acquire(); // the same task borrows again
      assert.throws(() => first.release(), /already released/);
      first[Symbol.dispose]();
      const borrowed = limiter.borrowedTokens;
      limiter.release();
      return { borrowed, after: limiter.borrowedTokens };
    });
    assert.deepEqual(value, { borrowed: 1, after: 0 });
  }, 30_000);
});

describe("faults (core campaign): cancelling down a deep chain of waiting tasks", () => {
  const DEPTH = 20_000;

  function* level(n: number, via: "yield*" | "gather"): Coroutine<number> {
    if (n === 0) {
      yield* sleep(1e9);
      return 0;
    }
    const child = spawn(level(n - 1, via));
    return via === "gather" ? (yield* gather([child]))[0]! : yield* child;
  }

  for (const via of ["yield*", "gather"] as const) {
    it(`cancelling the head of ${DEPTH} tasks each waiting on the next (${via}) cancels them all, without a stack overflow`, async () => {
      const { value, reported } = await guarded(function* () {
        const head = spawn(level(DEPTH, via));
        yield* sleep(10);
        head.cancel();
        yield* sleep(10);
        return { cancelled: head.cancelled(), live: getRunningLoop()._liveTasks().length };
      });
      assert.deepEqual(value, { cancelled: true, live: 1 });
      assert.deepEqual(reported, []);
    }, 60_000);
  }

  it(`run() ends when main returns with a chain of ${DEPTH} waiting tasks still alive`, async () => {
    const { value, reported } = await guarded(function* () {
      spawn(level(DEPTH, "yield*"));
      yield* sleep(10);
      return "main done";
    });
    assert.equal(value, "main done");
    assert.deepEqual(reported, []);
  }, 60_000);

  it(`dumpTasks() shows a chain of ${DEPTH} waiting tasks without a stack overflow, its indentation bounded`, async () => {
    const { value } = await guarded(function* () {
      const head = spawn(level(DEPTH, "yield*"), { name: "head" });
      yield* sleep(10);
      const dump = dumpTasks({ where: false });
      head.cancel();
      return dump;
    });
    const lines = value.split("\n");
    assert.match(lines[0]!, new RegExp(`^${DEPTH + 2} tasks at 10 ms`));
    assert.equal(lines.length, DEPTH + 3);
    const longest = Math.max(...lines.map((l) => l.length));
    assert.ok(longest < 1_000, `longest line ${longest} characters`);
    assert.match(value, /head: /);
  }, 60_000);

  it("a task waiting on a future whose cancel() throws is still cancelled; the error is reported once", async () => {
    class Stubborn<T> extends Future<T> {
      override cancel(): boolean {
        throw new Error("this future refuses to be cancelled");
      }
    }
    const { value, reported } = await guarded(function* () {
      const f = new Stubborn<number>();
      const t = spawn(function* () {
        return yield* f;
      });
      yield* sleep(1);
      const answer = t.cancel();
      yield* sleep(1);
      return { answer, cancelled: t.cancelled() };
    });
    assert.deepEqual(value, { answer: true, cancelled: true });
    assert.deepEqual(reported.map((c) => (c.exception as Error).message), ["this future refuses to be cancelled"]);
  }, 30_000);
});

describe("faults (core campaign): run()'s shutdown warning about many stubborn tasks", () => {
  it("names the first few of 300 tasks that ignore their cancellation and says how many more, in one short line", async () => {
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warned.push(args.map(String).join(" "));
    try {
      // Real time, past the 2 s after which run() warns; not a speed check.
      const release = new Promise<void>((resolve) => setTimeout(resolve, 2_500));
      await run(function* () {
        for (let i = 0; i < 300; i++) spawn(async () => void (await release), { name: `stubborn-${i}` });
        yield* sleep(1);
      });
    } finally {
      console.warn = warn;
    }
    const line = warned.find((w) => w.includes("run() is waiting for 300 cancelled task(s)"));
    assert.ok(line !== undefined, warned.join("\n"));
    assert.match(line, /stubborn-0, stubborn-1/);
    assert.match(line, /and 290 more/);
    assert.ok(line.length < 1_000, `${line.length} characters`);
  }, 30_000);
});

describe("faults (core campaign): a timeout scope used after it ended", () => {
  it("reschedule() on an expired scope throws InvalidStateError saying so in plain words", async () => {
    const { value } = await guarded(function* () {
      let kept: TimeoutScope | undefined;
      try {
        yield* timeout(10, function* (scope) {
          kept = scope;
          yield* sleep(100);
        });
      } catch {
        // the TimeoutError
      }
      try {
        kept!.reschedule(1_000);
      } catch (e) {
        return e;
      }
      return undefined;
    });
    assert.ok(value instanceof InvalidStateError);
    assert.match(value.message, /cannot change the deadline of a timeout scope that is expired/);
  }, 30_000);
});

/** Waits on `f` and returns what it failed with (undefined when it did not). */
function* catchingOf(f: Future<unknown>): Coroutine<unknown> {
  try {
    yield* f;
  } catch (e) {
    return e;
  }
  return undefined;
}
