/**
 * Issue 16 (the task itself): a task is the object a fan-out holds by the hundred thousand, and
 * whose size its collections copy (on Deno a field more on every task made spawn(gen(i)) +
 * gather measurably dearer). The future a task waits on lives in its `_value`, which a pending
 * task has no other use for: a pending task holds 96 B on 64-bit runtimes without pointer
 * compression (Deno 2, Node 20 and 24 here), 104 B before. What it waits on, and its outcome,
 * must be unchanged by that: the inspector's `_futWaiter` is null once the task is done, and a
 * done task's result or cancellation is never overwritten by a late write of what it waited on.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CancelledError, Future, run, sleep, spawn, waitFor } from "../../mod.ts";
import { describe, it } from "../harness.ts";
import { runProgram } from "../subprocess.ts";

const virtual = { clock: "virtual" } as const;

describe("a task without a field for the future it waits on", () => {
  it("a pending task holds at most 100 B (its own object, its place in the ready queue and in a list)", async () => {
    const file = fileURLToPath(new URL("../fixtures/task-size-program.ts", import.meta.url));
    const out = await runProgram(file, [], undefined, ["--expose-gc"]);
    assert.equal(out.code, 0, out.stderr);
    const { perTask } = JSON.parse(out.stdout.trim().split("\n").pop()!) as { perTask: number };
    assert.ok(perTask > 20, `the tasks were measured (${perTask} B)`);
    assert.ok(perTask <= 100, `a pending task holds ${perTask.toFixed(1)} B`);
  }, 150_000);

  it("what a task waits on is seen while it waits and gone once it is done, its result intact", async () => {
    await run(function* () {
      const f = new Future<number>();
      const t = spawn(function* () { return (yield* f) + 1; });
      yield;
      const seen = t as unknown as { _futWaiter: Future<unknown> | null; _value: unknown };
      assert.equal(seen._futWaiter, f);
      f.setResult(41);
      assert.equal(yield* t, 42);
      assert.equal(seen._futWaiter, null);
      seen._futWaiter = f; // a late write (what `_cancelsFirst` does on a task not yet started) must not touch a done task
      assert.equal(t.result(), 42);
      assert.equal(seen._futWaiter, null);
    }, virtual);
  });

  it("a task cancelled while it waits ends cancelled with the message, not with what it waited on", async () => {
    await run(function* () {
      const f = new Future<number>();
      const t = spawn(function* () { return yield* f; });
      yield;
      t.cancel("stop");
      yield* sleep(1);
      assert.ok(t.cancelled());
      assert.ok(f.cancelled());
      assert.throws(() => t.result(), (e: unknown) => e instanceof CancelledError && e.message === "stop");
    }, virtual);
  });

  it("waitFor's task, cancelled before its first step, still cancels what it was to wait on", async () => {
    await run(function* () {
      const f = new Future<number>();
      const outer = spawn(function* () { return yield* waitFor(f, 1_000); });
      yield;
      outer.cancel();
      yield* sleep(1);
      assert.ok(outer.cancelled());
      assert.ok(f.cancelled());
    }, virtual);
  });
});
