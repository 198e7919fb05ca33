/**
 * Suite 1: spawn and await 100k trivial tasks. Baseline: 100k trivial async functions and
 * Promise.all. Every contender uses a hoisted function, so no closure is created per task.
 */
import pLimit from "p-limit";
import * as effection from "effection";
import { run, spawn, type Task } from "../../mod.ts";
import { emit, runtime, timeMedian } from "../lib.ts";

const N = 100_000;

function* trivial(): Generator<undefined, number, unknown> {
  return 1;
}

// deno-lint-ignore require-await
async function trivialAsync(): Promise<number> {
  return 1;
}

function* loopworkGenerators() {
  const tasks: Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(trivial);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

function* loopworkAsync() {
  const tasks: Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(trivialAsync);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

async function native(): Promise<void> {
  const ps: Promise<number>[] = new Array(N);
  for (let i = 0; i < N; i++) ps[i] = trivialAsync();
  await Promise.all(ps);
}

function* effectionTrivial(): effection.Operation<number> {
  return 1;
}

function* effectionSpawnAll(): effection.Operation<void> {
  const tasks: effection.Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = yield* effection.spawn(effectionTrivial);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

async function withPLimit(): Promise<void> {
  const limit = pLimit(N);
  const ps: Promise<number>[] = new Array(N);
  for (let i = 0; i < N; i++) ps[i] = limit(trivialAsync);
  await Promise.all(ps);
}

const entries = [
  { name: "native Promise.all", value: await timeMedian(native), unit: "ms", baseline: true },
  { name: "loopwork generator tasks", value: await timeMedian(() => run(loopworkGenerators)), unit: "ms" },
  { name: "loopwork async tasks", value: await timeMedian(() => run(loopworkAsync)), unit: "ms" },
  { name: "effection 4", value: await timeMedian(() => effection.run(effectionSpawnAll), 3, 1), unit: "ms" },
  { name: "p-limit 7", value: await timeMedian(withPLimit), unit: "ms" },
];

emit({ suite: "spawn", title: `spawn + await ${N / 1000}k trivial tasks`, runtime, entries });
