/** Helpers for tests that expect a failure: they return the error, or fail the test. */
import assert from "node:assert/strict";
import type { Coroutine, Future } from "../mod.ts";

/** Waits on `f` (a future or task) in a coroutine and returns what it threw. */
export function* catching(f: Future<unknown>): Coroutine<unknown> {
  try {
    yield* f;
  } catch (e) {
    return e;
  }
  assert.fail("expected a failure, got a result");
}

/** Awaits `p` and returns what it rejected with. */
export async function rejection(p: PromiseLike<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected a rejection, got a result" });
}
