/**
 * Async tasks made cheap (issue 16) without a change of meaning: a task's signal made on
 * demand (read through the task, after an `await`, after a cancel), consecutive awaits of one
 * future that share a waiter promise, and the bound methods that follow an async task's promise.
 */
import assert from "node:assert/strict";
import { CancelledError, currentTask, Future, run, sleep, spawn, type Task, until } from "../../mod.ts";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

describe("async tasks: the signal on demand", () => {
  it("a task that takes no parameter reads its signal through its task after an await: made then, already aborted by the earlier cancel", async () => {
    await run(function* () {
      const gate = new Future<void>();
      let seen: AbortSignal | undefined;
      const t = spawn(async () => {
        const task = currentTask()!;
        await gate.then(() => {}, () => {});
        seen = task.signal; // first read: after the cancel below
        seen.throwIfAborted();
        return "not aborted";
      });
      yield* sleep(1);
      t.cancel("stop now");
      gate.setResult();
      yield* until(t.then(() => {}, () => {}));
      assert.ok(seen instanceof AbortSignal, "a real AbortSignal");
      assert.equal(seen.aborted, true);
      assert.ok(seen.reason instanceof CancelledError);
      assert.equal(seen.reason.message, "stop now");
      assert.equal(t.cancelled(), true, "it rejected with its signal's reason after the cancel: cancelled");
      assert.throws(() => t.result(), (e: Error) => e instanceof CancelledError && e.message === "stop now");
    }, virtual);
  });

  it("a signal read through the task before the cancel is aborted by it, and the task ends cancelled", async () => {
    await run(function* () {
      let aborted = 0;
      const t = spawn(async () => {
        const signal = currentTask()!.signal;
        await new Promise<void>((_, reject) => {
          signal.addEventListener("abort", () => {
            aborted++;
            reject(signal.reason);
          });
        });
      });
      yield* sleep(1);
      t.cancel();
      yield* until(t.then(() => {}, () => {}));
      assert.equal(aborted, 1);
      assert.equal(t.cancelled(), true);
    }, virtual);
  });

  it("`async (signal) =>` still gets a real AbortSignal of its own per task", async () => {
    await run(function* () {
      const signals: AbortSignal[] = [];
      const tasks: Task<number>[] = [];
      for (let i = 0; i < 3; i++) {
        tasks.push(spawn(async (signal: AbortSignal) => {
          signals.push(signal);
          await sleep(10);
          return i;
        }));
      }
      yield* sleep(1);
      tasks[1]!.cancel("only the middle one");
      for (const t of tasks) yield* until(t.then(() => {}, () => {}));
      assert.equal(new Set(signals).size, 3);
      assert.ok(signals.every((s) => s instanceof AbortSignal));
      assert.deepEqual(signals.map((s) => s.aborted), [false, true, false]);
      assert.equal(tasks[0]!.result(), 0);
      assert.equal(tasks[2]!.result(), 2);
    }, virtual);
  });
});

describe("async tasks: awaits of one future share a waiter promise", () => {
  it("tasks awaiting one future resume in the order they awaited it", async () => {
    await run(function* () {
      const f = new Future<number>();
      const log: number[] = [];
      const tasks: Task<void>[] = [];
      for (let i = 0; i < 5; i++) {
        tasks.push(spawn(async () => {
          const v = await f;
          log.push(i * 10 + v);
        }));
      }
      yield* sleep(1);
      f.setResult(1);
      for (const t of tasks) yield* t;
      assert.deepEqual(log, [1, 11, 21, 31, 41]);
    }, virtual);
  });

  it("each then() gets a promise of its own: a handler that throws fails only its own", async () => {
    await run(function* () {
      const f = new Future<number>();
      const log: string[] = [];
      const a = f.then((v) => void log.push(`a${v}`));
      const b = f.then(() => {
        log.push("b");
        throw new Error("b fails");
      });
      f.addDoneCallback(() => log.push("callback"));
      const c = f.then((v) => {
        log.push(`c${v}`);
        return v + 1;
      });
      assert.notEqual(a, b);
      assert.notEqual(b, c);
      f.setResult(1);
      assert.equal(yield* until(a), undefined);
      const bOutcome = yield* until(b.then(() => "fulfilled", (e: Error) => e.message));
      assert.equal(bOutcome, "b fails");
      assert.equal(yield* until(c), 2);
      yield* sleep(1);
      assert.deepEqual(log.filter((x) => x !== "callback"), ["a1", "b", "c1"]);
      assert.ok(log.includes("callback"));
    }, virtual);
  });

  it("tasks awaiting one future that fails or is cancelled each get its outcome", async () => {
    await run(function* () {
      const failing = new Future<number>();
      const cancelled = new Future<number>();
      const boom = new Error("boom");
      const onFailing = [0, 1, 2].map(() => spawn(async () => await failing));
      const onCancelled = [0, 1].map(() => spawn(async () => await cancelled));
      yield* sleep(1);
      failing.setException(boom);
      cancelled.cancel("gone");
      for (const t of [...onFailing, ...onCancelled]) yield* until(t.then(() => {}, () => {}));
      for (const t of onFailing) assert.equal(t.exception(), boom);
      for (const t of onCancelled) {
        assert.equal(t.cancelled(), true);
        assert.throws(() => t.result(), (e: Error) => e instanceof CancelledError && e.message === "gone");
      }
    }, virtual);
  });
});

// What any cheaper signal must still be (issue 16): the platform's own AbortSignal, made by a
// controller per task, and nothing that only looks like one.
describe("async tasks: the signal is a genuine AbortSignal", () => {
  it("of the platform's class, aborted exactly at cancel() with the CancelledError, for every way of listening", async () => {
    await run(function* () {
      let signal!: AbortSignal;
      const t = spawn(async (s: AbortSignal) => {
        signal = s;
        await new Promise<void>((_, reject) => s.addEventListener("abort", () => reject(s.reason), { once: true }));
      });
      yield* sleep(1);
      assert.equal(Object.getPrototypeOf(signal), AbortSignal.prototype, "the platform's AbortSignal, not a lookalike");
      assert.equal(Object.prototype.toString.call(signal), "[object AbortSignal]");
      const follower = AbortSignal.any([signal]);
      const heard: string[] = [];
      signal.onabort = () => heard.push("onabort");
      signal.addEventListener("abort", () => heard.push("listener"));
      follower.addEventListener("abort", () => heard.push("any"));
      assert.equal(signal.aborted, false);
      assert.equal(follower.aborted, false);
      signal.throwIfAborted(); // does not throw yet
      t.cancel("stop");
      assert.equal(signal.aborted, true, "aborted by the cancel() call itself");
      assert.ok(signal.reason instanceof CancelledError);
      assert.equal(signal.reason.message, "stop");
      assert.throws(() => signal.throwIfAborted(), (e: unknown) => e === signal.reason);
      assert.equal(follower.aborted, true);
      assert.equal(follower.reason, signal.reason, "AbortSignal.any() follows it, with its reason");
      assert.deepEqual(heard.sort(), ["any", "listener", "onabort"]);
      yield* until(t.then(() => {}, () => {}));
      assert.equal(t.cancelled(), true);
    }, virtual);
  });

  it("fetch() takes it: cancelling the task aborts a pending request, and the task ends cancelled", async () => {
    const { createServer } = await import("node:http");
    const server = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      await run(function* () {
        let failure: unknown;
        let requested!: () => void;
        const arrived = new Promise<void>((r) => (requested = r));
        server.once("request", () => requested());
        const t = spawn(async (signal: AbortSignal) => {
          try {
            await fetch(`http://127.0.0.1:${port}/`, { signal });
          } catch (e) {
            failure = e;
            throw e;
          }
        });
        yield* until(arrived); // the request is on the wire
        t.cancel("no longer needed");
        yield* until(t.then(() => {}, () => {}));
        assert.ok(failure instanceof CancelledError, `fetch rejected with the signal's reason, got ${String(failure)}`);
        assert.equal((failure as Error).message, "no longer needed");
        assert.equal(t.cancelled(), true);
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 20_000);

  it("a fresh, unaborted signal after uncancel() brings the count to 0; the old one stays aborted", async () => {
    await run(function* () {
      const gate = new Future<void>();
      let first!: AbortSignal;
      let second!: AbortSignal;
      const t = spawn(async (signal: AbortSignal) => {
        first = signal;
        const task = currentTask()!;
        await gate;
        second = task.signal;
        return second.aborted;
      });
      yield* sleep(1);
      t.cancel("once");
      assert.equal(first.aborted, true);
      assert.equal(t.uncancel(), 0);
      gate.setResult();
      assert.equal(yield* t, false);
      assert.notEqual(second, first);
      assert.ok(second instanceof AbortSignal);
      assert.equal(first.aborted, true);
    }, virtual);
  });
});

// The controller of an async task's signal is kept bare, without the record of a task's rare
// state, until a cancel, a failure or misuse needs that record (issue 16: 88 B a parked task
// on Deno): the signal must behave the same either way.
describe("async tasks: the controller kept bare until the task needs more", () => {
  it("parked on a promise, the signal is aborted once by cancel(), however many requests follow", async () => {
    await run(function* () {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let aborts = 0;
      let given!: AbortSignal;
      let readLater!: AbortSignal;
      const t = spawn(async (signal: AbortSignal) => {
        given = signal;
        signal.addEventListener("abort", () => aborts++);
        const task = currentTask()!;
        await gate;
        readLater = task.signal;
        return "done";
      });
      yield* sleep(1);
      assert.equal(t.signal, given, "read through the task: the signal the function got");
      assert.equal(t.cancelling(), 0);
      assert.equal(t.uncancel(), 0, "nothing to withdraw");
      assert.equal(given.aborted, false);
      assert.equal(t.cancel("first"), true);
      assert.equal(aborts, 1);
      assert.equal(t.cancel("second"), true);
      assert.equal(t.cancelling(), 2);
      assert.equal(aborts, 1, "aborted once, by the first request");
      assert.equal(given.reason.message, "first");
      assert.equal(t.signal, given, "the same signal while requests stand");
      release();
      yield* until(t.then(() => {}, () => {}));
      assert.equal(readLater, given);
      assert.equal(aborts, 1);
      assert.equal(t.result(), "done", "a function that ignores its signal and returns finishes");
    }, virtual);
  });

  it("a task that read its signal and then fails reports its failure, with the signal kept", async () => {
    await run(function* () {
      const boom = new Error("boom");
      let given!: AbortSignal;
      const t = spawn(async (signal: AbortSignal) => {
        given = signal;
        await null;
        throw boom;
      });
      yield* until(t.then(() => {}, () => {}));
      assert.equal(t.exception(), boom);
      assert.equal(t.signal, given);
      assert.equal(given.aborted, false);
      assert.equal(t.cancel(), false, "done: no request");
      assert.equal(given.aborted, false);
    }, virtual);
  });

  it("a task cancelled before its first step never makes a controller", async () => {
    const Platform = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Platform {
      constructor() {
        super();
        made++;
      }
    };
    try {
      await run(function* () {
        let ran = 0;
        const tasks = [0, 1, 2].map(() => spawn(async (signal: AbortSignal) => {
          ran++;
          return signal.aborted;
        }));
        for (const t of tasks) t.cancel("before it starts");
        for (const t of tasks) yield* until(t.then(() => {}, () => {}));
        assert.equal(ran, 0, "no body ran");
        assert.ok(tasks.every((t) => t.cancelled()));
        assert.equal(made, 0, "no controller made");
        const started = spawn(async (signal: AbortSignal) => signal.aborted);
        assert.equal(yield* started, false);
        assert.equal(made, 1, "the counter sees the one a started task makes");
      }, virtual);
    } finally {
      globalThis.AbortController = Platform;
    }
  });

  it("tasks that read their signal and ended are collected with their signals once dropped", async () => {
    const file = fileURLToPath(new URL("../fixtures/async-signal-release.ts", import.meta.url));
    const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
    const [cmd, argv] = deno
      ? [deno.execPath(), ["run", "-A", "--v8-flags=--expose-gc", file]]
      : [process.execPath, ["--expose-gc", "--import", "tsx", file]];
    const out = await new Promise<string>((resolve, reject) => {
      execFile(cmd, argv, { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    assert.match(out, /released 60\/60/);
  }, 90_000);
});
