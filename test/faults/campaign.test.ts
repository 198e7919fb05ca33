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
import { transfer, WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { rejection } from "../expect.ts";
import { describe, it, runtime } from "../harness.ts";

type Campaign = typeof import("../fixtures/campaign-tasks.ts");
const CAMPAIGN = new URL("../fixtures/campaign-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 120_000;

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
        // A host object no walk knows (Node's serialiser refuses it; Deno's writes `{}`).
        if (runtime === "node") cases.push([[7, [new BlockList()]], /argument 1 \(Array/]);
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
      for (const kind of ["sab", "nestedSab", "blob", ...(runtime === "node" ? ["blockList"] : [])]) {
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
