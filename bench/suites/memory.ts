/**
 * Suite 3: memory per suspended task. 100k tasks parked on one never-resolved future;
 * heap growth (after full collections, with --expose-gc) divided by 100k.
 * Baseline: 100k async functions awaiting one never-resolved promise. The async tasks are
 * written as users write them, `async (signal) => …`; the form without a signal is an extra row,
 * and so is the floor of any API that gives each task its own signal (native async functions,
 * each with a kept AbortController), and so is an async task that keeps its task and makes its
 * signal only after its wait.
 */
import * as effection from "effection";
import { currentTask, Future, run, spawn, type Task } from "../../mod.ts";
import { emit, gcExposed, heapUsed, runtime } from "../lib.ts";

const N = 100_000;

function* park(never: Future<void>) {
  yield* never;
}

async function parkAsync(never: Promise<void>): Promise<void> {
  await never;
}

async function parkAsyncSignal(never: Promise<void>, signal: AbortSignal): Promise<void> {
  await never;
  signal.throwIfAborted();
}

/**
 * Native async functions parked on one promise; `withController`: the floor of any API that
 * gives each task its own signal, a kept AbortController each.
 */
async function native(withController = false): Promise<number> {
  let release!: () => void;
  const never = new Promise<void>((r) => (release = r));
  const before = heapUsed();
  const ps: Promise<void>[] = new Array(N);
  const controllers: AbortController[] = withController ? new Array(N) : [];
  if (withController) for (let i = 0; i < N; i++) ps[i] = parkAsyncSignal(never, (controllers[i] = new AbortController()).signal);
  else for (let i = 0; i < N; i++) ps[i] = parkAsync(never);
  await null;
  const per = (heapUsed() - before) / N;
  release();
  await Promise.all(ps);
  return per;
}

async function loopworkGenerators(): Promise<number> {
  let per = 0;
  await run(function* () {
    const never = new Future<void>();
    const before = heapUsed();
    const tasks: Task<void>[] = new Array(N);
    for (let i = 0; i < N; i++) tasks[i] = spawn(park(never));
    yield; // each task takes its first step and parks
    per = (heapUsed() - before) / N;
    never.setResult();
  });
  return per;
}

/**
 * Async tasks as users write them: `"signal"`, `async (signal) => …`; `"onDemand"`, keeping the
 * task and making its signal only once it needs it (after its wait); `"none"`, no signal.
 */
async function loopworkAsync(form: "signal" | "onDemand" | "none"): Promise<number> {
  let per = 0;
  await run(function* () {
    const never = new Future<void>();
    const before = heapUsed();
    const tasks: Task<void>[] = new Array(N);
    if (form === "signal") for (let i = 0; i < N; i++) tasks[i] = spawn(async (signal: AbortSignal) => {
        await never;
        signal.throwIfAborted();
      });
    else if (form === "onDemand") for (let i = 0; i < N; i++) tasks[i] = spawn(async () => {
        const task = currentTask()!;
        await never;
        task.signal.throwIfAborted();
      });
    else for (let i = 0; i < N; i++) tasks[i] = spawn(async () => await never);
    yield;
    yield;
    per = (heapUsed() - before) / N;
    never.setResult();
  });
  return per;
}

function* effPark(): effection.Operation<void> {
  yield* effection.suspend();
}

async function effectionTasks(): Promise<number> {
  let per = 0;
  await effection.run(function* () {
    const before = heapUsed();
    const tasks: effection.Task<void>[] = new Array(N);
    for (let i = 0; i < N; i++) tasks[i] = yield* effection.spawn(effPark);
    yield* effection.sleep(0);
    per = (heapUsed() - before) / N;
  });
  return per;
}

// Run each measurement in a fresh heap state, the smallest of three to shed GC noise.
async function best(f: () => Promise<number>): Promise<number> {
  const xs = [await f(), await f(), await f()];
  return Math.min(...xs);
}

const entries = [
  { name: "native async function", value: await best(() => native()), unit: "B", baseline: true },
  { name: "native async function, an AbortController per task (the floor of a signal per task)", value: await best(() => native(true)), unit: "B" },
  { name: "loopwork generator tasks", value: await best(loopworkGenerators), unit: "B" },
  { name: "loopwork async tasks: spawn(async (signal) => …)", value: await best(() => loopworkAsync("signal")), unit: "B" },
  { name: "loopwork async tasks, signal on demand: spawn(async () => { const task = currentTask() … })", value: await best(() => loopworkAsync("onDemand")), unit: "B" },
  { name: "loopwork async tasks, no signal: spawn(async () => …)", value: await best(() => loopworkAsync("none")), unit: "B" },
  { name: "effection 4", value: await best(effectionTasks), unit: "B" },
];

emit({
  suite: "memory",
  title: `memory per suspended task (${N / 1000}k parked)`,
  runtime,
  entries,
  notes: gcExposed ? [] : ["no --expose-gc: heap figures are rough"],
});
