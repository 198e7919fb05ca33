/**
 * Fault tests for the trust loopwork puts in what callers hand it: AbortSignal lookalikes and
 * Proxies passed as a `signal`, real signals aborted with a reason whose every read throws,
 * retry's backoff at the edges of floating point, the description of a bad `abortable()`
 * input, a `Queue.put()`/`get()` nobody waits on, and a sweep of hostile scenarios under a
 * process-level trap for rejections that escape the library. Each case must end (a generous
 * real-time guard, never a speed check) and leave no listener on a real signal.
 */
import assert from "node:assert/strict";
import {
  abortable,
  asCompleted,
  Barrier,
  CapacityLimiter,
  Condition,
  deadline,
  debounce,
  delay,
  Event,
  gather,
  getRunningLoop,
  Lock,
  moveOnAfter,
  poll,
  pooledMap,
  pooledMapSettled,
  Queue,
  retry,
  run,
  Semaphore,
  shield,
  sleep,
  spawn,
  taskGroup,
  throttle,
  timeout,
  until,
  wait,
  waitFor,
  WorkerPool,
} from "../../mod.ts";
import * as std from "../../std.ts";
import { backoff } from "../../src/std/retry.ts";
import { countedSignal, unhandledDuring, within } from "../expect.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/** What the hostile values throw: a test fails if this (rather than our TypeError) comes out. */
class Boom extends Error {
  constructor(where: string) {
    super(`boom from ${where}`);
    this.name = "Boom";
  }
}

const TRAPS = ["get", "has", "getPrototypeOf", "ownKeys", "getOwnPropertyDescriptor", "set", "defineProperty"] as const;
const THROWING_TRAPS: ProxyHandler<object> = Object.fromEntries(TRAPS.map((trap) => [trap, (_t: object, key?: unknown) => {
  throw new Boom(trap === "get" ? `get ${String(key)}` : trap);
}]));

/** A value every read of which throws: `Proxy` with throwing traps. */
function hostileValue(): object {
  return new Proxy({}, THROWING_TRAPS);
}

/** Signal-shaped values that are not AbortSignals, each misbehaving in its own way. */
function lookalikes(): [string, unknown][] {
  const noop = () => {};
  return [
    ["a lookalike whose `aborted` getter throws", {
      get aborted(): boolean {
        throw new Boom("aborted");
      },
      reason: undefined,
      addEventListener: noop,
      removeEventListener: noop,
    }],
    ["an aborted lookalike whose `reason` getter throws", {
      aborted: true,
      get reason(): unknown {
        throw new Boom("reason");
      },
      addEventListener: noop,
      removeEventListener: noop,
      throwIfAborted: () => {
        throw new Boom("throwIfAborted");
      },
    }],
    ["a lookalike whose `addEventListener` getter throws", {
      aborted: false,
      reason: undefined,
      get addEventListener(): () => void {
        throw new Boom("addEventListener");
      },
      removeEventListener: noop,
    }],
    ["a lookalike whose `addEventListener` throws when called", {
      aborted: false,
      reason: undefined,
      addEventListener: () => {
        throw new Boom("addEventListener()");
      },
      removeEventListener: noop,
      throwIfAborted: noop,
    }],
    ["a Proxy whose traps throw", hostileValue()],
    ["a Proxy of a real signal whose traps throw", new Proxy(new AbortController().signal, THROWING_TRAPS)],
    ["an object made from AbortSignal.prototype", Object.create(AbortSignal.prototype)],
  ];
}

const never = () => new Promise<never>(() => {});
/** A call of pooledMap that waits until its signal aborts. */
const listening = (_: number, signal: AbortSignal) => abortable(never(), signal);

/**
 * Every public entry that takes a `signal`, called with `signal` inside a virtual-clock loop.
 * Each returns what the caller gets: a future or promise, an async iterable to read, or
 * (debounce, throttle) a function.
 */
const ENTRIES: [string, (signal: unknown) => unknown][] = [
  ["delay()", (signal) => delay(1_000, { signal } as never)],
  ["deadline()", (signal) => deadline(never(), 1_000, { signal } as never)],
  ["abortable(promise, signal)", (signal) => abortable(never(), signal as never)],
  ["abortable(promise, { signal })", (signal) => abortable(never(), { signal } as never)],
  ["abortable(iterable, signal)", (signal) => abortable((async function* () {
    yield 1;
    await never();
  })(), signal as never)],
  ["poll()", (signal) => poll(() => 1, () => false, { signal, interval: 10 } as never)],
  ["retry()", (signal) => retry(() => Promise.reject(new Error("flaky")), { signal, minTimeout: 10 } as never)],
  ["debounce()", (signal) => debounce(() => {}, 10, { signal } as never)],
  ["throttle()", (signal) => throttle(() => {}, 10, { signal } as never)],
  ["pooledMap(iterable, fn, { poolLimit, signal })", (signal) => pooledMap([1, 2], listening, { poolLimit: 1, signal } as never)],
  ["pooledMap(poolLimit, iterable, fn, { signal })", (signal) => pooledMap(1, [1, 2], listening, { signal } as never)],
  ["pooledMapSettled()", (signal) => pooledMapSettled([1, 2], listening, { poolLimit: 1, signal } as never)],
  ["std abortable()", (signal) => std.abortable(never(), signal as never)],
  ["std delay()", (signal) => std.delay(1_000, { signal } as never)],
  ["std deadline()", (signal) => std.deadline(never(), 1_000, { signal } as never)],
  ["taskGroup()", (signal) => taskGroup(async (tg) => {
    tg.spawn(function* () {
      yield* sleep(1e9);
    });
  }, { signal } as never)],
  ["timeout()", (signal) => timeout(1_000, async (scope) => await abortable(never(), scope.signal), { signal } as never)],
  ["moveOnAfter()", (signal) => moveOnAfter(1_000, async (scope) => await abortable(never(), scope.signal), { signal } as never)],
  ["Lock.acquire()", (signal) => {
    const lock = new Lock();
    void lock.acquire();
    return lock.acquire({ signal } as never);
  }],
  ["Semaphore.acquire()", (signal) => new Semaphore(0).acquire({ signal } as never)],
  ["CapacityLimiter.acquire()", (signal) => {
    const limiter = new CapacityLimiter(1);
    limiter.acquireOnBehalfOf("someone else");
    return limiter.acquireOnBehalfOf("me", { signal } as never);
  }],
  ["Condition.wait()", (signal) => {
    const cond = new Condition();
    return (async () => {
      await cond.acquire();
      try {
        await cond.wait({ signal } as never);
      } finally {
        cond.release();
      }
    })();
  }],
  ["Event.wait()", (signal) => new Event().wait({ signal } as never)],
  ["Barrier.wait()", (signal) => new Barrier(2).wait({ signal } as never)],
  ["Queue.get()", (signal) => new Queue().get({ signal } as never)],
  ["Queue.put()", (signal) => {
    const q = new Queue({ maxsize: 1 });
    q.putNowait(1);
    return q.put(2, { signal } as never);
  }],
  ["Queue.join()", (signal) => {
    const q = new Queue();
    q.putNowait(1);
    return q.join({ signal } as never);
  }],
  ["Queue.iterate()", (signal) => new Queue().iterate({ signal } as never)],
];

type Outcome = { kind: "threw" | "rejected"; error: unknown } | { kind: "resolved"; value: unknown } | { kind: "function" };

/** Calls `entry` and drives what it returns until it settles (an iterable: its first two reads). */
async function outcomeOf(entry: (signal: unknown) => unknown, signal: unknown): Promise<Outcome> {
  let out: unknown;
  try {
    out = entry(signal);
  } catch (error) {
    return { kind: "threw", error };
  }
  if (typeof out === "function") return { kind: "function" };
  try {
    if (out !== null && typeof out === "object" && Symbol.asyncIterator in out) {
      const it = (out as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      await it.next();
      const r = await it.next();
      return { kind: "resolved", value: r };
    }
    return { kind: "resolved", value: await (out as PromiseLike<unknown>) };
  } catch (error) {
    return { kind: "rejected", error };
  }
}

/** Is `e` our TypeError naming the bad signal (and not what the hostile value threw)? */
function isSignalTypeError(e: unknown): boolean {
  return e instanceof TypeError && /signal must be an AbortSignal/.test(e.message);
}

describe("faults (trust ends): a signal that is not an AbortSignal", () => {
  for (const [what, entry] of ENTRIES) {
    it(`${what}: every lookalike and Proxy is refused with our TypeError, never the value's own error`, async () => {
      await run(async () => {
        for (const [kind, signal] of lookalikes()) {
          const o = await within(`${what} with ${kind}`, outcomeOf(entry, signal));
          assert.ok(o.kind === "threw" || o.kind === "rejected", `${what} with ${kind}: refused (got ${o.kind})`);
          assert.ok(isSignalTypeError(o.error), `${what} with ${kind}: our TypeError, got ${String((o.error as Error)?.message)}`);
        }
      }, virtual);
    });
  }

  it("the TypeError describes a Proxy without reading it", () => {
    assert.throws(() => delay(1, { signal: hostileValue() as never }), (e: unknown) => isSignalTypeError(e) && /got object/.test((e as Error).message));
  });

  it("a pool's map() refuses a lookalike with our TypeError, and fails with a hostile reason", async () => {
    const p = new WorkerPool(new URL("../fixtures/tasks.ts", import.meta.url), { kind: "inline" });
    try {
      for (const [kind, signal] of lookalikes()) {
        const o = await within(`map() with ${kind}`, outcomeOf((s) => p.map("echo", [1, 2], { signal: s } as never), signal));
        assert.ok(o.kind === "threw" || o.kind === "rejected", `map() with ${kind}: refused`);
        assert.ok(isSignalTypeError((o as { error: unknown }).error), `map() with ${kind}: our TypeError`);
      }
      // A real signal aborted with a reason whose every read throws: the map fails with it, leaving no listener.
      const { ac, live } = countedSignal();
      const reason = hostileValue();
      ac.abort(reason);
      const o = await within("map() with a hostile reason", outcomeOf((s) => p.map("echo", [1, 2], { signal: s } as never), ac.signal));
      assert.equal(o.kind, "rejected");
      assert.ok((o as { error: unknown }).error === reason, "the reason itself");
      assert.equal(live(), 0, "no listener left on the signal");
    } finally {
      await p.destroy();
    }
  });
});

/** The entries that return something to wait on (not debounce/throttle, which return a function). */
const WAITING_ENTRIES = ENTRIES.filter(([what]) => !/^(debounce|throttle)/.test(what));

describe("faults (trust ends): a real signal aborted with a reason whose every read throws", () => {
  for (const [what, entry] of WAITING_ENTRIES) {
    for (const when of ["already aborted", "aborted while it waits"] as const) {
      it(`${what}: ${when}, it ends with that reason (or cancelled), throws nothing at the call, leaves no listener`, async () => {
        await run(async () => {
          const { ac, live } = countedSignal();
          const reason = hostileValue();
          if (when === "already aborted") ac.abort(reason);
          const settled = outcomeOf(entry, ac.signal);
          if (when === "aborted while it waits") {
            await sleep(1);
            ac.abort(reason);
          }
          const o = await within(what, settled);
          assert.notEqual(o.kind, "threw", `${what}: nothing thrown at the call`);
          assert.equal(o.kind, "rejected", `${what}: it ends failed`);
          const e = (o as { error: unknown }).error;
          assert.ok(e === reason || (e instanceof Error && e.name === "CancelledError"), `${what}: with the reason or a cancellation`);
          await sleep(0);
          assert.equal(live(), 0, `${what}: no listener left on the signal`);
        }, virtual);
      });
    }
  }

  it("a CancelledError reason whose every read throws cancels the wait instead of throwing", async () => {
    const { CancelledError } = await import("../../mod.ts");
    // `instanceof` sees a CancelledError; reading its message throws.
    const reason = new Proxy(new CancelledError("stop"), {
      getPrototypeOf: () => CancelledError.prototype,
      get: (_t, k) => {
        throw new Boom(`get ${String(k)}`);
      },
    });
    const ac = new AbortController();
    ac.abort(reason);
    const f = delay(1_000, { signal: ac.signal });
    assert.ok(f.cancelled(), "the delay is cancelled");
    const late = new AbortController();
    const g = delay(1_000, { signal: late.signal });
    late.abort(reason);
    assert.ok(g.cancelled(), "the delay is cancelled when the signal aborts later");
  });
});

describe("faults (trust ends): retry's backoff stays a finite, sane time", () => {
  const o = (over: Partial<{ multiplier: number; maxTimeout: number; minTimeout: number; jitter: number }>) => ({
    multiplier: 2, maxTimeout: 60_000, minTimeout: 1_000, jitter: 0, ...over,
  });

  it("maxTimeout: Infinity with a huge multiplier: every backoff is finite", () => {
    for (const attempt of [0, 1, 2, 10, 1_000]) {
      for (const r of [0, 0.5, 0.999]) {
        const b = backoff(attempt, o({ maxTimeout: Infinity, multiplier: 1e300, jitter: 1 }), () => r);
        assert.ok(Number.isFinite(b) && b >= 0, `attempt ${attempt}, random ${r}: ${b}`);
      }
    }
  });

  it("a minTimeout of 0 and a huge attempt count: 0, not NaN", () => {
    for (const attempt of [0, 5, 2_000]) {
      const b = backoff(attempt, o({ minTimeout: 0, multiplier: 10 }));
      assert.equal(b, 0, `attempt ${attempt}`);
    }
  });

  it("a huge attempt count is capped at maxTimeout", () => {
    assert.equal(backoff(5_000, o({})), 60_000);
    assert.equal(backoff(5_000, o({ maxTimeout: Number.MAX_VALUE })) <= Number.MAX_SAFE_INTEGER, true);
  });

  it("retry() with maxTimeout: Infinity and a huge multiplier runs out of attempts (it waited for ever)", async () => {
    let calls = 0;
    const e = await run(async () => {
      try {
        await retry(() => {
          calls++;
          throw new Error("flaky");
        }, { maxTimeout: Infinity, multiplier: 1e300, minTimeout: 1, maxAttempts: 4, jitter: 0 });
      } catch (e) {
        return e;
      }
    }, virtual);
    assert.equal(calls, 4);
    assert.equal((e as Error).name, "RetryError");
  });
});

describe("faults (trust ends): abortable()'s bad input", () => {
  it("names the bad value as the other checks do", () => {
    assert.throws(() => abortable(null as never), (e: unknown) => e instanceof TypeError && /got null$/.test((e as Error).message));
    assert.throws(() => abortable(42 as never), (e: unknown) => e instanceof TypeError && /got number 42$/.test((e as Error).message));
    assert.throws(() => abortable({} as never), (e: unknown) => e instanceof TypeError && /got Object object$/.test((e as Error).message));
  });
});

describe("faults (trust ends): a put nobody waits on", () => {
  it("a put() nobody awaits, on a full queue, enters its item when room comes: a later get() gets it", async () => {
    const got = await run(async () => {
      const q = new Queue<number>({ maxsize: 1 });
      q.putNowait(1);
      void q.put(2); // fire and forget
      const a = await q.get();
      const b = await within("the second get()", q.get());
      return [a, b, q.qsize(), q.full()];
    }, virtual);
    assert.deepEqual(got, [1, 2, 0, false]);
  });
});

/**
 * Drops what an entry returned: a loopwork future unread (the library must not let its failure
 * escape as an unhandled rejection), a native promise (loopwork/std's) with a handler, since
 * an unhandled rejection of a promise the caller dropped is the caller's.
 */
function dropped(out: unknown): void {
  if (out instanceof Promise) out.catch(() => {});
}


describe("faults (trust ends): no rejection escapes the library", () => {
  it("hostile signals, reasons, thenables and callbacks across std, structured and sync", async () => {
    const escaped = await unhandledDuring(async () => {
      await run(async () => {
        getRunningLoop().setExceptionHandler(() => {}); // dropped futures are reported there, not as rejections
        // Every entry, with every lookalike and with hostile reasons, its outcome dropped.
        for (const [, entry] of ENTRIES) {
          for (const [, signal] of lookalikes()) await outcomeOf(entry, signal);
        }
        for (const [, entry] of WAITING_ENTRIES) {
          const ac = new AbortController();
          ac.abort(hostileValue());
          try {
            dropped(entry(ac.signal));
          } catch {
            // a refusal at the call is handled here
          }
          const late = new AbortController();
          try {
            dropped(entry(late.signal));
          } catch {
            // as above
          }
          late.abort(hostileValue());
        }
        // Thenables whose `then` throws, futures failed and dropped.
        const badThen = { get then(): never { throw new Boom("then"); } };
        void deadline(badThen as never, 10);
        void abortable(badThen as never, new AbortController().signal);
        void std.deadline(Promise.reject(new Boom("dropped")), 10).catch(() => {});
        // Callbacks that throw hostile values.
        void retry(() => {
          throw hostileValue();
        }, { maxAttempts: 2, minTimeout: 1 });
        void retry(() => Promise.reject(hostileValue()), { maxAttempts: 2, minTimeout: 1, isRetriable: () => { throw new Boom("isRetriable"); } });
        for await (const _ of pooledMapSettled([1, 2, 3], () => { throw hostileValue(); }, { poolLimit: 2 })) { /* drained */ }
        try {
          for await (const _ of pooledMap([1, 2, 3], async () => { throw hostileValue(); }, { poolLimit: 2 })) { /* nothing */ }
        } catch { /* the AggregateError */ }
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(1);
          });
        });
        try {
          await taskGroup(async (tg) => {
            tg.spawn(async () => {
              throw hostileValue();
            });
            tg.spawn(async (signal) => {
              await delay(10_000, { signal });
            });
          });
        } catch { /* the TaskGroupError */ }
        try {
          await timeout(5, async (scope) => {
            await delay(1_000, { signal: scope.signal });
          });
        } catch { /* the TimeoutError */ }
        // Sync primitives: waits withdrawn by hostile aborts, dropped unread.
        const q = new Queue<number>({ maxsize: 1 });
        q.putNowait(0);
        const qa = new AbortController();
        void q.put(1, { signal: qa.signal });
        void new Queue().get({ signal: qa.signal });
        void new Semaphore(0).acquire({ signal: qa.signal });
        void new Event().wait({ signal: qa.signal });
        void new Barrier(3).wait({ signal: qa.signal });
        await sleep(1);
        qa.abort(hostileValue());
        await sleep(50);
        await until(Promise.resolve());
      }, virtual);
    });
    assert.equal(escaped.length, 0, `${escaped.length} rejection(s) escaped the library`);
  });
});

describe("faults (trust ends): a Proxy whose traps throw, as an awaitable", () => {
  const ENTRIES_AW: [string, (x: unknown) => unknown][] = [
    ["until()", (x) => until(x as never)],
    ["gather()", (x) => gather(x as never)],
    ["gather([x])", (x) => gather([x] as never)],
    ["wait([x])", (x) => wait([x] as never)],
    ["waitFor()", (x) => waitFor(x as never, 1_000)],
    ["shield()", (x) => shield(x as never)],
    ["asCompleted([x])", (x) => asCompleted([x] as never)],
  ];
  for (const [what, entry] of ENTRIES_AW) {
    it(`${what}: it is refused with our TypeError or fails as \`await\` would, never throwing a trap's error at the call`, async () => {
      await run(async () => {
        const o = await within(what, outcomeOf(entry, hostileValue()));
        const e = (o as { error?: unknown }).error;
        // It fails (or, for wait(), reports it done): what matters is that no trap's error is thrown at the call.
        if (o.kind === "threw") assert.ok(e instanceof TypeError, `${what}: a throw at the call is our TypeError, got ${String((e as Error)?.message)}`);
      }, virtual);
    });
  }
});
