/**
 * Suite: the combinators at scale, as users write them. Baseline: 100k async functions and
 * Promise.all. Rows: a task group of 100k children (`tg.spawn(gen(i))`); gather's own cost
 * (100k pending futures, settled after the call) against Promise.all's own (100k pending
 * promises, settled after the call); and the cost per item of `asCompleted` and `wait` at
 * 10k, 80k and 200k items, whose ratio is against the same combinator at 10k (flat means
 * linear). Each contender, and each size of a per-item row, runs in processes of its own;
 * ratios are taken round by round, the contenders interleaved.
 */
import { asCompleted, Future, gather, run, taskGroup, wait } from "../../mod.ts";
import { type Contender, emit, entriesOf, isolated, nativeSpawnAll, runtime, timed } from "../lib.ts";

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
const PER_ITEM = { promiseAll: promiseAllPerItem, asCompleted: asCompletedPerItem, wait: waitPerItem };

/**
 * A per-item contender at one size. Warm-up and kept runs are counted in items, not runs
 * (at least 400k items of warm-up, 200k kept): a 10k row warmed by two runs would still run
 * colder code than a 200k row, and look dearer per item than it is.
 */
function perItem(fn: (n: number) => Promise<number>, n: number): Contender {
  return { measure: () => fn(n), warmup: Math.max(2, Math.ceil(400_000 / n)), reps: Math.max(3, Math.ceil(200_000 / n)) };
}

// Every contender, and every size of a per-item row, in processes of its own (bench/lib.ts
// `isolated`), rounds interleaved: no row runs in the garbage another row or size left.
const contenders: Record<string, Contender> = {
  native: timed(native),
  group: timed(() => run(group)),
  promiseAllAlone: timed(promiseAllAlone),
  gatherAlone: timed(() => run(gatherAlone)),
};
for (const [k, fn] of Object.entries(PER_ITEM)) for (const n of SIZES) contenders[`${k}@${n}`] = perItem(fn, n);
const r = await isolated(contenders, { rounds: 5 });

const entries = [
  ...entriesOf(r, { unit: "ms" }, ["native Promise.all", "native"], [
    [`loopwork taskGroup, ${N / 1000}k children tg.spawn(gen(i))`, "group"],
    [`Promise.all alone, ${N / 1000}k pending promises`, "promiseAllAlone"],
    // gather's own cost against Promise.all's own, round by round.
    [`loopwork gather alone, ${N / 1000}k pending futures (ratio: vs Promise.all alone)`, "gatherAlone", "promiseAllAlone"],
  ]),
  // The per-item rows, each size against 10k of the same row.
  ...entriesOf(
    r,
    { unit: "µs" },
    undefined,
    [["native Promise.all", "promiseAll"], ["loopwork asCompleted", "asCompleted"], ["loopwork wait", "wait"]].flatMap(([name, k]) =>
      SIZES.map((n) => [`${name}, ${n / 1000}k items: µs per item (ratio: vs 10k)`, `${k}@${n}`, `${k}@${SIZES[0]}`] as const)
    ),
  ),
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
