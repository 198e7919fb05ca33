/**
 * Fault tests from an outside campaign: a hostile user and a hostile environment. Values
 * that one kind of worker can take and another cannot (shared memory, host objects such as
 * `Blob` or `MessagePort` on a child process's channel), results that a runtime's channel
 * changes on the way (`undefined` on Deno), `transfer()` misused. Each must fail its own call
 * with a clear error naming the culprit, or arrive as it was sent: never kill the host or the
 * worker, never settle as something else.
 */
import assert from "node:assert/strict";
import { BlockList } from "node:net";
import { serialize } from "node:v8";
import { run, sleep, spawn, transfer, until, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { catching, rejection } from "../expect.ts";
import { describe, it, runtime } from "../harness.ts";

type Campaign = typeof import("../fixtures/campaign-tasks.ts");
const CAMPAIGN = new URL("../fixtures/campaign-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 120_000;

/**
 * Does this runtime's serialiser (a child process's channel) refuse a host object such as a
 * BlockList? Node 20 does; Node 24 and Deno write it as `{}`.
 */
const REFUSES_HOST_OBJECTS = (() => {
  try {
    serialize(new BlockList());
    return false;
  } catch {
    return true;
  }
})();

type Flavour = "inline" | "thread" | "process" | "tinypool threads";
const FLAVOURS: Flavour[] = runtime === "node" ? ["inline", "thread", "process", "tinypool threads"] : ["inline", "thread", "process"];

function pool(flavour: Flavour, options: WorkerPoolOptions = {}): WorkerPool<Campaign> {
  const kind = flavour === "tinypool threads" ? "thread" : flavour;
  return new WorkerPool<Campaign>(CAMPAIGN, {
    kind,
    maxWorkers: 1,
    ...(flavour === "tinypool threads" ? { backend: "tinypool" } : {}),
    ...options,
  });
}

describe("faults (campaign): what a child process cannot receive", () => {
  it("process: an argument holding shared memory or a host object fails its call, naming it; the host and the worker live on", async () => {
    const p = pool("process");
    try {
      const who = await p.run("whoAmI");
      const { port1, port2 } = new MessageChannel();
      try {
        const cases: [unknown[], RegExp][] = [
          [[1, new SharedArrayBuffer(8)], /argument 1 \(SharedArrayBuffer/],
          [[{ rows: [{ shared: new SharedArrayBuffer(8) }] }], /argument 0 \(Object/],
          [[0, 1, { file: new Blob(["x"]) }], /argument 2 \(Object/],
          [[port1], /argument 0 \(MessagePort/],
        ];
        // A host object no walk knows, where the serialiser refuses it.
        if (REFUSES_HOST_OBJECTS) cases.push([[7, [new BlockList()]], /argument 1 \(Array/]);
        for (const [args, names] of cases) {
          const e = await rejection(p.run("typeOf", ...args));
          assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
          assert.match(e.message, names);
          assert.match(e.message, /cannot be sent to a worker/);
        }
      } finally {
        port1.close();
        port2.close();
      }
      assert.deepEqual(await p.run("typeOf", 1, { a: [2] }), ["number", "object"], "plain objects still cross");
      const view = new Int32Array(new SharedArrayBuffer(8));
      assert.deepEqual(await p.run("typeOf", view), ["object"], "a typed array on shared memory crosses as a copy (as before)");
      assert.equal(await p.run("whoAmI"), who, "the same worker answers");
    } finally {
      await p.destroy();
    }
  }, HANG_GUARD_MS);

  it("process: a result holding shared memory or a host object fails its call with a TypeError naming the task, not a crash; the worker is reused", async () => {
    const p = pool("process");
    try {
      const who = await p.run("whoAmI");
      for (const kind of ["sab", "nestedSab", "blob", ...(REFUSES_HOST_OBJECTS ? ["blockList"] : [])]) {
        const e = await rejection(p.run("giveBack", kind));
        assert.ok(!(e instanceof WorkerCrashedError), `${kind}: not a crash: ${e.message}`);
        assert.ok(e instanceof TypeError, `${kind}: ${e.name}: ${e.message}`);
        assert.match(e.message, /the result of task "giveBack" cannot be sent back/);
      }
      assert.equal(await p.run("whoAmI"), who, "the same worker answers");
    } finally {
      await p.destroy();
    }
  }, HANG_GUARD_MS);
});

describe("faults (campaign): results arrive as they were returned", () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: a task that returns undefined resolves to undefined (not null), alone and inside values`, async () => {
      const p = pool(flavour);
      try {
        assert.equal(await p.run("giveBack", "undefined"), undefined);
        assert.equal(await p.run("echo", undefined), undefined);
        assert.deepEqual(await p.run("echo", [undefined, null]), [undefined, null]);
        assert.equal(await p.run("echo", null), null);
      } finally {
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }
});

describe("faults (campaign): arguments that cannot cross fail their call, naming them", () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: a MessagePort not moved with transfer() fails its call naming the argument; moved (threads), it crosses`, async () => {
      const p = pool(flavour);
      const { port1, port2 } = new MessageChannel();
      try {
        const e = await rejection(p.run("typeOf", 0, port1));
        assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
        assert.match(e.message, /argument 1 \(MessagePort/);
        assert.match(e.message, /cannot be sent to a worker/);
        assert.deepEqual(await p.run("typeOf", 1, "x"), ["number", "string"], "the pool still works");
        if (flavour === "thread" || flavour === "tinypool threads") {
          const moved = new MessageChannel();
          assert.deepEqual(await p.run("typeOf", 0, transfer(moved.port1)), ["number", "object"], "moved, it crosses");
          moved.port2.close();
        }
      } finally {
        port1.close();
        port2.close();
        await p.destroy();
      }
    }, HANG_GUARD_MS);

    it(`${flavour}: transfer() of a detached buffer fails its call as a copy of it does, naming the argument`, async () => {
      const p = pool(flavour);
      try {
        const gone = new ArrayBuffer(8);
        structuredClone(gone, { transfer: [gone] });
        for (const arg of [gone, transfer(gone)]) {
          const e = await rejection(p.run("lengths", new ArrayBuffer(2), arg));
          assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
          assert.match(e.message, /argument 1 \(ArrayBuffer/);
          assert.match(e.message, /detached/);
        }
        const b = new ArrayBuffer(8);
        assert.deepEqual(await p.run("lengths", transfer(b), transfer(b)), [8, 8], "the same buffer moved twice crosses once");
      } finally {
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }
});

describe("faults (campaign): thenables as the promise rules treat them", () => {
  const thenable = (body: (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void): PromiseLike<unknown> => ({
    then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
      body(resolve, reject);
      return undefined as never;
    },
  }) as PromiseLike<unknown>;
  const throwingThen = (): PromiseLike<unknown> =>
    ({
      get then(): never {
        throw new Error("the then getter threw");
      },
    }) as unknown as PromiseLike<unknown>;

  it("until(): a then() that throws after it resolved keeps the result; one that throws first fails the future, as a promise would", async () => {
    const out = await run(function* () {
      const late = yield* until(thenable((resolve) => {
        resolve(1);
        throw new Error("thrown after resolving");
      }));
      const f = until(thenable(() => {
        throw new Error("thrown before settling");
      }));
      const early = yield* catching(f);
      return [late, (early as Error).message];
    }, { clock: "virtual" });
    assert.deepEqual(out, [1, "thrown before settling"]);
    assert.deepEqual(
      await Promise.allSettled([Promise.resolve(thenable((resolve) => {
        resolve(1);
        throw new Error("x");
      }))]),
      [{ status: "fulfilled", value: 1 }],
      "the promise rules",
    );
  });

  it("until(): a `then` getter that throws fails the future with that error, as Promise.resolve does", async () => {
    const e = await run(function* () {
      return yield* catching(until(throwingThen()));
    }, { clock: "virtual" });
    assert.equal((e as Error).message, "the then getter threw");
  });

  it("a task function returning an object whose `then` getter throws fails its task with that error; nothing escapes, run() ends; a then() that throws once settled is ignored", async () => {
    const printed: string[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => void printed.push(a.map(String).join(" "));
    try {
      const [e, late] = await run(function* () {
        const t = spawn(() => throwingThen() as unknown as Promise<unknown>);
        const settled = spawn(() => thenable((resolve) => {
          resolve(5);
          throw new Error("thrown after resolving");
        }) as Promise<unknown>);
        return [yield* catching(t), yield* settled];
      }, { clock: "virtual" });
      assert.equal((e as Error).message, "the then getter threw");
      assert.equal(late, 5, "a then() that throws after resolving keeps the task's result");
    } finally {
      console.error = original;
    }
    assert.deepEqual(printed.filter((l) => /escaped/.test(l)), [], "no exception escaped a loop step");
  }, 30_000);
});

describe("faults (campaign): a task that will not end when run() ends", () => {
  it("a generator task that swallows its CancelledError and waits again: run() waits (as asyncio) and its warning names the task and says what a generator must do", async () => {
    const warned: string[] = [];
    const original = console.warn;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    console.warn = (...a: unknown[]) => {
      warned.push(a.map(String).join(" "));
      release(); // the warning came: let the stubborn task go
    };
    // The warning's timer does not hold the process (Deno would end the test before it fires).
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      const out = await run(function* () {
        spawn(function* () {
          for (let caught = 0;; caught++) {
            try {
              yield* until(gate);
              return caught;
            } catch {
              // swallowed: it waits again
            }
          }
        }, { name: "stubborn" });
        yield* sleep(1);
        return "main done";
      });
      assert.equal(out, "main done");
    } finally {
      clearInterval(keepAlive);
      console.warn = original;
    }
    assert.equal(warned.length, 1, warned.join("\n"));
    assert.match(warned[0]!, /waiting for 1 cancelled task\(s\).*: stubborn\./);
    assert.match(warned[0]!, /A generator task that catches CancelledError must end \(or rethrow it\).*\(stubborn\)/);
    assert.doesNotMatch(warned[0]!, /AbortSignal/, "no advice meant for async tasks");
  }, 30_000);
});
