/**
 * Suite 1: spawn and await 100k tasks, written as users write them. Baseline: 100k async
 * functions and Promise.all. The main rows are `spawn(gen(i))` of a hoisted generator
 * function, then `gather`, and `spawn(async (signal) => …)`; the cheapest forms (a
 * hoisted function with no argument, awaited one by one; an async function that takes no
 * signal) are extra rows, and so is the floor of any API that gives each task its own
 * signal (native async functions, each with a new AbortController), and so is an async task
 * that keeps its task and would make the signal only if it read it. Each contender runs in
 * processes of its own; ratios are taken round by round, the contenders interleaved.
 */
import pLimit from "p-limit";
import * as effection from "effection";
import { currentTask, gather, run, spawn, type Task } from "../../mod.ts";
import { emit, entriesOf, isolated, nativeSpawnAll, runtime, timed } from "../lib.ts";

const N = 100_000;

function* gen(i: number): Generator<undefined, number, unknown> {
  return i;
}

function* trivial(): Generator<undefined, number, unknown> {
  return 1;
}

// deno-lint-ignore require-await
async function trivialAsync(): Promise<number> {
  return 1;
}

const native = () => nativeSpawnAll(N);

/**
 * The platform's floor for any API that hands each task its own signal: the baseline's
 * async functions, each given the signal of a new AbortController (kept, as an API must
 * keep it to abort the task), then Promise.all.
 */
async function nativeWithController(): Promise<void> {
  const ps: Promise<number>[] = new Array(N);
  const controllers: AbortController[] = new Array(N);
  for (let i = 0; i < N; i++) {
    const ac = (controllers[i] = new AbortController());
    // deno-lint-ignore require-await
    ps[i] = (async (signal: AbortSignal) => (signal.aborted ? -1 : i))(ac.signal);
  }
  await Promise.all(ps);
  // Read at the end, so the controllers live as long as the tasks (as a task's does); unread
  // after the loop, the engine may drop them at once and their collection costs nothing.
  if (controllers.length !== N) throw new Error("controllers lost");
}

function* spawnGather() {
  const tasks: Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(gen(i));
  yield* gather(tasks);
}

function* spawnAwaitEach() {
  const tasks: Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(trivial);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
}

function* asyncWithSignal() {
  const tasks: Task<number>[] = new Array(N);
  // deno-lint-ignore require-await
  for (let i = 0; i < N; i++) tasks[i] = spawn(async (signal: AbortSignal) => (signal.aborted ? -1 : i));
  yield* gather(tasks);
}

/** The signal on demand: the task kept, its signal made only if the body reads it (here it does not). */
function* asyncSignalOnDemand() {
  const tasks: Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) {
    // deno-lint-ignore require-await
    tasks[i] = spawn(async () => {
      const task = currentTask()!;
      return task.cancelling() > 0 ? -1 : i;
    });
  }
  yield* gather(tasks);
}

function* asyncNoSignal() {
  const tasks: Task<number>[] = new Array(N);
  for (let i = 0; i < N; i++) tasks[i] = spawn(trivialAsync);
  for (let i = 0; i < N; i++) yield* tasks[i]!;
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

// Every contender in processes of its own (bench/lib.ts `isolated`), rounds interleaved.
const r = await isolated({
  native: timed(native),
  nativeSignal: timed(nativeWithController),
  gather: timed(() => run(spawnGather)),
  each: timed(() => run(spawnAwaitEach)),
  signal: timed(() => run(asyncWithSignal)),
  onDemand: timed(() => run(asyncSignalOnDemand)),
  noSignal: timed(() => run(asyncNoSignal)),
  // effection takes seconds a run (10k× native): no warm-up run, and 3 rounds only.
  effection: timed(() => effection.run(effectionSpawnAll), 0, 1, 3),
  pLimit: timed(withPLimit),
});
const entries = entriesOf(r, { unit: "ms" }, ["native Promise.all", "native"], [
  ["native Promise.all, an AbortController per task (the floor of a signal per task)", "nativeSignal"],
  ["loopwork generator tasks: spawn(gen(i)) + gather", "gather"],
  ["loopwork generator tasks, cheapest form: spawn(hoisted fn), yield* each", "each"],
  ["loopwork async tasks: spawn(async (signal) => …) + gather", "signal"],
  ["loopwork async tasks, signal on demand: spawn(async () => { const task = currentTask() … }) + gather", "onDemand"],
  ["loopwork async tasks, no signal: spawn(async () => …), yield* each", "noSignal"],
  ["effection 4", "effection"],
  ["p-limit 7", "pLimit"],
]);

emit({ suite: "spawn", title: `spawn + await ${N / 1000}k tasks`, runtime, entries });
