/**
 * Suite 7: 10k concurrent 200 ms sleeps, against the ideal 200 ms. The figure is the
 * wall time of the whole batch; the baseline is 10k native setTimeout promises.
 */
import * as effection from "effection";
import { run, sleep, spawn, type Task } from "../../mod.ts";
import { emit, runtime, timeMedian } from "../lib.ts";

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

const entries = [
  { name: "native setTimeout promises", value: await timeMedian(native, 5, 1), unit: "ms", baseline: true },
  { name: "loopwork generator tasks", value: await timeMedian(() => run(loopworkGenerators), 5, 1), unit: "ms" },
  { name: "loopwork async tasks", value: await timeMedian(() => run(loopworkAsync), 5, 1), unit: "ms" },
  { name: "effection 4", value: await timeMedian(() => effection.run(effectionAll), 5, 1), unit: "ms" },
];

emit({ suite: "sleeps", title: `${N / 1000}k concurrent ${MS} ms sleeps (ideal: ${MS} ms)`, runtime, entries });
