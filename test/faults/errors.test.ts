/**
 * Fault tests: what a task throws or returns, however hostile, never kills a worker or the
 * host, and the caller gets a sensible Error; a done callback that throws outside `run()`
 * is reported, not an uncaught exception; a worker is never reported dead when it is not
 * (values nested too deeply, a message shaped like the runtime's exit notice).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Future, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { deserializeError, MAX_DEPTH, serializeError } from "../../src/pool/protocol.ts";
import { redisAvailable, redisRequired, startRedis, startWorker } from "../cluster-helpers.ts";
import { rejection } from "../expect.ts";
import { describe, it, skip } from "../harness.ts";

type Hostile = typeof import("../fixtures/hostile-tasks.ts");
const HOSTILE = new URL("../fixtures/hostile-tasks.ts", import.meta.url);

function pool(options: WorkerPoolOptions = {}): WorkerPool<Hostile> {
  return new WorkerPool<Hostile>(HOSTILE, { maxWorkers: 1, ...options });
}

/** Names that reach a member of Object.prototype when looked up on a plain object. */
const PROTOTYPE_NAMES = ["toString", "__proto__", "valueOf", "hasOwnProperty", "constructor", "isPrototypeOf"];

function nested(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Runs `body` with console.error captured; returns what was printed. */
async function capturingStderr(body: () => Promise<void>): Promise<string[]> {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    printed.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" "));
  };
  try {
    await body();
  } finally {
    console.error = original;
  }
  return printed;
}

/** Lets host microtasks and one macrotask run. */
function aTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

describe("faults: the error (de)serialiser", () => {
  for (const name of PROTOTYPE_NAMES) {
    it(`a name such as ${JSON.stringify(name)} is rebuilt as an Error keeping that name as data`, () => {
      const e = deserializeError({ name, message: "m", code: "E_X" });
      assert.equal(Object.getPrototypeOf(e), Error.prototype);
      assert.equal(e.name, name);
      assert.equal(e.message, "m");
      assert.equal((e as Error & { code?: unknown }).code, "E_X");
    });
  }

  it("the standard names still give their classes", () => {
    assert.ok(deserializeError({ name: "TypeError", message: "t" }) instanceof TypeError);
    assert.ok(deserializeError({ name: "RangeError", message: "r" }) instanceof RangeError);
    const e = deserializeError({ name: "Error", message: "outer", cause: { name: "URIError", message: "inner" } });
    assert.ok(e.cause instanceof URIError);
  });

  it("data of any shape gives an Error and never throws (wrong types, no object, a cause cycle)", () => {
    const cyclic: Record<string, unknown> = { name: "A", message: "a" };
    cyclic.cause = { name: "B", message: "b", cause: cyclic };
    for (const s of [null, undefined, 42, "text", [], { name: 7, message: { x: 1 }, stack: 3, code: {} }, cyclic]) {
      const e = deserializeError(s);
      assert.ok(e instanceof Error);
      assert.equal(typeof e.name, "string");
      assert.equal(typeof e.message, "string");
    }
    let depth = 0;
    for (let e: unknown = deserializeError(cyclic); e instanceof Error; e = e.cause) depth++;
    assert.ok(depth <= 5, `a cause cycle is cut (${depth} levels)`);
  });

  it("a thrown value of any shape serialises to plain strings and never throws", () => {
    const getter = (field: string) => {
      const e = new Error("g");
      Object.defineProperty(e, field, {
        get() {
          throw new Error(`${field} getter`);
        },
      });
      return e;
    };
    const proxy = new Proxy(new Error("p"), {
      get() {
        throw new Error("trap");
      },
      has() {
        throw new Error("trap");
      },
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    const a = new Error("a") as Error & { cause?: unknown };
    a.cause = new Error("b", { cause: a });
    const odd = new Error("odd");
    Object.defineProperty(odd, "name", { value: Symbol("n") });
    const values: unknown[] = [
      getter("name"),
      getter("message"),
      getter("stack"),
      getter("code"),
      getter("cause"),
      proxy,
      a,
      odd,
      Symbol("s"),
      Object.create(null),
      { toString: () => { throw new Error("no"); } },
      { message: Symbol("m") },
    ];
    for (const v of values) {
      const s = serializeError(v);
      assert.equal(typeof s.name, "string");
      assert.equal(typeof s.message, "string");
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s, "only plain data");
      assert.ok(deserializeError(s) instanceof Error);
    }
    assert.match(serializeError(getter("message")).message, /could not be read.*message getter/);
  });
});

const KINDS = ["inline", "thread", "process"] as const;

describe("faults: hostile errors and results from a task", () => {
  for (const kind of KINDS) {
    it(`${kind}: an error named after an Object.prototype member rejects the call with that name; the worker lives on`, async () => {
      const p = pool({ kind });
      try {
        const who = await p.run("whoAmI");
        for (const name of PROTOTYPE_NAMES) {
          const e = await rejection(p.run("throwNamed", name, "poison"));
          assert.equal(Object.getPrototypeOf(e), Error.prototype, `${name}: a plain Error`);
          assert.equal(e.name, name);
          assert.equal(e.message, "poison");
        }
        assert.equal(await p.run("whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 60_000);

    it(`${kind}: throwing getters, Proxies, odd names, cause cycles and symbols reject the call with an Error; the worker lives on`, async () => {
      const p = pool({ kind });
      try {
        const who = await p.run("whoAmI");
        const calls = [
          () => p.run("throwOddName", "number"),
          () => p.run("throwOddName", "object"),
          () => p.run("throwOddName", "symbol"),
          () => p.run("throwGetter", "name"),
          () => p.run("throwGetter", "message"),
          () => p.run("throwGetter", "stack"),
          () => p.run("throwGetter", "code"),
          () => p.run("throwGetter", "cause"),
          () => p.run("throwHostileObject"),
          () => p.run("throwProxy"),
          () => p.run("throwCauseCycle"),
          () => p.run("throwOdd", "symbol"),
          () => p.run("throwOdd", "badString"),
          () => p.run("throwOdd", "nullProto"),
        ];
        for (const call of calls) {
          const e = await rejection(call());
          assert.ok(e instanceof Error, String(e));
          assert.ok(!(e instanceof WorkerCrashedError), `not a crash: ${e.message}`);
          assert.equal(typeof e.name, "string");
          assert.equal(typeof e.message, "string");
        }
        const m = await rejection(p.run("throwGetter", "message"));
        assert.match(m.message, /message could not be read.*the message getter threw/);
        const c = await rejection(p.run("throwCauseCycle"));
        assert.equal(c.message, "a");
        assert.equal((c.cause as Error).message, "b");
        const r = await rejection(p.run("returnErrorWithHostileCause"));
        if (kind !== "inline") assert.match(r.message, /result of task "returnErrorWithHostileCause" cannot be sent back.*cause getter/);
        assert.equal(await p.run("whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 60_000);

    it(`${kind}: a result nested too deeply fails its call clearly; the worker is not reported dead and is reused`, async () => {
      const p = pool({ kind });
      try {
        const who = await p.run("whoAmI");
        for (const depth of [5_000, 100_000]) {
          for (const shape of ["array", "object"] as const) {
            const e = await rejection(p.run("deep", depth, shape));
            assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
            assert.match(e.message, /the result of task "deep" cannot be sent back.*nested too deeply/);
          }
        }
        assert.equal(await p.run("depthOf", await p.run("deep", MAX_DEPTH)), MAX_DEPTH, "MAX_DEPTH levels still cross");
        assert.equal(await p.run("whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 60_000);

    it(`${kind}: an argument nested too deeply fails its call clearly, naming it; the worker is reused`, async () => {
      const p = pool({ kind });
      try {
        const who = await p.run("whoAmI");
        for (const depth of [5_000, 100_000]) {
          const e = await rejection(p.run("depthOf", nested(depth)));
          assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
          assert.match(e.message, /argument 0 .*cannot be sent to a worker.*nested too deeply/);
        }
        assert.equal(await p.run("whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 60_000);

    it(`${kind}: a result shaped like the runtime's own messages is delivered as a value`, async () => {
      const p = pool({ kind });
      try {
        const who = await p.run("whoAmI");
        assert.deepEqual(await p.run("fakeExitNotice", 0), { loopworkWorkerExit: 0, reason: "forged" });
        for (const v of [{ loopworkError: { name: "toString", message: "x" } }, { loopworkValue: 1 }, { ok: false, error: {} }]) {
          assert.deepEqual(await p.run("give", v), v);
        }
        assert.equal(await p.run("whoAmI"), who, "the same worker answers");
      } finally {
        await p.destroy();
      }
    }, 60_000);
  }

  it("thread: a task that posts a look-alike of the exit notice on parentPort is not reported as an exit", async () => {
    const p = pool({ kind: "thread" });
    try {
      const e = await rejection(p.run("postFakeExitNotice"));
      assert.doesNotMatch(e.message, /exited with code/);
      assert.match(e.message, /posted .*on parentPort/);
      assert.equal(await p.run("give", 5), 5, "the pool carries on");
    } finally {
      await p.destroy();
    }
  }, 60_000);
});

describe("faults: a done callback that throws outside run()", () => {
  it("on an unbound future: it is reported with console.error, the other callbacks run, the process lives", async () => {
    const ran: string[] = [];
    const printed = await capturingStderr(async () => {
      const f = new Future<number>();
      f.addDoneCallback(() => {
        ran.push("first");
        throw new Error("callback boom");
      });
      f.addDoneCallback((x) => ran.push(`second ${x.result()}`));
      f.setResult(7);
      await aTurn();
    });
    assert.deepEqual(ran, ["first", "second 7"]);
    assert.equal(printed.length, 1, printed.join("\n"));
    assert.match(printed[0]!, /loopwork: Exception in callback.*callback boom/);
  });

  for (const kind of ["inline", "thread"] as const) {
    it(`${kind}: on a pool call made from plain async code: it is reported, the other callbacks run`, async () => {
      const p = pool({ kind });
      try {
        const ran: string[] = [];
        const printed = await capturingStderr(async () => {
          const call = p.run("give", 3);
          call.addDoneCallback(() => {
            ran.push("first");
            throw new Error("pool callback boom");
          });
          call.addDoneCallback((t) => ran.push(`second ${t.result()}`));
          assert.equal(await call, 3);
          await aTurn();
        });
        assert.deepEqual(ran, ["first", "second 3"]);
        assert.equal(printed.length, 1, printed.join("\n"));
        assert.match(printed[0]!, /loopwork: Exception in callback.*pool callback boom/);
        assert.equal(await p.run("give", 4), 4);
      } finally {
        await p.destroy();
      }
    }, 60_000);
  }
});

if (!redisAvailable && !redisRequired) {
  skip("faults: a poison job on a cluster (redis-server is not installed)");
} else {
  describe("faults: a poison job on a cluster", () => {
    it("a loopwork worker survives a task that throws an error named toString; the caller gets the rejection", async () => {
      const redis = await startRedis();
      const queue = `faults-${process.pid}-${Date.now()}`;
      const worker = await startWorker(redis.url, queue, 1, fileURLToPath(HOSTILE));
      try {
        const p = new WorkerPool<Hostile>(null, { kind: "bullmq", connection: redis.url, queue });
        try {
          for (const name of ["toString", "__proto__", "constructor"]) {
            const e = await rejection(p.run("throwNamed", name, "poison"));
            assert.equal(Object.getPrototypeOf(e), Error.prototype);
            assert.equal(e.name, name);
            assert.equal(e.message, "poison");
          }
          const deep = await rejection(p.run("deep", 100_000));
          assert.match(deep.message, /nested too deeply/);
          assert.equal(await p.run("give", 5), 5, "the same worker serves the next job");
          assert.equal(worker.child.exitCode, null, `the worker is alive:\n${worker.output()}`);
          assert.equal(worker.child.signalCode, null);
        } finally {
          await p.destroy();
        }
      } finally {
        await worker.stop();
        await redis.stop();
      }
    }, 90_000);
  });
}
