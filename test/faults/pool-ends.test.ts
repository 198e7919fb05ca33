/**
 * Fault tests for the worker pool's loose ends: runtime objects (host objects) that a channel
 * would write as `{}`, a task module that never finishes loading, workers refilled after a
 * failed start, `transfer()` of a MessagePort inline, and hostile tasks and values (a task
 * that exports a non-function, a throwing `toJSON`, cyclic values, `process.exit(0)` in a
 * thread, `destroy()` at awkward moments). Each must arrive intact or fail its own call
 * with a clear error naming the culprit: never a value silently changed, a hang or a crash.
 */
import assert from "node:assert/strict";
import { MessageChannel } from "node:worker_threads";
import { transfer, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
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
      // Deno's port cannot read a Histogram from another thread: the call fails, clearly (the
      // sender now refuses it, naming it, so the port no longer goes deaf on it).
      for (const call of [() => p.run("makeHost", "Histogram"), async () => p.run("receive", await makeHost("Histogram"))]) {
        try {
          await within(call(), 60_000, "the Histogram call");
        } catch (e) {
          assert.ok(e instanceof TypeError, `${(e as Error).name}: ${(e as Error).message}`);
          assert.match((e as Error).message, /could not be (read|received)|Histogram, which Deno copies only within one thread/);
        }
        assert.equal(await within(p.run("receive", 1), 60_000, "the next call"), "Number");
      }
    } finally {
      await p.destroy();
    }
  }, HANG_GUARD_MS);
});

describe("faults (pool ends): a task module that never finishes loading", () => {
  // Deno ends a program whose dynamic import's top-level await never settles ("Top-level
  // await promise never resolved") once nothing else is pending: inline, that is the host's.
  const flavours: Flavour[] = runtime === "node" ? ["inline", "thread"] : ["thread"];
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

/** Waits until `ok()` holds, checking every 50 ms; fails after `ms` (a "did not hang" guard). */
async function eventually(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("faults (pool ends): tinypool refills minWorkers after a failed start", () => {
  if (runtime === "node") {
    it("process: workers that died while starting are replaced up to minWorkers once a start succeeds; while none can start, none is retried without a call", async () => {
      const { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const dir = mkdtempSync(join(tmpdir(), "loopwork-flaky-"));
      const marker = join(dir, "fail");
      const starts = () => (existsSync(`${marker}.log`) ? readFileSync(`${marker}.log`, "utf8").split("\n").length - 1 : 0);
      writeFileSync(marker, "");
      // Preloaded into each child (tinypool forks with the host's execArgv, and no environment):
      // it logs its start, and dies before its worker entry is ready while the marker exists.
      const preload = join(dir, "flaky-start.cjs");
      writeFileSync(
        preload,
        `const fs = require("node:fs");\nfs.appendFileSync(${JSON.stringify(`${marker}.log`)}, "start\\n");\n` +
          `if (fs.existsSync(${JSON.stringify(marker)})) process.exit(3);\n`,
      );
      const execArgv = [...process.execArgv];
      process.execArgv.push("--require", preload);
      const p = pool("process", { minWorkers: 2, maxWorkers: 2 });
      try {
        // Every start fails: the call fails (its worker died while starting), and nothing restarts in a loop.
        const e = await within(rejection(p.run("receive", 1)), 60_000, "the call on a pool whose workers cannot start");
        assert.match(e.message, /died while starting|exited/);
        await eventually(() => p.stats().workers === 0, 30_000, "the failed workers to be gone");
        const failed = starts();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.equal(starts(), failed, "no worker is started again while no call asks");
        // Starting works again: a call starts one worker, which gets the pool back to minWorkers.
        rmSync(marker);
        assert.equal(await within(p.run("receive", 1), 60_000, "the call once starting works"), "Number");
        await eventually(() => p.stats().workers === 2, 30_000, "minWorkers (2) workers");
      } finally {
        process.execArgv.splice(0, process.execArgv.length, ...execArgv);
        await p.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    }, HANG_GUARD_MS);
  }
});

describe("faults (pool ends): tinypool stops listening to a worker's channel once it has learnt what it needs", () => {
  const flavours: Flavour[] = runtime === "node" ? ["process", "tinypool threads"] : ["process"];
  for (const flavour of flavours) {
    it(`${flavour}: after a worker is ready and has answered, its answers are no longer inspected`, async () => {
      const p = pool(flavour);
      try {
        for (let i = 0; i < 3; i++) assert.equal(await p.run("receive", i), "Number");
        const backend = (p as unknown as { _backend: { _listening?: number } })._backend;
        await eventually(() => backend._listening === 0, 30_000, "no worker channel listened to");
        assert.equal(await p.run("receive", 1), "Number", "the worker still answers");
      } finally {
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }
});

describe("faults (pool ends): a MessagePort moved with transfer()", () => {
  const flavours: Flavour[] = runtime === "node" ? ["inline", "thread", "tinypool threads"] : ["inline", "thread"];
  for (const flavour of flavours) {
    it(`${flavour}: the task gets a port on the same channel, as a thread does`, async () => {
      const p = pool(flavour);
      const { port1, port2 } = new MessageChannel();
      try {
        const heard = new Promise<unknown>((resolve) => port2.once("message", resolve));
        assert.equal(await within(p.run("usePort", transfer(port1), "hello"), 60_000, "the call"), "MessagePort");
        assert.equal(await within(heard, 60_000, "the message"), "hello");
      } finally {
        port1.close();
        port2.close();
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }
});

describe("faults (pool ends): the heap-limit watch", () => {
  it("runs only under Deno: a Node thread at its heap limit ends by itself (ERR_WORKER_OUT_OF_MEMORY)", async () => {
    const { watchHeapLimit } = await import("../../src/pool/worker/heap-watch.ts");
    const original = globalThis.setInterval;
    let timers = 0;
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      timers++;
      const t = original(...args);
      clearInterval(t);
      return t;
    }) as typeof setInterval;
    try {
      assert.equal(watchHeapLimit(() => {}), runtime === "deno");
    } finally {
      globalThis.setInterval = original;
    }
    assert.equal(timers, runtime === "deno" ? 1 : 0);
  });
});

describe("faults (pool ends): destroy() at awkward moments", () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: an argument whose getter destroys the pool while it is checked: the call is refused, and no worker outlives the pool`, async () => {
      // Cold and warm; the getter read by the check, or (past the check's 10 000 values) by
      // the encoding of the arguments.
      for (const [warm, large] of [[false, false], [true, false], [true, true]]) {
        const p = pool(flavour, { maxWorkers: 2 });
        let destroyed: Promise<void> | undefined;
        try {
          if (warm) await p.run("receive", 1);
          const arg = {
            ...(large ? { rows: Array.from({ length: 20_000 }, () => ({})) } : {}),
            get x(): number {
              destroyed ??= p.destroy();
              return 1;
            },
          };
          const e = await within(rejection(p.run("receive", arg)), 60_000, "the call");
          assert.equal(e.name, "PoolClosedError", `warm ${warm}, large ${large}: ${e.name}: ${e.message}`);
          assert.ok(destroyed !== undefined, "the getter ran");
          await within(destroyed, 60_000, "destroy()");
          assert.equal(p.stats().workers, 0, `warm ${warm}, large ${large}: no worker is left`);
        } finally {
          await p.destroy();
        }
      }
    }, HANG_GUARD_MS);

    // Inline has no workers to start (and its running call cannot be stopped, only abandoned).
    if (flavour === "inline") continue;
    it(`${flavour}: destroy() while workers start, and while a call waits for its worker, settles everything`, async () => {
      // (Tinypool used to start workers to keep minThreads as it was destroyed, which then
      // outlived the pool and kept destroy() waiting for their exit: a race, so three rounds.)
      for (let round = 0; round < 3; round++) {
        const p = pool(flavour, { minWorkers: 2, maxWorkers: 2 });
        const call = p.run("sleepFor", 60_000);
        // The call has reached the backend, which is starting its workers (none has answered).
        await eventually(() => p.stats().workers > 0, 60_000, "workers starting");
        await within(p.destroy(), 60_000, "destroy()");
        const e = await within(rejection(call), 60_000, "the call");
        assert.equal(e.name, "PoolClosedError", e.message);
        assert.equal(p.stats().workers, 0);
      }
    }, HANG_GUARD_MS);
  }
});

describe("faults (pool ends): hostile tasks and values", () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: a non-function export, a throwing toJSON or getter, cyclic values, a 64 MB string, process.exit(0), a replaced postMessage`, async () => {
      const p = pool(flavour);
      try {
        // The pool's type refuses the name; a caller without types does not.
        const untyped = p as unknown as WorkerPool<Record<string, () => unknown>>;
        let e = await within(rejection(untyped.run("notATask")), 60_000, "notATask");
        assert.ok(e instanceof TypeError && /unknown task "notATask": it is not an exported function/.test(e.message), e.message);
        e = await within(rejection(p.run("hostile", "toJSON")), 60_000, "toJSON");
        assert.match(e.message, /the result of task "hostile" cannot be sent back.*\.toJSON cannot be cloned \(it is a function\)/);
        e = await within(rejection(p.run("hostile", "getter")), 60_000, "getter");
        assert.match(e.message, /reading \.rows\[0\]\.x threw Error: getter threw/);
        const cycle = (await within(p.run("hostile", "cycle"), 60_000, "cycle")) as { a: unknown[]; map: Map<string, unknown> };
        assert.ok(cycle.a[1] === cycle && cycle.map.get("self") === cycle, "a cyclic result comes back cyclic");
        const sent = { a: [1] as unknown[], map: new Map<string, unknown>() };
        sent.a.push(sent);
        sent.map.set("self", sent);
        assert.equal(await within(p.run("isCycle", sent), 60_000, "cyclic argument"), true);
        const n = 64 * 1024 * 1024;
        assert.equal(((await within(p.run("hostile", "huge", n), 60_000, "huge result")) as string).length, n);
        assert.equal(await within(p.run("lengthOf", "y".repeat(n)), 60_000, "huge argument"), n);
        if (flavour !== "inline") {
          e = await within(rejection(p.run("hostile", "exit0")), 60_000, "exit0");
          assert.equal(e.name, "WorkerCrashedError", e.message);
          assert.match(e.message, /exited with code 0/);
          assert.equal(await within(p.run("hostile", "postMessage"), 60_000, "postMessage"), "replaced");
        }
        assert.equal(await within(p.run("receive", 1), 60_000, "the next call"), "Number", "the pool still works");
      } finally {
        await p.destroy();
      }
    }, HANG_GUARD_MS);
  }
});
