/**
 * Suite 7: 10k concurrent 200 ms sleeps, against the ideal 200 ms. The figure is the
 * wall time of the whole batch; the baseline is 10k native setTimeout promises. Each
 * contender runs in processes of its own, the rounds interleaved.
 */
import * as effection from "effection";
import { run, sleep, spawn, type Task } from "../../mod.ts";
import { emit, entriesOf, isolated, runtime, timed } from "../lib.ts";

const N = 10_000;
const MS = 200;

function* sleeper() {
  yield* sleep(MS);
}

async function sleeperAsync(): Promise<void> {
  await sleep(MS);
}

function* loopworkGenerators() {
  const tasks: Task<void>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(sleeper);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

function* loopworkAsync() {
  const tasks: Task<void>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(sleeperAsync);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

function nativeSleep(): Promise<void> {
  return new Promise((r) => setTimeout(r, MS));
}

async function native(): Promise<void> {
  const ps: Promise<void>[] = new Array(N);
  for (let i = 0; i < N; i++) ps[i] = nativeSleep();
  await Promise.all(ps);
}

function* effSleeper(): effection.Operation<void> {
  yield* effection.sleep(MS);
}

function* effectionAll(): effection.Operation<void> {
  const tasks: effection.Task<void>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = yield* effection.spawn(effSleeper);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

// Every contender in processes of its own (bench/lib.ts `isolated`), rounds interleaved.
const r = await isolated({
  native: timed(native),
  generators: timed(() => run(loopworkGenerators)),
  async: timed(() => run(loopworkAsync)),
  effection: timed(() => effection.run(effectionAll), 1, 1, 3),
}, { rounds: 5, warmup: 1, reps: 1 });
const entries = entriesOf(r, { unit: "ms" }, ["native setTimeout promises", "native"], [
  ["loopwork generator tasks", "generators"],
  ["loopwork async tasks", "async"],
  ["effection 4", "effection"],
]);

emit({ suite: "sleeps", title: `${N / 1000}k concurrent ${MS} ms sleeps (ideal: ${MS} ms)`, runtime, entries });
