import assert from "node:assert/strict";
import { getRunningLoop, merge, MuxAsyncIterator, pooledMap, run, sleep, tee } from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

async function* ticks<T>(values: T[], ms: number): AsyncGenerator<T> {
  for (const v of values) {
    await sleep(ms);
    yield v;
  }
}

describe("pooledMap", () => {
  it("runs at most poolLimit calls at once and yields in input order", async () => {
    let running = 0;
    let peak = 0;
    const out: number[] = [];
    let elapsed = 0;
    await run(async () => {
      const loop = getRunningLoop();
      for await (const r of pooledMap(2, [30, 10, 20, 10], async (ms) => {
        peak = Math.max(peak, ++running);
        await sleep(ms);
        running--;
        return ms;
      })) out.push(r);
      elapsed = loop.time();
    }, virtual);
    assert.deepEqual(out, [30, 10, 20, 10]);
    assert.equal(peak, 2);
    assert.equal(elapsed, 40, "10 and 20 ran in the second slot while 30 ran in the first");
  });

  it("takes async iterables and generator functions inside a loop", async () => {
    const out: string[] = [];
    await run(async () => {
      for await (const r of pooledMap(3, ticks(["a", "b", "c"], 5), function* (s) {
        yield* sleep(1);
        return s.toUpperCase();
      })) out.push(r);
    }, virtual);
    assert.deepEqual(out, ["A", "B", "C"]);
  });

  it("a failure stops new calls; successes are yielded, then an AggregateError of every failure", async () => {
    const started: number[] = [];
    const out: number[] = [];
    await run(async () => {
      await assert.rejects(async () => {
        for await (const r of pooledMap(2, [1, 2, 3, 4, 5], async (n) => {
          started.push(n);
          await sleep(n);
          if (n === 2) throw new Error("two");
          return n;
        })) out.push(r);
      }, (e: unknown) => e instanceof AggregateError && e.errors.length === 1 && (e.errors[0] as Error).message === "two");
    }, virtual);
    assert.deepEqual(out, [1, 3]);
    assert.deepEqual(started, [1, 2, 3]);
  });

  it("leaving the loop early aborts the running calls' signals", async () => {
    const aborted: number[] = [];
    await run(async () => {
      for await (const r of pooledMap(3, [1, 2, 3, 4], async (n, signal) => {
        let finished = false;
        signal.addEventListener("abort", () => {
          if (!finished) aborted.push(n);
        });
        await sleep(n * 10);
        finished = true;
        return n;
      })) {
        if (r === 1) break;
      }
      await sleep(100);
    }, virtual);
    assert.deepEqual(aborted.sort(), [2, 3], "the two calls still running were aborted; 4 never started");
  });

  it("bad poolLimit is refused", () => {
    assert.throws(() => pooledMap(0, [], async () => 1), (e: Error) => e instanceof RangeError && /'poolLimit' must be a positive integer/.test(e.message));
    assert.throws(() => pooledMap(1.5, [], async () => 1), RangeError);
    assert.throws(() => pooledMap(1, 5 as never, async () => 1), TypeError);
  });
});

describe("merge", () => {
  it("yields values in arrival order across sources, until all are done", async () => {
    const seen: string[] = [];
    await run(async () => {
      for await (const v of merge(ticks(["a0", "a1", "a2"], 100), ticks(["b0", "b1"], 160))) seen.push(v);
    }, virtual);
    // a at 100, 200, 300; b at 160, 320
    assert.deepEqual(seen, ["a0", "b0", "a1", "a2", "b1"]);
  });

  it("the first source error ends the iteration and closes the other sources", async () => {
    let otherClosed = false;
    async function* failing() {
      await sleep(10);
      throw new Error("source failed");
    }
    async function* endless() {
      try {
        for (let i = 0; ; i++) {
          await sleep(3);
          yield i;
        }
      } finally {
        otherClosed = true;
      }
    }
    await run(async () => {
      await assert.rejects(async () => {
        for await (const _ of merge<number>(failing(), endless())) {
          // drain
        }
      }, /source failed/);
      await sleep(10);
    }, virtual);
    assert.equal(otherClosed, true);
  });

  it("MuxAsyncIterator takes sources added with add()", async () => {
    const seen: number[] = [];
    await run(async () => {
      const mux = new MuxAsyncIterator<number>();
      mux.add(ticks([1, 2], 1));
      mux.add(ticks([3], 1));
      for await (const v of mux) seen.push(v);
      assert.throws(() => mux.add(5 as never), TypeError);
    }, virtual);
    assert.deepEqual(seen.sort(), [1, 2, 3]);
  });
});

describe("tee", () => {
  it("every branch sees every value, the source is read once", async () => {
    let pulls = 0;
    async function* source() {
      for (let i = 0; i < 3; i++) {
        pulls++;
        yield i;
      }
    }
    const [a, b, c] = tee(source(), 3);
    const read = async (it: AsyncIterable<number>) => {
      const out: number[] = [];
      for await (const x of it) out.push(x);
      return out;
    };
    const results = await Promise.all([read(a), read(b), read(c)]);
    assert.deepEqual(results, [[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    assert.equal(pulls, 3);
  });

  it("a source error reaches each branch where it happened", async () => {
    async function* source() {
      yield 1;
      throw new Error("broke");
    }
    const [a, b] = tee(source());
    for (const branch of [a, b]) {
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const x of branch) seen.push(x);
      }, /broke/);
      assert.deepEqual(seen, [1]);
    }
  });

  it("bad n is refused", () => {
    async function* s() {}
    assert.throws(() => tee(s(), 0), RangeError);
    assert.throws(() => tee(5 as never), TypeError);
  });
});
