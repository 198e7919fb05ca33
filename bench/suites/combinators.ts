/**
 * Suite: the combinators at scale, as users write them. Baseline: 100k async functions and
 * Promise.all. Rows: a task group of 100k children (`tg.spawn(gen(i))`); gather's own cost
 * (100k pending futures, settled after the call) against Promise.all's own (100k pending
 * promises, settled after the call); and the cost per item of `asCompleted` and `wait` at
 * 10k, 80k and 200k items, whose ratio is against the same combinator at 10k (flat means
 * linear). Time ratios are taken round by round, the contenders interleaved.
 */
import { asCompleted, Future, gather, run, taskGroup, wait } from "../../mod.ts";
import { emit, type Entry, heapUsed, nativeSpawnAll, runtime, timeInterleaved } from "../lib.ts";

const N = 100_000;

function* gen(i: number): Generator<undefined, number, unknown> {
  return i;
}

const native = () => nativeSpawnAll(N);

function* group() {
  yield* taskGroup(function* (tg) {
    for (let i = 0; i < N; i++) tg.spawn(gen(i));
  });
}

async function promiseAllAlone(): Promise<void> {
  const settle: ((v: number) => void)[] = new Array(N);
  const ps: Promise<number>[] = new Array(N);
  for (let i = 0; i < N; i++) ps[i] = new Promise<number>((r) => (settle[i] = r));
  const all = Promise.all(ps);
  for (let i = 0; i < N; i++) settle[i]!(i);
  await all;
}

function* gatherAlone() {
  const fs: Future<number>[] = new Array(N);
  for (let i = 0; i < N; i++) fs[i] = new Future<number>();
  const all = gather(fs);
  for (let i = 0; i < N; i++) fs[i]!.setResult(i);
  yield* all;
}

const t = await timeInterleaved({
  native,
  group: () => run(group),
  promiseAllAlone,
  gatherAlone: () => run(gatherAlone),
}, "native");

/** µs per item: Promise.all over `n` pending promises, settled one by one (for comparison). */
async function promiseAllPerItem(n: number): Promise<number> {
  const t0 = performance.now();
  const settle: ((v: number) => void)[] = new Array(n);
  const ps = Array.from({ length: n }, (_, i) => new Promise<number>((r) => (settle[i] = r)));
  const all = Promise.all(ps);
  for (let i = 0; i < n; i++) settle[i]!(i);
  await all;
  return ((performance.now() - t0) * 1000) / n;
}

/** µs per item: `n` futures settled one by one, their results taken in completion order. */
async function asCompletedPerItem(n: number): Promise<number> {
  const t0 = performance.now();
  await run(function* () {
    const fs: Future<number>[] = Array.from({ length: n }, () => new Future<number>());
    const it = asCompleted(fs);
    for (let i = 0; i < n; i++) fs[i]!.setResult(i);
    for (const next of it) yield* next;
  });
  return ((performance.now() - t0) * 1000) / n;
}

/** µs per item: `wait()` on `n` futures, settled one by one. */
async function waitPerItem(n: number): Promise<number> {
  const t0 = performance.now();
  await run(function* () {
    const fs: Future<number>[] = Array.from({ length: n }, () => new Future<number>());
    const w = wait(fs);
    for (let i = 0; i < n; i++) fs[i]!.setResult(i);
    const { done } = yield* w;
    if (done.size !== n) throw new Error("wait() lost futures");
  });
  return ((performance.now() - t0) * 1000) / n;
}

const SIZES = [10_000, 80_000, 200_000];

/** Per-item cost at each size, median over interleaved rounds; ratios against the first size. */
async function perItem(fn: (n: number) => Promise<number>, rounds = 5): Promise<number[]> {
  const xs: number[][] = SIZES.map(() => []);
  for (let r = 0; r < rounds + 1; r++) {
    for (let s = 0; s < SIZES.length; s++) {
      heapUsed(); // a full collection first (with --expose-gc): each size starts from a clean heap
      const v = await fn(SIZES[s]!);
      if (r > 0) xs[s]!.push(v); // the first round warms up
    }
  }
  return xs.map((v) => v.sort((a, b) => a - b)[v.length >> 1]!);
}

const pa = await perItem(promiseAllPerItem);
const ac = await perItem(asCompletedPerItem);
const wt = await perItem(waitPerItem);
const flat = (name: string, xs: number[]): Entry[] =>
  xs.map((v, i) => ({ name: `${name}, ${SIZES[i]! / 1000}k items: µs per item (ratio: vs 10k)`, value: v, unit: "µs", ratio: v / xs[0]! }));

const entries: Entry[] = [
  { name: "native Promise.all", value: t.native!.ms, unit: "ms", baseline: true },
  { name: `loopwork taskGroup, ${N / 1000}k children tg.spawn(gen(i))`, value: t.group!.ms, unit: "ms", ratio: t.group!.ratio },
  { name: `Promise.all alone, ${N / 1000}k pending promises`, value: t.promiseAllAlone!.ms, unit: "ms", ratio: t.promiseAllAlone!.ratio },
  {
    name: `loopwork gather alone, ${N / 1000}k pending futures (ratio: vs Promise.all alone)`,
    value: t.gatherAlone!.ms,
    unit: "ms",
    ratio: t.gatherAlone!.ratio / t.promiseAllAlone!.ratio,
  },
  ...flat("native Promise.all", pa),
  ...flat("loopwork asCompleted", ac),
  ...flat("loopwork wait", wt),
];

emit({
  suite: "combinators",
  title: "combinators at scale: task group, gather, asCompleted, wait",
  runtime,
  entries,
  notes: [
    "the ratios of the per-item rows (native Promise.all, asCompleted, wait) compare the cost per item with 10k items' of the same row: flat is linear",
  ],
});
