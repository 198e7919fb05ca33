import assert from "node:assert/strict";
import {
  allTasks,
  CancelledError,
  getRunningLoop,
  InvalidStateError,
  run,
  sleep,
  spawn,
  type Task,
  tryGetRunningLoop,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;

describe("run", () => {
  it("resolves to main's result, for a generator function, generator object and async function", async () => {
    function* gen(x: number) {
      yield* sleep(1);
      return x;
    }
    assert.equal(await run(gen(1), virtual), 1);
    assert.equal(await run(function* () {
      return yield* sleep(1, 2);
    }, virtual), 2);
    assert.equal(await run(async (signal) => {
      await sleep(1);
      return signal.aborted ? -1 : 3;
    }, virtual), 3);
  });

  it("rejects with main's exception", async () => {
    await assert.rejects(run(function* () {
      yield* sleep(1);
      throw new URIError("main failed");
    }, virtual), (e: Error) => e instanceof URIError && e.message === "main failed");
  });

  it("cancels and awaits every task still alive when main ends", async () => {
    const seen: string[] = [];
    let leftover!: Task<void>;
    await run(function* () {
      leftover = spawn(function* () {
        try {
          yield* sleep(60_000);
        } finally {
          yield* sleep(10);
          seen.push(`cleanup finished at ${getRunningLoop().time()}`);
        }
      });
      spawn(async (signal) => {
        await new Promise((r) => signal.addEventListener("abort", r));
        seen.push("async child saw the abort");
      });
      yield* sleep(100);
      seen.push("main returns");
    }, virtual);
    assert.deepEqual(seen, ["main returns", "async child saw the abort", "cleanup finished at 110"]);
    assert.equal(leftover.cancelled(), true);
  });

  it("no loop is running after run() settles, even when main failed", async () => {
    await run(function* () {
      assert.ok(tryGetRunningLoop());
    }, virtual);
    assert.equal(tryGetRunningLoop(), undefined);
    await assert.rejects(run(function* () {
      throw new Error("x");
    }, virtual));
    assert.equal(tryGetRunningLoop(), undefined);
    assert.throws(() => getRunningLoop(), /no running loop/);
  });

  it("a second run() inside a running loop throws InvalidStateError at once", async () => {
    const error = await run(function* () {
      try {
        void run(function* () {});
      } catch (e) {
        return e;
      }
    }, virtual);
    assert.ok(error instanceof InvalidStateError);
    assert.match((error as Error).message, /run\(\) cannot be called while a loop is running/);
  });

  it("a cancelled main rejects run() with CancelledError", async () => {
    await assert.rejects(run(function* () {
      spawn(function* () {
        yield* sleep(1);
        const main = [...allTasks()].find((t) => t.name === "main")!;
        main.cancel("shutdown");
      });
      yield* sleep(100);
    }, virtual), (e: Error) => e instanceof CancelledError && e.message === "shutdown");
  });

  it("a failed task whose exception nobody read is reported when run() ends", async () => {
    const reported: Array<[string, unknown]> = [];
    const err = new Error("forgotten failure");
    await run(function* () {
      getRunningLoop().setExceptionHandler((ctx) => reported.push([ctx.message, ctx.exception]));
      spawn(function* () {
        yield* sleep(1);
        throw err;
      }, { name: "forgotten" });
      const read = spawn(function* () {
        throw new Error("this one is read");
      });
      yield* sleep(10);
      assert.ok(read.exception() instanceof Error);
    }, virtual);
    assert.deepEqual(reported, [["Task exception was never retrieved", err]]);
  });

  it("runs the default executor's close() when it ends", async () => {
    let closed = 0;
    const v = await run(function* () {
      const loop = getRunningLoop();
      loop.setDefaultExecutor({
        run: (name: string, ...args: unknown[]) => Promise.resolve(`${name}:${args.join(",")}`),
        close: () => {
          closed++;
          return Promise.resolve();
        },
      });
      return yield* loop.runInExecutor(null, "job", 1, 2);
    }, virtual);
    assert.equal(v, "job:1,2");
    assert.equal(closed, 1);
  });

  it("debug mode reports a step that blocked the loop longer than slowStepMs, naming the task", async () => {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (msg: string) => warnings.push(msg);
    try {
      await run(function* () {
        const t = spawn(function* () {
          const until = performance.now() + 30;
          while (performance.now() < until) { /* busy: blocks the loop */ }
        }, { name: "cruncher" });
        yield* t;
      }, { debug: { slowStepMs: 10 } });
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /a step of task cruncher blocked the loop for \d+\.\d ms/);
    assert.match(warnings[0]!, /worker pool/);
  });

  it("bad run() options are refused", () => {
    assert.throws(() => run(function* () {}, null as never), /run\(\) options must be an object/);
    assert.throws(() => run(function* () {}, { clock: "wall" as never }), /clock must be "real" or "virtual"/);
  });
});
