/**
 * Fault tests for the worker pool's loose ends: runtime objects (host objects) that a channel
 * would write as `{}`, a task module that never finishes loading, workers refilled after a
 * failed start, `transfer()` of a MessagePort inline, and hostile tasks and values (a task
 * that exports a non-function, a throwing `toJSON`, cyclic values, `process.exit(0)` in a
 * thread, `destroy()` at awkward moments). Each must arrive intact or fail its own call
 * with a clear error naming the culprit: never a value silently changed, a hang or a crash.
 */
import assert from "node:assert/strict";
import { WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { rejection } from "../expect.ts";
import { describe, it, runtime } from "../harness.ts";
import { describeHost, HOST_KINDS, makeHost } from "../fixtures/ends-tasks.ts";

type Ends = typeof import("../fixtures/ends-tasks.ts");
const ENDS = new URL("../fixtures/ends-tasks.ts", import.meta.url);

/** Generous "it did not hang" bound for a test case; never a speed check. */
const HANG_GUARD_MS = 120_000;

type Flavour = "inline" | "thread" | "process" | "tinypool threads";
const FLAVOURS: Flavour[] = runtime === "node" ? ["inline", "thread", "process", "tinypool threads"] : ["inline", "thread", "process"];

function pool(flavour: Flavour, options: WorkerPoolOptions = {}): WorkerPool<Ends> {
  const kind = flavour === "tinypool threads" ? "thread" : flavour;
  return new WorkerPool<Ends>(ENDS, {
    kind,
    maxWorkers: 1,
    ...(flavour === "tinypool threads" ? { backend: "tinypool" } : {}),
    ...options,
  });
}

describe("faults (pool ends): runtime objects arrive intact or fail their call, naming them", () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: each host object as an argument and as a result`, async () => {
      const p = pool(flavour);
      const wrong: string[] = [];
      try {
        for (const kind of HOST_KINDS) {
          const value = await makeHost(kind);
          const expected = describeHost(value);
          // As an argument: the worker sees the same class (and content), or the call fails.
          try {
            const seen = await p.run("receive", value);
            if (seen !== expected) wrong.push(`argument ${kind}: arrived as ${seen}`);
          } catch (e) {
            const m = (e as Error).message;
            // Deno's port reads a Histogram from its own thread only: the worker fails the call.
            const denoUnreadable = runtime === "deno" && kind === "Histogram" && /request could not be read by the worker/.test(m);
            if (!(e instanceof TypeError) || (!denoUnreadable && (!/argument 0 .*cannot be sent to a worker/.test(m) || !m.includes(kind)))) {
              wrong.push(`argument ${kind}: ${(e as Error).name}: ${m}`);
            }
          }
          // As a result, inside other values: the host gets the same, or the call fails naming the path.
          try {
            const got = (await p.run("makeHostInside", kind)) as { rows: [number, { value: unknown }] };
            const seen = describeHost(got.rows[1].value);
            if (seen !== expected) wrong.push(`result ${kind}: arrived as ${seen}`);
          } catch (e) {
            const m = (e as Error).message;
            if (
              !(e instanceof TypeError) || !/the result of task "makeHostInside" cannot be sent back/.test(m) ||
              !m.includes(kind) || !m.includes(".rows[1].value")
            ) {
              wrong.push(`result ${kind}: ${(e as Error).name}: ${m}`);
            }
          }
        }
        assert.deepEqual(wrong, []);
        assert.equal(await p.run("receive", { a: 1 }), "Object", "the worker lives on");
      } finally {
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }
});

/** `p`, or a failure once `ms` passed (a guard against a hang where the runner has no timeout). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

describe("faults (pool ends): a message the port could not read", () => {
  it("thread: after a request or an answer its port could not read, the next calls still run (Deno's port goes deaf)", async () => {
    const p = pool("thread");
    try {
      // Deno's port cannot read a Histogram from another thread: the call fails, clearly.
      for (const call of [() => p.run("makeHost", "Histogram"), async () => p.run("receive", await makeHost("Histogram"))]) {
        try {
          await within(call(), 60_000, "the Histogram call");
        } catch (e) {
          assert.ok(e instanceof TypeError, `${(e as Error).name}: ${(e as Error).message}`);
          assert.match((e as Error).message, /could not be (read|received)/);
        }
        assert.equal(await within(p.run("receive", 1), 60_000, "the next call"), "Number");
      }
    } finally {
      await p.destroy();
    }
  }, HANG_GUARD_MS);
});

describe("faults (pool ends): a task module that never finishes loading", () => {
  const flavours: Flavour[] = ["inline", "thread"];
  for (const flavour of flavours) {
    it(`${flavour}: a call that times out while its module loads says the module had not finished loading`, async () => {
      const kind = flavour === "inline" ? "inline" : "thread";
      // The timeout counts from the call's start, which includes its worker's start: 5 s leaves room for that.
      const p = new WorkerPool<typeof import("../fixtures/never-loads.ts")>(new URL("../fixtures/never-loads.ts", import.meta.url), {
        kind,
        maxWorkers: 1,
        taskTimeoutMs: 5000,
      });
      try {
        const e = await within(rejection(p.run("never")), 60_000, "the call");
        assert.equal(e.name, "TimeoutError", e.message);
        assert.match(e.message, /never-loads\.ts had not finished loading after 5000 ms/);
      } finally {
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }

  it("thread: a call that times out in its task, once the module loaded, does not blame the module", async () => {
    const p = pool("thread", { taskTimeoutMs: 300 });
    try {
      const e = await within(rejection(p.run("sleepFor", 60_000)), 60_000, "the call");
      assert.equal(e.name, "TimeoutError", e.message);
      assert.doesNotMatch(e.message, /loading/);
    } finally {
      await p.destroy();
    }
  }, HANG_GUARD_MS);
});
