// Copyright 2018-2026 the Deno authors. MIT license.
// Translated from denoland/std async/unstable_mux_async_iterator_test.ts (std 1.5.0, commit ca58f94); see ./README.md.
import { test, withResolvers, fromAsync, assert, assertEquals, assertGreater, assertGreaterOrEqual, assertInstanceOf, assertLess, assertNotEquals, assertRejects, assertStrictEquals, assertStringIncludes, assertThrows, FakeTime } from "./_shim.ts";
import { MuxAsyncIterator } from "../../std.ts";

async function* gen123(): AsyncIterableIterator<number> {
  yield 1;
  yield 2;
  yield 3;
}

async function* gen456(): AsyncIterableIterator<number> {
  yield 4;
  yield 5;
  yield 6;
}

test("(unstable) MuxAsyncIterator() works with constructor iterables", async () => {
  const mux = new MuxAsyncIterator(gen123(), gen456());
  const results = new Set(await fromAsync(mux));
  assertEquals(results.size, 6);
  assertEquals(results, new Set([1, 4, 2, 5, 3, 6]));
});
