/**
 * moveOnAfter / moveOnAt: Trio's and AnyIO's scopes that end quietly at their deadline
 * (trio's test_cancel.py: test_cancel_scope_basic, move_on_after, nested scopes), built on
 * the TimeoutScope of timeout(): the same deadline logic and the same nesting rule.
 */
import assert from "node:assert/strict";
import {
  CancelledError,
  type Coroutine,
  getRunningLoop,
  moveOnAfter,
  moveOnAt,
  run,
  sleep,
  spawn,
  timeout,
  timeoutAt,
  TimeoutError,
  type TimeoutScope,
} from "../mod.ts";
import { catching } from "./expect.ts";
import { describe, it } from "./harness.ts";

const virtual = <T>(main: () => Coroutine<T> | Promise<T>): Promise<T> =>
  run(main as () => Coroutine<T>, { clock: "virtual" });

const now = (): number => getRunningLoop().time();

describe("moveOnAfter / moveOnAt", () => {
  it("an expired scope cancels the body and settles quietly with undefined; cancelledCaught is true", async () => {
    await virtual(function* () {
      let sawCancel = false;
      const t0 = now();
      const scope = moveOnAfter(100, function* () {
        try {
          yield* sleep(1_000);
        } catch (e) {
          sawCancel = e instanceof CancelledError;
          throw e;
        }
        return "slow";
      });
      assert.equal(scope.cancelledCaught, false, "not while it runs");
      assert.equal(yield* scope, undefined);
      assert.equal(now() - t0, 100);
      assert.ok(sawCancel);
      assert.ok(scope.cancelledCaught && scope.expired());
      assert.equal(scope.task.cancelled(), false, "the scope's task is not left cancelled");
    });
  });

  it("a body done in time gives its result, and cancelledCaught stays false", async () => {
    await virtual(function* () {
      const scope = moveOnAfter(100, function* () {
        yield* sleep(10);
        return 42;
      });
      assert.equal(yield* scope, 42);
      assert.equal(scope.cancelledCaught, false);
      assert.equal(scope.expired(), false);
    });
  });

  it("a body that catches the cancellation and returns gives its value: expired, but nothing caught (trio's cancelled_caught)", async () => {
    await virtual(function* () {
      const scope = moveOnAfter(10, function* () {
        try {
          yield* sleep(1_000);
        } catch {
          return "cleaned up";
        }
        return "slow";
      });
      assert.equal(yield* scope, "cleaned up");
      assert.ok(scope.expired());
      assert.equal(scope.cancelledCaught, false);
    });
  });

  it("an async body is cancelled through scope.signal; an async caller awaits the scope", async () => {
    await virtual(async () => {
      const scope = moveOnAt(now() + 50, (s) =>
        new Promise<string>((_resolve, reject) => {
          s.signal.addEventListener("abort", () => reject(s.signal.reason));
        }));
      assert.equal(await scope, undefined);
      assert.ok(scope.cancelledCaught);
    });
  });

  it("moveOnAt takes a deadline on the loop clock; reschedule() moves it as for timeout()", async () => {
    await virtual(function* () {
      const t0 = now();
      const scope = moveOnAt(t0 + 50, function* (s) {
        s.reschedule(t0 + 200);
        yield* sleep(1_000);
      });
      yield* scope;
      assert.equal(now() - t0, 200);
      assert.equal(scope.when(), t0 + 200);
      assert.ok(scope.cancelledCaught);
    });
  });

  it("a timeout() inside expiring first raises its TimeoutError through the move-on scope", async () => {
    await virtual(function* () {
      const scope = moveOnAfter(100, function* () {
        yield* timeout(10, function* () {
          yield* sleep(1_000);
        });
      });
      const e = yield* catching(scope.task);
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.equal(scope.cancelledCaught, false);
    });
  });

  it("nested with timeout(), the outermost expired scope rules: moveOnAt outside ends quietly, timeoutAt inside sees the cancellation", async () => {
    await virtual(function* () {
      const deadline = now() + 10;
      let inner!: TimeoutScope;
      let innerSaw: unknown;
      const outer = moveOnAt(deadline, function* () {
        try {
          yield* timeoutAt(deadline, function* (s) {
            inner = s;
            yield* sleep(1_000);
          });
        } catch (e) {
          innerSaw = e;
          throw e;
        }
      });
      assert.equal(yield* outer, undefined);
      assert.ok(outer.cancelledCaught);
      assert.ok(innerSaw instanceof CancelledError && !(innerSaw instanceof TimeoutError), `got ${innerSaw}`);
      assert.ok(inner.expired() && !inner.cancelledCaught);
    });
  });

  it("nested with timeout(), the outermost expired scope rules: timeoutAt outside raises TimeoutError, moveOnAt inside does not catch", async () => {
    await virtual(function* () {
      const deadline = now() + 10;
      let inner!: ReturnType<typeof moveOnAt<void>>;
      let after = false;
      const e = yield* catching(timeoutAt(deadline, function* () {
        inner = moveOnAt(deadline, function* () {
          yield* sleep(1_000);
        });
        yield* inner;
        after = true; // never: the move-on scope passes the outer cancellation on
      }));
      assert.ok(e instanceof TimeoutError, `got ${e}`);
      assert.equal(after, false);
      assert.ok(inner.expired());
      assert.equal(inner.cancelledCaught, false);
    });
  });

  it("a cancellation from outside is not caught: the caller's task is cancelled", async () => {
    await virtual(function* () {
      let scope!: ReturnType<typeof moveOnAfter<void>>;
      const caller = spawn(function* () {
        scope = moveOnAfter(1_000, function* () {
          yield* sleep(10_000);
        });
        yield* scope;
      });
      yield* sleep(10);
      caller.cancel();
      const e = yield* catching(caller);
      assert.ok(e instanceof CancelledError, `got ${e}`);
      assert.ok(caller.cancelled());
      assert.equal(scope.cancelledCaught, false);
      assert.equal(scope.expired(), false);
    });
  });

  it("bad input fails at once with a clear error", async () => {
    await virtual(function* () {
      assert.throws(() => moveOnAfter(NaN, function* () {}), /moveOnAfter\(\): ms must be a number/);
      assert.throws(() => moveOnAt("soon" as unknown as number, function* () {}), /moveOnAt\(\): when must be a number/);
      assert.throws(() => moveOnAfter(10, 42 as never), /moveOnAfter\(\) expects a generator function/);
      assert.throws(
        () => moveOnAfter(10, function* () {}, { nmae: "x" } as never),
        (e: unknown) => e instanceof TypeError && /nmae/.test(e.message),
      );
      yield* sleep(0);
    });
  });
});
