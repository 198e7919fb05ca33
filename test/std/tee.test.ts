// Copyright 2018-2026 the Deno authors. MIT license.
// Translated from denoland/std async/tee_test.ts (std 1.5.0, commit ca58f94); see ./README.md.
import { test, withResolvers, fromAsync, assert, assertEquals, assertGreater, assertGreaterOrEqual, assertInstanceOf, assertLess, assertNotEquals, assertRejects, assertStrictEquals, assertStringIncludes, assertThrows, FakeTime } from "./_shim.ts";
import { tee } from "../../std.ts";

/** An example async generator */
const gen = async function* iter() {
  yield 1;
  yield 2;
  yield 3;
};

test("tee() handles 2 branches", async () => {
  const iter = gen();
  const [res0, res1] = tee(iter).map(async (src) => await fromAsync(src));
  assertEquals(
    await Promise.all([res0, res1]),
    [
      [1, 2, 3],
      [1, 2, 3],
    ],
  );
});

test("tee() handles 3 branches with immediate consumption", async () => {
  const iter = gen();
  const [res0, res1, res2] = tee(iter, 3).map(async (src) =>
    await fromAsync(src)
  );
  assertEquals(
    await Promise.all([res0, res1, res2]),
    [
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ],
  );
});

test("tee() handles 3 branches with delayed consumption", async () => {
  const iter = gen();
  const iters = tee(iter, 3);

  await new Promise<void>((resolve) => {
    setTimeout(() => resolve(), 20);
  });

  assertEquals(
    await Promise.all(iters.map(async (src) => await fromAsync(src))),
    [
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ],
  );
});

test("tee() handles concurrent next() calls", async () => {
  const [left] = tee(gen());
  const l = left[Symbol.asyncIterator]();
  assertEquals(await Promise.all([l.next(), l.next(), l.next(), l.next()]), [{
    value: 1,
    done: false,
  }, {
    value: 2,
    done: false,
  }, {
    value: 3,
    done: false,
  }, {
    value: undefined,
    done: true,
  }]);
});
