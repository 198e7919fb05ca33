/**
 * Fault tests for the small-values encoder's walk (src/pool/small-values.ts): an object met
 * twice is found however many containers come before it (the first ones are kept in a list,
 * the rest in a Set), nothing met in one value is taken for met in the next, and a Proxy is
 * left to node:v8 before any of its traps runs (node:v8 refuses one without running a trap).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { deserialize, serialize } from "node:v8";
import { decodeValue, encodeValue } from "../../src/pool/protocol.ts";
import { encodeSmall } from "../../src/pool/small-values.ts";
import { describe, it } from "../harness.ts";

const v8Read = (text: string): unknown => deserialize(Buffer.from(text, "base64"));
const v8Text = (v: unknown): string => Buffer.from(serialize(v)).toString("base64");

describe("the small-values encoder finds an object met twice wherever it is", () => {
  it("a repeat of any of 40 containers is left to node:v8, and keeps its identity", () => {
    const objects = Array.from({ length: 40 }, (_, i) => ({ i }));
    assert.ok(encodeSmall(objects) !== undefined, "40 distinct objects are small");
    for (const [first, again] of [[0, 1], [3, 15], [15, 16], [16, 17], [20, 39], [39, 0], [5, 30]] as const) {
      const v = objects.slice();
      v[again] = v[first]!;
      assert.equal(encodeSmall(v), undefined, `object ${first} met again at ${again}`);
      const back = decodeValue(encodeValue(v)) as object[];
      assert.equal(back[again], back[first], "one object after the trip");
    }
  });

  it("the containers of one value are forgotten before the next", () => {
    const many = Array.from({ length: 30 }, (_, i) => [i]);
    assert.ok(encodeSmall(many) !== undefined);
    // Each of these was met in the value before: written afresh, not declined.
    for (const a of [many[0], many[20], many[29]]) assert.equal(encodeSmall(a), v8Text(a));
    // ... and, past the first containers of the next value too.
    const next = [...Array.from({ length: 20 }, (_, i) => ({ i })), many[20], many[29]];
    assert.ok(encodeSmall(many) !== undefined);
    assert.equal(encodeSmall(next), v8Text(next));
  });

  it("arrays of objects with repeats: declined exactly when one repeats, and read back as node:v8 reads its own (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(60), { maxLength: 60 }), (distinct, picks) => {
        const pool = Array.from({ length: distinct }, (_, i) => (i % 3 === 0 ? [i] : { i }));
        const v = picks.map((p) => pool[p % distinct]!);
        const repeats = new Set(v).size !== v.length;
        const mine = encodeSmall(v);
        assert.equal(mine === undefined, repeats, repeats ? "a repeat is declined" : "no repeat: small");
        assert.deepStrictEqual(decodeValue(encodeValue(v)), v8Read(v8Text(v)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("a Proxy is left to node:v8 before any of its traps runs", () => {
  it("neither getPrototypeOf nor any other trap runs, and node:v8's error is the one thrown", () => {
    const traps: string[] = [];
    const handler: ProxyHandler<object> = {};
    for (const t of ["getPrototypeOf", "ownKeys", "get", "getOwnPropertyDescriptor", "has"] as const) {
      (handler as Record<string, unknown>)[t] = (...args: unknown[]) => {
        traps.push(t);
        return (Reflect[t] as (...a: unknown[]) => unknown)(...args);
      };
    }
    for (const target of [{ a: 1 }, [1, 2], Object.create(null) as object]) {
      const p = new Proxy(target, handler);
      let message = "";
      assert.throws(() => serialize(p), (e: unknown) => e instanceof Error && (message = e.message) !== "", "node:v8 refuses a Proxy");
      assert.deepEqual(traps, [], "node:v8 ran no trap");
      for (const v of [p, [1, { inner: p }]]) assert.throws(() => encodeValue(v), (e: unknown) => e instanceof Error && e.message === message);
      assert.deepEqual(traps, [], "no trap ran here either");
    }
  });
});
