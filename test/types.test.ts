// Type-level rules, checked by `tsc -p tsconfig.test.json` (part of `npm test`) and by
// `deno test`'s type check; the runtime assertions make the file a real test as well.
import assert from "node:assert/strict";
import { type Coroutine, Future, run, sleep, spawn, type Task } from "../mod.ts";
import { describe, it } from "./harness.ts";

function* typed(): Coroutine<number> {
  const n: number = yield* sleep(10, 5);
  // @ts-expect-error: a Future<number> does not yield a string
  const s: string = yield* sleep(10, 5);
  void s;
  return n;
}

describe("types", () => {
  it("generic types flow through yield*, spawn and run", async () => {
    const out = await run(function* () {
      const t: Task<number> = spawn(typed());
      const u: Task<string> = spawn(async () => "s");
      const f = new Future<boolean>();
      f.setResult(true);
      const b: boolean = yield* f;
      return { n: yield* t, s: yield* u, b };
    }, { clock: "virtual" });
    const check: { n: number; s: string; b: boolean } = out;
    assert.deepEqual(check, { n: 5, s: "s", b: true });
  });
});

// The shapes loopwork declares for tinypool and bullmq (so that it type-checks without them)
// must fit the real packages: a mismatch is a compile error here.
import type * as RealTinypool from "tinypool";
import type * as RealBullmq from "bullmq";
import type {
  BullmqQueue,
  BullmqQueueEvents,
  BullmqQueueEventsProducer,
  TinypoolModule,
  TinypoolOptions,
  TinypoolPool,
  TinypoolTask,
  TinypoolWorker,
} from "../src/pool/package-types.ts";

describe("types of the npm packages the pool loads", () => {
  it("tinypool and bullmq fit the shapes in src/pool/package-types.ts", async () => {
    const fits = [
      (p: InstanceType<typeof RealTinypool.default>): TinypoolPool => p,
      (t: RealTinypool.Task): TinypoolTask => t,
      (w: RealTinypool.TinypoolWorker): TinypoolWorker => w,
      (m: typeof RealTinypool.markMovable): TinypoolModule["markMovable"] => m,
      (o: Omit<TinypoolOptions, "taskQueue">): Omit<RealTinypool.Options, "taskQueue"> => o,
      (q: RealBullmq.Queue): BullmqQueue => q,
      (p: RealBullmq.QueueEventsProducer): BullmqQueueEventsProducer => p,
      (e: RealBullmq.QueueEvents): BullmqQueueEvents => e,
    ];
    const { loadTinypool } = await import("../src/pool/packages.ts");
    const t = await loadTinypool();
    assert.equal(typeof t.default, "function");
    assert.equal(typeof t.markMovable, "function");
    assert.equal(fits.length, 8);
  });
});
