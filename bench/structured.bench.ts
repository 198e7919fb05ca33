/**
 * What structured concurrency costs on top of bare tasks, measured as ratios against a
 * baseline taken in the same run (the machine is shared and noisy: absolute figures move,
 * ratios much less). Virtual clock; each child does one `yield*` of `sleep(0)`.
 *
 *   npx tsx bench/structured.bench.ts
 *   deno run -A bench/structured.bench.ts
 */
import { type Coroutine, gather, run, sleep, spawn, type Task, taskGroup, timeout, waitFor } from "../mod.ts";

function* child(i: number): Coroutine<number> {
  yield* sleep(0);
  return i;
}

const N = 10_000;

const cases: Record<string, () => Coroutine<void>> = {
  "spawn N, yield* each (baseline)": function* () {
    const tasks: Task<number>[] = new Array(N);
    for (let i = 0; i < N; i++) tasks[i] = spawn(child(i));
    for (let i = 0; i < N; i++) yield* tasks[i]!;
  },
  "taskGroup with N children": function* () {
    yield* taskGroup(function* (tg) {
      for (let i = 0; i < N; i++) tg.spawn(child(i));
    });
  },
  "gather of N generator objects": function* () {
    const gens: Coroutine<number>[] = new Array(N);
    for (let i = 0; i < N; i++) gens[i] = child(i);
    yield* gather(gens);
  },
  "N tasks each in timeout(1000)": function* () {
    const tasks: Task<number>[] = new Array(N);
    for (let i = 0; i < N; i++) tasks[i] = timeout(1_000, function* () { return yield* child(i); });
    for (let i = 0; i < N; i++) yield* tasks[i]!;
  },
  "N waitFor(task, 1000)": function* () {
    const tasks: Task<number>[] = new Array(N);
    for (let i = 0; i < N; i++) tasks[i] = waitFor(spawn(child(i)), 1_000);
    for (let i = 0; i < N; i++) yield* tasks[i]!;
  },
  "N taskGroups of 1 child": function* () {
    const tasks: Task<number>[] = new Array(N);
    for (let i = 0; i < N; i++) tasks[i] = taskGroup(function* (tg) { return yield* tg.spawn(child(i)); });
    for (let i = 0; i < N; i++) yield* tasks[i]!;
  },
};

async function timeOnce(body: () => Coroutine<void>): Promise<number> {
  const t0 = performance.now();
  await run(body, { clock: "virtual" });
  return performance.now() - t0;
}

const rounds = 11;
const samples: Record<string, number[]> = {};
for (const name of Object.keys(cases)) samples[name] = [];
for (let r = 0; r < rounds; r++) {
  // Interleave the cases so a noisy moment hurts them all alike.
  for (const [name, body] of Object.entries(cases)) samples[name]!.push(await timeOnce(body));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples["spawn N, yield* each (baseline)"]!);
console.log(`N = ${N} children, median of ${rounds} rounds`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`${name.padEnd(34)} ${m.toFixed(2).padStart(8)} ms  ${(m / N * 1000).toFixed(2).padStart(7)} µs/child  x${(m / base).toFixed(2)}`);
}
