/**
 * Suite 2: 1M switches. Two tasks hand a value back and forth; every wake-up is a switch.
 * Baseline: a loop of 1M `await null` (one microtask hop each). Also 1M `yield* yieldNow()`
 * in one task, as users write a yield to the loop (and the bare `yield`, its cheapest form).
 * Each contender runs in processes of its own; ratios are taken round by round against
 * `await null`, the contenders interleaved.
 */
import * as effection from "effection";
import { Future, run, spawn, yieldNow } from "../../mod.ts";
import { emit, entriesOf, isolated, runtime, timed } from "../lib.ts";

const STEPS = 1_000_000;
const HALF = STEPS / 2;

interface Box {
  fut: Future<number>;
}

function* server(mine: Box, theirs: Box) {
  for (let i = 0; i < HALF; i++) {
    theirs.fut.setResult(i);
    yield* mine.fut;
    mine.fut = new Future<number>();
  }
}

function* client(mine: Box, theirs: Box) {
  for (let i = 0; i < HALF; i++) {
    yield* mine.fut;
    mine.fut = new Future<number>();
    if (i < HALF - 1) theirs.fut.setResult(i);
  }
}

function* loopworkPingPong() {
  const a: Box = { fut: new Future<number>() };
  const b: Box = { fut: new Future<number>() };
  const tb = spawn(client(b, a));
  const ta = spawn(server(a, b));
  yield* tb;
  ta.cancel();
}

async function awaitNull(): Promise<void> {
  for (let i = 0; i < STEPS; i++) await null;
}

async function nativePingPong(): Promise<void> {
  let wakeA!: () => void;
  let wakeB!: () => void;
  const b = (async () => {
    for (let i = 0; i < HALF; i++) {
      await new Promise<void>((r) => (wakeB = r));
      wakeA();
    }
  })();
  const a = (async () => {
    for (let i = 0; i < HALF; i++) {
      const p = new Promise<void>((r) => (wakeA = r));
      wakeB();
      await p;
    }
  })();
  await Promise.all([a, b]);
}

interface EffBox {
  r: effection.WithResolvers<number>;
}

function* effServer(mine: EffBox, theirs: EffBox): effection.Operation<void> {
  for (let i = 0; i < HALF; i++) {
    theirs.r.resolve(i);
    yield* mine.r.operation;
    mine.r = effection.withResolvers<number>();
  }
}

function* effClient(mine: EffBox, theirs: EffBox): effection.Operation<void> {
  for (let i = 0; i < HALF; i++) {
    yield* mine.r.operation;
    mine.r = effection.withResolvers<number>();
    if (i < HALF - 1) theirs.r.resolve(i);
  }
}

function* effectionPingPong(): effection.Operation<void> {
  const a: EffBox = { r: effection.withResolvers<number>() };
  const b: EffBox = { r: effection.withResolvers<number>() };
  const tb = yield* effection.spawn(() => effClient(b, a));
  const ta = yield* effection.spawn(() => effServer(a, b));
  yield* tb;
  yield* ta.halt();
}

function* loopworkYieldNow() {
  for (let i = 0; i < STEPS; i++) yield* yieldNow();
}

function* loopworkBareYield() {
  for (let i = 0; i < STEPS; i++) yield;
}

const rate = (ms: number) => STEPS / ms / 1000; // millions of switches per second

// Every contender in processes of its own (bench/lib.ts `isolated`), rounds interleaved.
const r = await isolated({
  awaitNull: timed(awaitNull),
  nativePingPong: timed(nativePingPong),
  pingPong: timed(() => run(loopworkPingPong)),
  effection: timed(() => effection.run(effectionPingPong), 1, 1, 3),
  yieldNow: timed(() => run(loopworkYieldNow)),
  bare: timed(() => run(loopworkBareYield)),
});
// A rate's ratio: the baseline's time over this one's, round by round.
const entries = entriesOf(r, { unit: "M/s", rate }, ["native await null", "awaitNull"], [
  ["native promise ping-pong", "nativePingPong"],
  ["loopwork generator tasks", "pingPong"],
  ["effection 4", "effection"],
  ["loopwork yield* yieldNow(), one task", "yieldNow"],
  ["loopwork bare yield, one task (cheapest form)", "bare"],
]);

emit({ suite: "switch", title: `${STEPS / 1e6}M switches between two tasks`, runtime, entries });
