/**
 * Fault tests from a hostile campaign on src/std (tee, merge, pooledMap, retry, deadline,
 * abortable, delay), src/structured (combinators, group, timeout) and src/sync (queues,
 * condition, barrier, event): iterators whose next() misbehaves, thenables whose `then`
 * throws, sources closed before they start, 100k-item inputs, re-entrant callbacks. Each case
 * must end (a generous real-time guard, never a speed check), lose no value, leave no
 * listener behind and let no rejection escape.
 */
import assert from "node:assert/strict";
import process from "node:process";
import {
  abortable,
  type Coroutine,
  deadline,
  type ExceptionContext,
  getRunningLoop,
  merge,
  MuxAsyncIterator,
  pooledMap,
  retry,
  run,
  sleep,
  spawn,
  taskGroup,
  TaskGroupError,
  tee,
  until,
} from "../../mod.ts";
import { countedSignal, HANG_GUARD_MS, within } from "../expect.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/**
 * A hang guard for a loop that runs on microtasks alone, where no timer (so `within`'s
 * neither) can fire: call it with the count of items done; every 1000 items it throws once
 * HANG_GUARD_MS of real time have passed. Never a speed check: quadratic costs take minutes.
 */
function hangGuard(what: string): (n: number) => void {
  const start = performance.now();
  return (n) => {
    if (n % 1000 === 0 && performance.now() - start > HANG_GUARD_MS) {
      throw new Error(`${what}: only ${n} items after ${HANG_GUARD_MS} ms of real time`);
    }
  };
}

/** Runs `body` with a process-level trap: no rejection may escape the library. */
async function noEscape<T>(body: () => Promise<T>): Promise<T> {
  const escaped: unknown[] = [];
  const trap = (e: unknown) => escaped.push(e);
  process.on("unhandledRejection", trap);
  try {
    const value = await within("the case", body());
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(escaped, [], "no rejection escapes the library");
    return value;
  } finally {
    process.off("unhandledRejection", trap);
  }
}

/** Runs `main` on a virtual-clock loop; resolves to its result and what the loop's exception handler got. */
function onLoop<T>(main: () => Coroutine<T> | Promise<T>): Promise<{ value: T; reported: ExceptionContext[] }> {
  return noEscape(async () => {
    const reported: ExceptionContext[] = [];
    const value = await run(function* (): Coroutine<T> {
      getRunningLoop().setExceptionHandler((ctx) => reported.push(ctx));
      const out = main();
      return yield* (Symbol.iterator in out ? out : until(out));
    }, virtual);
    return { value, reported };
  });
}


/** An async iterable over hand-written `next`/`return`, counting its closes. */
function handIterable<T>(next: () => unknown): { iterable: AsyncIterable<T>; closes: () => number } {
  let closes = 0;
  const iterable = {
    [Symbol.asyncIterator]: () => ({
      next,
      return: () => {
        closes++;
        return Promise.resolve({ done: true, value: undefined });
      },
    }),
  } as unknown as AsyncIterable<T>;
  return { iterable, closes: () => closes };
}

describe("faults (std campaign): tee", () => {
  it("a branch closed with return() before its first next() has left: the source is closed once the others leave", async () => {
    const value = await noEscape(async () => {
      const { iterable, closes } = handIterable<number>(() => Promise.resolve({ done: false, value: 1 }));
      const [a, b] = tee(iterable);
      await b.return();
      for await (const _ of a) break;
      return closes();
    });
    assert.equal(value, 1, "the source was closed once");
  });

  it("a branch thrown into before its first next() has left too", async () => {
    const value = await noEscape(async () => {
      const { iterable, closes } = handIterable<number>(() => Promise.resolve({ done: false, value: 1 }));
      const [a, b] = tee(iterable);
      await assert.rejects(b.throw(new Error("go away")), /go away/);
      for await (const _ of a) break;
      return closes();
    });
    assert.equal(value, 1, "the source was closed once");
  });

  it("a source whose next() gives a non-object fails each branch naming tee() and what it gave", async () => {
    await noEscape(async () => {
      const { iterable } = handIterable<number>(() => Promise.resolve(undefined));
      const [a] = tee(iterable, 1);
      await assert.rejects(
        (async () => {
          for await (const _ of a);
        })(),
        (e: unknown) => e instanceof TypeError && /tee\(\).*next\(\) gave undefined/.test(e.message),
      );
    });
  });
});

describe("faults (std campaign): merge and MuxAsyncIterator", () => {
  it("a value a source gives after an iteration left early is not yielded by a later iteration", async () => {
    const value = await noEscape(async () => {
      let release: (r: IteratorResult<string>) => void = () => {};
      const { iterable: slow } = handIterable<string>(() => new Promise((r) => (release = r)));
      async function* fast() {
        yield "fast";
      }
      const mux = new MuxAsyncIterator<string>(slow, fast());
      for await (const _ of mux) break; // closes both; slow's next() is still pending
      release({ done: false, value: "stale" });
      await new Promise((r) => setTimeout(r, 10));
      async function* later() {
        yield "later";
      }
      mux.add(later());
      const out: string[] = [];
      for await (const x of mux) out.push(x);
      return out;
    });
    assert.deepEqual(value, ["later"]);
  });

  it("merge() of 100 000 sources neither overflows the stack nor takes quadratic time", async () => {
    const N = 100_000;
    const value = await noEscape(async () => {
      async function* one(i: number) {
        yield i;
      }
      const sources = Array.from({ length: N }, (_, i) => one(i));
      let sum = 0;
      let n = 0;
      const guard = hangGuard("merge()");
      for await (const x of merge(...sources)) {
        sum += x;
        n++;
        guard(n);
      }
      return { n, sum };
    });
    assert.deepEqual(value, { n: N, sum: (N * (N - 1)) / 2 });
  }, 60_000);

  it("a source whose next() gives a non-object ends the iteration with a TypeError naming it", async () => {
    await noEscape(async () => {
      const { iterable, closes } = handIterable<number>(() => Promise.resolve(42));
      async function* other() {
        yield 1;
        await new Promise((r) => setTimeout(r, 5));
        yield 2;
      }
      let n = 0;
      await assert.rejects(
        (async () => {
          for await (const _ of merge(iterable, other())) {
            if (++n > 100) throw new Error("values keep coming from a source that gave no iterator result");
          }
        })(),
        (e: unknown) => e instanceof TypeError && /MuxAsyncIterator.*next\(\) gave number 42/.test(e.message),
      );
      assert.equal(closes(), 0, "the failed source is not closed again");
    });
  });
});

describe("faults (std campaign): deadline and abortable", () => {
  const throwingThen = () => ({
    then() {
      throw new Error("then refuses");
    },
  });

  it("deadline() on a thenable whose then() throws rejects with that error and leaves no listener", async () => {
    const { ac, live } = countedSignal();
    await noEscape(async () => {
      await assert.rejects(Promise.resolve(deadline(throwingThen() as PromiseLike<number>, 1e9, { signal: ac.signal })), /then refuses/);
    });
    assert.equal(live(), 0, "no abort listener left on the signal");
  });

  it("deadline() on a thenable whose then getter throws rejects with that error", async () => {
    const { ac, live } = countedSignal();
    await noEscape(async () => {
      const p = Object.defineProperty({}, "then", {
        get() {
          throw new Error("no then for you");
        },
      });
      await assert.rejects(Promise.resolve(deadline(p as PromiseLike<number>, 1e9, { signal: ac.signal })), /no then for you/);
    });
    assert.equal(live(), 0);
  });

  it("abortable() on a thenable whose then() throws rejects with that error and leaves no listener", async () => {
    const { ac, live } = countedSignal();
    await noEscape(async () => {
      await assert.rejects(Promise.resolve(abortable(throwingThen() as PromiseLike<number>, ac.signal)), /then refuses/);
    });
    assert.equal(live(), 0);
  });

  it("abortable() reads an async iterator whose next() returns plain results, as for await does", async () => {
    const { ac, live } = countedSignal();
    const value = await noEscape(async () => {
      let i = 0;
      const { iterable } = handIterable<number>(() => (i < 3 ? { done: false, value: i++ } : { done: true, value: undefined }));
      const out: number[] = [];
      for await (const x of abortable(iterable, ac.signal)) out.push(x);
      return out;
    });
    assert.deepEqual(value, [0, 1, 2]);
    assert.equal(live(), 0);
  });

  it("abortable() on an iterator whose next() throws synchronously fails with it and leaves no listener", async () => {
    const { ac, live } = countedSignal();
    await noEscape(async () => {
      const { iterable } = handIterable<number>(() => {
        throw new Error("next refuses");
      });
      await assert.rejects(
        (async () => {
          for await (const _ of abortable(iterable, ac.signal));
        })(),
        /next refuses/,
      );
    });
    assert.equal(live(), 0);
  });

  it("abortable() on an iterator whose next() gives a non-object fails naming abortable()", async () => {
    const { ac, live } = countedSignal();
    await noEscape(async () => {
      const { iterable } = handIterable<number>(() => Promise.resolve(null));
      await assert.rejects(
        (async () => {
          for await (const _ of abortable(iterable, ac.signal));
        })(),
        (e: unknown) => e instanceof TypeError && /abortable\(\).*next\(\) gave null/.test(e.message),
      );
    });
    assert.equal(live(), 0);
  });
});

describe("faults (std campaign): pooledMap", () => {
  const N = 200_000;

  it(`pooledMap() over ${N} items (eager, outside a loop) yields each once, in order, without quadratic cost`, async () => {
    const value = await noEscape(async () => {
      const items = Array.from({ length: N }, (_, i) => i);
      let n = 0;
      let inOrder = true;
      const guard = hangGuard("pooledMap()");
      for await (const x of pooledMap(items, async (x) => x, { poolLimit: 4 })) {
        if (x !== n) inOrder = false;
        n++;
        guard(n);
      }
      return { n, inOrder };
    });
    assert.deepEqual(value, { n: N, inOrder: true });
  }, 60_000);

  it("a source whose next() gives a non-object fails naming pooledMap() and what it gave (the AggregateError's cause)", async () => {
    await noEscape(async () => {
      const { iterable, closes } = handIterable<number>(() => Promise.resolve("nope"));
      let calls = 0;
      const fn = async (x: number) => {
        if (++calls > 100) throw new Error("calls keep coming from a source that gave no iterator result");
        return x;
      };
      await assert.rejects(
        (async () => {
          for await (const _ of pooledMap(iterable, fn, 2));
        })(),
        (e: unknown) =>
          e instanceof AggregateError && e.errors.length === 0 && e.cause instanceof TypeError &&
          /pooledMap\(\).*next\(\) gave string "nope"/.test(e.cause.message),
      );
      assert.equal(closes(), 0);
    });
  });

  it("a source that throws, with no call failing, is named: the AggregateError's cause is the source's error", async () => {
    await noEscape(async () => {
      async function* source() {
        yield 1;
        throw new Error("the source broke");
      }
      const out: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const x of pooledMap(source(), async (x) => x, 2)) out.push(x);
        })(),
        (e: unknown) => e instanceof AggregateError && e.errors.length === 0 && (e.cause as Error)?.message === "the source broke",
      );
      assert.deepEqual(out, [1]);
    });
  });
});

describe("faults (std campaign): errors that are not well-behaved Error objects", () => {
  /** An Error whose `message` getter throws. */
  class Unreadable extends Error {
    override get message(): string {
      throw new Error("message getter refuses");
    }
  }
  /** A thrown value that refuses every inspection, `instanceof` included. */
  const hostile = (): object =>
    new Proxy({}, {
      get() {
        throw new Error("proxy get refuses");
      },
      getPrototypeOf() {
        throw new Error("proxy getPrototypeOf refuses");
      },
    });

  it("a task that throws a Proxy whose getPrototypeOf throws fails with it: whoever waits gets it, run() ends", async () => {
    const thrown = hostile();
    const { value, reported } = await onLoop(function* () {
      const t = spawn(function* () {
        yield* sleep(1);
        throw thrown;
      });
      try {
        yield* t;
        return "no error";
      } catch (e) {
        return e === thrown ? "the proxy" : "something else";
      }
    });
    assert.equal(value, "the proxy");
    assert.deepEqual(reported, []);
  }, 30_000);

  for (const [label, make] of [["a Proxy whose getPrototypeOf throws", hostile], ["an Error whose message getter throws", () => new Unreadable()]] as const) {
    it(`a task group whose child throws ${label} ends with a TaskGroupError holding it`, async () => {
      const thrown = make();
      const { value } = await onLoop(function* () {
        try {
          yield* taskGroup(function* (tg) {
            tg.spawn(function* () {
              yield* sleep(1);
              throw thrown;
            });
            tg.spawn(function* () {
              yield* sleep(1_000);
            });
          });
          return "no error";
        } catch (e) {
          return e instanceof TaskGroupError && e.errors.length === 1 && e.errors[0] === thrown ? "TaskGroupError" : "something else";
        }
      });
      assert.equal(value, "TaskGroupError");
    }, 30_000);
  }

  it("a task group cancelled through a signal whose reason's message getter throws is cancelled", async () => {
    const { value } = await onLoop(function* () {
      const ac = new AbortController();
      const g = taskGroup(function* (tg) {
        tg.spawn(function* () {
          yield* sleep(1_000);
        });
      }, { signal: ac.signal });
      yield* sleep(1);
      ac.abort(new Unreadable());
      yield* sleep(1);
      return g.cancelled();
    });
    assert.equal(value, true);
  }, 30_000);
});

describe("faults (std campaign): retry's options", () => {
  it("a minTimeout of Infinity is refused (it waited for ever before the second attempt)", () => {
    assert.throws(
      () => retry(() => 1, { minTimeout: Infinity, maxTimeout: Infinity }),
      (e: unknown) => e instanceof RangeError && /'minTimeout' must be finite/.test(e.message),
    );
  });

  for (const [name, value] of [["minTimeout", "5"], ["maxTimeout", "100"], ["jitter", "0.5"], ["minTimeout", null]] as const) {
    it(`${name}: ${JSON.stringify(value)} (not a number) is refused, not coerced`, () => {
      assert.throws(
        () => retry(() => 1, { [name]: value } as never),
        (e: unknown) => e instanceof RangeError && new RegExp(`'${name}' must`).test(e.message),
      );
    });
  }
});
