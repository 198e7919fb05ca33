import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { deserialize, serialize } from "node:v8";
import { decodeValue, encodeValue } from "../src/pool/protocol.ts";
import { decodeSmall, encodeSmall, NOT_SMALL } from "../src/pool/small-values.ts";
import * as namespace from "./fixtures/tasks.ts";
import { describe, it } from "./harness.ts";

/** node:v8's own encoding, as encodeValue wrote it before small values were written in JavaScript. */
const v8Text = (v: unknown): string => Buffer.from(serialize(v)).toString("base64");
const v8Read = (text: string): unknown => deserialize(Buffer.from(text, "base64"));

/** Small plain values: written here, read back by node:v8 as themselves. */
const small: Array<[string, unknown]> = [
  ["undefined", undefined],
  ["null", null],
  ["true", true],
  ["false", false],
  ["0", 0],
  ["-0", -0],
  ["int32 extremes", [2 ** 31 - 1, -(2 ** 31), 2 ** 30, -(2 ** 30) - 1]],
  ["doubles", [1.5, -2.25, 2 ** 31, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity]],
  ["empty string", ""],
  ["latin-1 string", "héllo wörld ÿ"],
  ["two-byte strings", ["→ ✓", "😀", "a😀b", "\ud800 lone", "x\udfff"]],
  ["the empty array", []],
  ["an args array", [1, "two", { three: 3 }, [4, [5]], null, undefined, true]],
  ["a plain object", { a: 1, b: "x", c: [1, 2.5], d: { e: null, f: undefined }, "with space": 0 }],
  ["an object with integer-like keys", { 1: "one", b: 2, 0: "zero", "01": "not an index" }],
  ["a null-prototype object", Object.assign(Object.create(null) as object, { k: "v" })],
  ["a key Object.prototype has", { toString: 1, constructor: "c", hasOwnProperty: null }],
  ["a response", { ok: true, value: { rows: [[1, 2], [3, 4]], name: "τ" } }],
  ["a request", { op: "call", module: "file:///srv/app/tasks.ts", task: "noop", args: [] }],
];

/** Values left to node:v8: `encodeSmall` declines them, and encodeValue's text is node:v8's. */
const shared = { s: 1 };
const cyclic: { self?: unknown } = {};
cyclic.self = cyclic;
const sparse = [1, , 3];
const decorated = Object.assign([1, 2], { extra: true });
class Point {
  constructor(public x = 1) {}
}
const declined: Array<[string, unknown]> = [
  ["a Date", new Date(0)],
  ["a Map", new Map([[1, 2]])],
  ["a bigint", 10n],
  ["a typed array", new Uint8Array([1, 2])],
  ["a class instance", new Point()],
  ["an object met twice", [shared, shared]],
  ["a sparse array", sparse],
  ["an array with a property", decorated],
  ["an own __proto__ key", JSON.parse('{"__proto__": {"polluted": 1}}')],
  ["a long string", "x".repeat(5_000)],
  ["a deep value", JSON.parse("[".repeat(40) + "]".repeat(40))],
  ["a Proxy", new Proxy({ a: 1 }, {})],
];

describe("small values cross in V8's serialisation, written in JavaScript", () => {
  it("node:v8 reads what encodeSmall writes as the value itself", () => {
    for (const [what, v] of small) {
      const text = encodeSmall(v);
      assert.ok(text !== undefined, `${what} is written here`);
      assert.deepStrictEqual(v8Read(text), v8Read(v8Text(v)), what);
      assert.ok(Object.is(v8Read(text), v) || typeof v === "object", what);
    }
  });

  it("the bytes are node:v8's own, but for how a number or an object's integer key is written", () => {
    // (V8 writes an integer in an array of doubles as a double, a key "1" as the number 1.)
    const numbersAside = ["an object with integer-like keys", "int32 extremes", "doubles", "a plain object"];
    for (const [what, v] of small) {
      if (numbersAside.includes(what)) continue;
      assert.equal(encodeSmall(v), v8Text(v), what);
    }
  });

  it("decodeSmall reads node:v8's text of small values, integer keys too", () => {
    for (const [what, v] of small) {
      const got = decodeSmall(v8Text(v));
      assert.notEqual(got, NOT_SMALL, what);
      assert.deepStrictEqual(got, v8Read(v8Text(v)), what);
    }
    const o = decodeSmall(v8Text({ toString: 1 })) as Record<string, unknown>;
    assert.ok(Object.hasOwn(o, "toString"), "a key Object.prototype has is the object's own");
  });

  it("any other value is left to node:v8: the same text, the same value back (identity, cycles, holes)", () => {
    for (const [what, v] of declined) {
      assert.equal(encodeSmall(v), undefined, `${what} is declined`);
      if (what === "a Proxy") continue;
      assert.equal(encodeValue(v), v8Text(v), what);
      const read = decodeSmall(v8Text(v));
      if (read !== NOT_SMALL) assert.deepStrictEqual(read, v8Read(v8Text(v)), what);
      assert.deepStrictEqual(decodeValue(encodeValue(v)), v8Read(v8Text(v)), what);
    }
    for (const v of [[shared, shared], cyclic, sparse, decorated, JSON.parse('{"__proto__": 1}')]) {
      assert.equal(decodeSmall(v8Text(v)), NOT_SMALL, "node:v8 reads references, holes, extra properties, __proto__");
    }
    const [a, b] = decodeValue(encodeValue([shared, shared])) as object[];
    assert.equal(a, b, "an object met twice is one object after the trip");
    const c = decodeValue(encodeValue(cyclic)) as { self: unknown };
    assert.equal(c.self, c);
    assert.deepStrictEqual(Object.getPrototypeOf(decodeValue(encodeValue(JSON.parse('{"__proto__": {"p": 1}}')))), Object.prototype);
  });

  it("what node:v8 cannot clone fails as it did, naming the same thing", () => {
    for (const v of [new Proxy({ a: 1 }, {}), { f() {} }, [Symbol("s")], (function () {
      // deno-lint-ignore prefer-rest-params
      return arguments;
    })(), namespace]) {
      let v8Error: unknown;
      try {
        serialize(v);
      } catch (e) {
        v8Error = e;
      }
      assert.ok(v8Error instanceof Error, "node:v8 refuses it");
      assert.throws(() => encodeValue(v), (e: unknown) => e instanceof Error && e.message === (v8Error as Error).message);
    }
  });

  it("text that is not a small value (or not base64 at all) is node:v8's to read, and to refuse", () => {
    for (const text of ["", "not base64!", "/w8", "AAAA", "/w9vIgFhSQJ7", "/w9vIgFhSQJ7AQ==x"]) {
      assert.equal(decodeSmall(text), NOT_SMALL, text);
    }
    let v8Error: unknown;
    try {
      v8Read("AAAA");
    } catch (e) {
      v8Error = e;
    }
    assert.throws(() => decodeValue("AAAA"), (e: unknown) => e instanceof Error && e.message === (v8Error as Error)?.message);
  });

  it("a getter that throws fails the encoding with its error; one that encodes a value itself gets it right", () => {
    const boom = new Error("getter failed");
    assert.throws(() => encodeValue({ get x() {
      throw boom;
    } }), (e: unknown) => e === boom);
    assert.equal(encodeValue([1, "a"]), v8Text([1, "a"]), "the next value is written afresh");
    let inner = "";
    const outer = encodeValue({ a: 1, get b() {
      inner = encodeValue({ nested: [1, 2] });
      return 2;
    }, c: "three" });
    assert.deepStrictEqual(decodeValue(outer), { a: 1, b: 2, c: "three" });
    assert.deepStrictEqual(decodeValue(inner), { nested: [1, 2] });
  });
});

/**
 * Any value made of what a call carries — primitives (with -0, NaN, lone surrogates), strings of
 * every width, arrays (dense, sparse, with holes made by deletion), plain objects with integer-like,
 * `__proto__` and prototype-named keys, shared and repeated sub-values — read back after
 * encodeValue exactly as node:v8 reads its own bytes, whichever side wrote them.
 */
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom("0", "1", "01", "-1", "4294967294", "4294967295", "1e3", "__proto__", "toString", "constructor", "length"),
  fc.nat({ max: 2 ** 32 }).map(String),
);
const leaf = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0, -0, NaN, Infinity, -Infinity, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 2 ** 53),
  fc.integer(),
  fc.double(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.string({ maxLength: 1200 }),
);
const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object"), tie("shared")),
  array: fc.oneof(
    fc.array(tie("value"), { maxLength: 8 }),
    fc.sparseArray(tie("value"), { maxLength: 8 }),
  ),
  object: fc.oneof(
    fc.dictionary(key, tie("value"), { maxKeys: 6 }).map((entries) => {
      // defineProperty, so "__proto__" is an own key as JSON.parse makes it, not the prototype
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(entries)) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }).map((entries) => Object.assign(Object.create(null) as object, entries)),
  ),
  shared: tie("value").map((v) => [v, v, { again: v }]),
}));

describe("small values: any value of the shapes calls carry reads back as node:v8 reads its own bytes", () => {
  it("encodeValue → decodeValue, node:v8 reading encodeSmall's bytes, and decodeSmall reading node:v8's, all agree (property)", () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        const expected = v8Read(v8Text(v));
        assert.deepStrictEqual(decodeValue(encodeValue(v)), expected, "encodeValue then decodeValue");
        const mine = encodeSmall(v);
        if (mine !== undefined) assert.deepStrictEqual(v8Read(mine), expected, "node:v8 reading encodeSmall's text");
        const read = decodeSmall(v8Text(v));
        if (read !== NOT_SMALL) assert.deepStrictEqual(read, expected, "decodeSmall reading node:v8's text");
      }),
      { numRuns: 3000 },
    );
  });
});
