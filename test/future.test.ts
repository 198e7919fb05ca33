import assert from "node:assert/strict";
import { CancelledError, Future, InvalidStateError, run, sleep } from "../mod.ts";
import { describe, it } from "./harness.ts";

describe("Future", () => {
  it("result() of a pending future throws InvalidStateError", () => {
    const f = new Future<number>();
    assert.throws(() => f.result(), InvalidStateError);
    assert.throws(() => f.exception(), InvalidStateError);
  });

  it("setResult on a done future throws InvalidStateError naming its state", () => {
    const f = new Future<number>();
    f.setResult(1);
    assert.throws(() => f.setResult(2), (e: Error) => e instanceof InvalidStateError && /already finished/.test(e.message));
    assert.throws(() => f.setException(new Error("x")), InvalidStateError);
    assert.equal(f.cancel(), false);
    assert.equal(f.result(), 1);
  });

  it("result() of a cancelled future throws CancelledError with the cancel message", () => {
    const f = new Future<number>();
    assert.equal(f.cancel("stop here"), true);
    assert.equal(f.cancelled(), true);
    assert.throws(() => f.result(), (e: Error) => e instanceof CancelledError && e.message === "stop here" && e.name === "CancelledError");
    assert.throws(() => f.exception(), CancelledError);
  });

  it("exception() returns the error of a failed future and undefined for a finished one", () => {
    const ok = new Future<number>();
    ok.setResult(3);
    assert.equal(ok.exception(), undefined);
    const bad = new Future<number>();
    const err = new RangeError("bad");
    bad.setException(err);
    assert.equal(bad.exception(), err);
    assert.throws(() => bad.result(), RangeError);
  });

  it("is awaitable outside any loop, its callbacks running as host microtasks", async () => {
    const f = new Future<string>();
    const seen: string[] = [];
    f.addDoneCallback((g) => seen.push(`cb:${g.result()}`));
    setTimeout(() => f.setResult("v"), 1);
    assert.equal(await f, "v");
    await Promise.resolve();
    assert.deepEqual(seen, ["cb:v"]);
  });

  it("a failed future rejects its awaiters with the same error", async () => {
    const f = new Future<number>();
    const err = new Error("boom");
    queueMicrotask(() => f.setException(err));
    await assert.rejects(async () => await f, (e) => e === err);
  });

  it("done callbacks run on the loop, in the order they were added, after setResult returns", async () => {
    const order: string[] = [];
    await run(function* () {
      const f = new Future<number>();
      f.addDoneCallback(() => order.push("a"));
      f.addDoneCallback(() => order.push("b"));
      f.addDoneCallback(() => order.push("c"));
      f.setResult(1);
      order.push("after setResult");
      yield* sleep(0);
    }, { clock: "virtual" });
    assert.deepEqual(order, ["after setResult", "a", "b", "c"]);
  });

  it("a callback added to a done future is still called, on the next turn", async () => {
    const order: string[] = [];
    await run(function* () {
      const f = new Future<number>();
      f.setResult(1);
      f.addDoneCallback(() => order.push("late"));
      order.push("sync");
      yield* sleep(0);
    }, { clock: "virtual" });
    assert.deepEqual(order, ["sync", "late"]);
  });

  it("removeDoneCallback removes every registration and reports how many", async () => {
    const calls: string[] = [];
    await run(function* () {
      const f = new Future<void>();
      const cb = () => calls.push("cb");
      const other = () => calls.push("other");
      f.addDoneCallback(cb);
      f.addDoneCallback(other);
      f.addDoneCallback(cb);
      assert.equal(f.removeDoneCallback(cb), 2);
      assert.equal(f.removeDoneCallback(cb), 0);
      f.setResult();
      yield* sleep(0);
    }, { clock: "virtual" });
    assert.deepEqual(calls, ["other"]);
  });

  it("yield* of a future returns its typed result", async () => {
    const n = await run(function* () {
      const x: number = yield* sleep(10, 5);
      const f = new Future<string>();
      f.setResult("s");
      const s: string = yield* f;
      return `${x}${s}`;
    }, { clock: "virtual" });
    assert.equal(n, "5s");
  });

  it("addDoneCallback with a non-function throws TypeError", () => {
    const f = new Future();
    assert.throws(() => f.addDoneCallback(42 as never), /expects a function, got number 42/);
  });
});
