/**
 * Fault tests: a worker that dies while it starts fails its call clearly — never a hang.
 *
 * A child process (`kind: "process"`, on tinypool) that died before it told tinypool it was
 * ready (out of memory under a tiny heap limit, or killed) left the call waiting in
 * tinypool's queue forever: tinypool stops starting workers after a failed start, and blames
 * nobody. The thread kinds are here as guards: both thread backends already failed such a call.
 *
 * The rule, on every kind (as the own thread backend has it): a worker that dies before it
 * answered any call fails the oldest call waiting for it with `WorkerCrashedError`, saying it
 * died while starting and how (exit code or signal); the pool starts a worker again only for
 * the next call, so a worker that can never start fails each call once and never loops; the
 * pool keeps working when a later start succeeds; `destroy()` resolves.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WorkerCrashedError, WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { rejection } from "../expect.ts";
import { describe, it, runtime, skip } from "../harness.ts";
import { runProgram } from "../subprocess.ts";

type Tasks = typeof import("../fixtures/tasks.ts");
const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);
const EXIT_AT_LOAD = new URL("../fixtures/exit-at-load.ts", import.meta.url);
const KILL_AT_LOAD = new URL("../fixtures/kill-at-load.ts", import.meta.url);
const BROKEN = new URL("../fixtures/broken.ts", import.meta.url);
const START_OOM_PROGRAM = fileURLToPath(new URL("../fixtures/start-oom-program.ts", import.meta.url));

/** Generous "it did not hang" bound for one step; never a speed check. */
const GUARD_MS = 60_000;
/** The test runner's bound for a case: several guarded steps. */
const CASE_MS = 180_000;

type Flavour = "process" | "thread" | "tinypool threads";
const flavours: Flavour[] = runtime === "node" ? ["process", "thread", "tinypool threads"] : ["process", "thread"];

function options(flavour: Flavour, extra: WorkerPoolOptions = {}): WorkerPoolOptions {
  return {
    kind: flavour === "process" ? "process" : "thread",
    ...(flavour === "tinypool threads" ? { backend: "tinypool" as const } : {}),
    ...extra,
  };
}

/** `p`, or a failure naming `what` after GUARD_MS: a "did not hang" guard. */
async function within<T>(what: string, p: PromiseLike<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was still pending after ${GUARD_MS} ms (a hang)`)), GUARD_MS);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Destroys `pool`, which must resolve. */
async function destroyed(pool: WorkerPool<unknown>): Promise<void> {
  await within("pool.destroy()", pool.destroy());
}

/** Asserts `e` is a WorkerCrashedError whose message matches each of `patterns`. */
function assertCrash(e: unknown, ...patterns: RegExp[]): void {
  assert.ok(e instanceof WorkerCrashedError, `expected a WorkerCrashedError, got ${String(e)}`);
  for (const p of patterns) assert.match(e.message, p);
}

/**
 * The pids of this process's tinypool children (Linux only: `/proc`), found by their command
 * line, which names tinypool's process entry.
 */
function tinypoolChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes("tinypool")) out.push(Number(name));
    } catch {
      // It has exited meanwhile.
    }
  }
  return out;
}

/** What start-oom-program.ts printed: each call's error, and the worker counts sampled after. */
interface OomRun {
  errors: ({ name: string; message: string } | null)[];
  workers: number[];
}

/**
 * Runs start-oom-program.ts for `flavour`. At a thread's heap limit V8 may abort the whole
 * process instead of stopping the thread (nodejs/node#47224, the documented exception: a
 * thread shares its process); with a 1 MB heap at start Node 24 and Deno always do. That is
 * retried, and after three aborts in a row it is the answer (null); anything else (a hang, a
 * failed program, a child process's abort) fails the test.
 */
async function outOfMemoryAtStart(flavour: Flavour): Promise<OomRun | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await within(`the program (${flavour})`, runProgram(START_OOM_PROGRAM, [flavour]));
    if (flavour !== "process" && r.code !== 0 && /Fatal JavaScript (out of memory|OOM)/i.test(r.stderr) && !r.stdout.includes("{")) {
      continue;
    }
    assert.equal(r.code, 0, `the program failed (code ${r.code}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as OomRun;
  }
  return null;
}

for (const flavour of flavours) {
  const where = flavour === "process" ? /worker process/ : /worker/;
  const starting = flavour === "process" ? /while starting/ : /./;

  describe(`faults: a ${flavour} worker that dies while it starts`, () => {
    const oomName = "out of memory at start (a 1 MB heap): every call fails, no hang, no restart loop";
    if (runtime === "deno" && flavour !== "process") {
      // Not isolated: Deno aborts the whole process when a thread meets so small a heap limit
      // (a program of its own each time: not worth the wait).
      skip(`${oomName} (Deno aborts the process: a thread's heap limit is not isolated)`);
    } else {
      it(oomName, async () => {
        const r = await outOfMemoryAtStart(flavour);
        // A thread's runtime that aborts the process at so small a heap (Node 24): not isolated.
        if (r === null) return;
        assert.equal(r.errors.length, 3);
        for (const e of r.errors) {
          assert.ok(e !== null, "a call on a worker that cannot start succeeded");
          assert.equal(e.name, "WorkerCrashedError", e.message);
          for (const p of [where, starting, /memory/, /maxOldGenerationSizeMb = 1/]) assert.match(e.message, p);
          if (flavour === "process") assert.match(e.message, /exited with code \d+|killed by SIG[A-Z]+/);
        }
        assert.deepEqual(r.workers, [0, 0, 0, 0, 0], "a worker that cannot start was started again with no call asking");
      }, CASE_MS);
    }

    it("process.exit(3) while the task module loads: each call fails with exit code 3", async () => {
      const pool = new WorkerPool<typeof import("../fixtures/exit-at-load.ts")>(EXIT_AT_LOAD, options(flavour, { maxWorkers: 2 }));
      try {
        const calls = [pool.run("never"), pool.run("never"), pool.run("never")];
        for (const [i, call] of calls.entries()) {
          const e = await within(`call ${i + 1} on a worker that exits while loading`, rejection(call));
          assertCrash(e, where, starting, /code 3/);
          assert.equal((e as WorkerCrashedError).exitCode, 3);
        }
      } finally {
        await destroyed(pool);
      }
    }, CASE_MS);

    it("a task module that throws while it loads fails the call with its error; the pool stays usable", async () => {
      const pool = new WorkerPool<typeof import("../fixtures/broken.ts")>(BROKEN, options(flavour, { maxWorkers: 1 }));
      try {
        for (let i = 1; i <= 2; i++) {
          const e = await within(`call ${i} on a task module that throws while loading`, rejection(pool.run("never")));
          assert.match(e.message, /broken on purpose while loading/);
          assert.ok(!(e instanceof WorkerCrashedError), "the worker did not die: it reported the error");
        }
      } finally {
        await destroyed(pool);
      }
    }, CASE_MS);

    if (flavour !== "process") return;

    it("minWorkers 2, out of memory at start: every call fails, no hang, no worker started with no call asking", async () => {
      const pool = new WorkerPool<Tasks>(
        TASKS,
        options(flavour, { minWorkers: 2, maxWorkers: 2, resourceLimits: { maxOldGenerationSizeMb: 1 } }),
      );
      try {
        const calls = [pool.run("add", 1, 2), pool.run("add", 3, 4), pool.run("add", 5, 6)];
        for (const [i, call] of calls.entries()) {
          const e = await within(`call ${i + 1} on a worker that runs out of memory at start`, rejection(call));
          assertCrash(e, where, starting, /memory/, /maxOldGenerationSizeMb = 1/);
        }
        for (let i = 0; i < 5; i++) {
          await delay(60);
          assert.equal(pool.stats().workers, 0, "a worker that cannot start was started again with no call asking");
        }
      } finally {
        await destroyed(pool);
      }
    }, CASE_MS);

    it("SIGKILL while the task module loads: each call fails naming the signal, no hang", async () => {
      const pool = new WorkerPool<typeof import("../fixtures/kill-at-load.ts")>(KILL_AT_LOAD, options(flavour, { maxWorkers: 1 }));
      try {
        const e = await within("a call whose worker killed itself while loading", rejection(pool.run("never")));
        assertCrash(e, where, starting, /killed by SIGKILL/);
        assert.equal((e as WorkerCrashedError).exitCode, undefined);
        // The next call starts a worker again (and it dies the same way): no hang, no loop.
        assertCrash(await within("a second call", rejection(pool.run("never"))), /killed by SIGKILL/);
      } finally {
        await destroyed(pool);
      }
    }, CASE_MS);

    it("SIGKILL from outside before the first answer: the call fails naming the signal; the pool keeps working", async () => {
      // Finding the child needs /proc.
      if (process.platform !== "linux") return;
      const pool = new WorkerPool<Tasks>(TASKS, options(flavour, { maxWorkers: 1 }));
      try {
        // A call that would answer only after a minute: the kill lands before any answer,
        // most often before the child is even ready.
        const call = pool.run("delayedEcho", "late", 60_000);
        let killed: number | undefined;
        await within("the child process to appear", (async () => {
          while (killed === undefined) {
            const [pid] = tinypoolChildren();
            if (pid !== undefined) {
              process.kill(pid, "SIGKILL");
              killed = pid;
            } else {
              await delay(1);
            }
          }
        })());
        const e = await within("a call whose worker was killed before it answered", rejection(call));
        assertCrash(e, where, starting, /killed by SIGKILL/);
        // The next call starts a worker that lives: the pool keeps working.
        assert.equal(await within("a call after the kill", pool.run("add", 2, 3)), 5);
      } finally {
        await destroyed(pool);
      }
    }, CASE_MS);
  });
}
