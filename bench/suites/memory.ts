/**
 * Suite 3: memory per suspended task. 100k tasks parked on one never-resolved future;
 * heap growth (after full collections, with --expose-gc) divided by 100k.
 * Baseline: 100k async functions awaiting one never-resolved promise; the async tasks await the
 * same (one more row parks them on a loopwork Future). The async tasks are
 * written as users write them, `async (signal) => …`; the form without a signal is an extra row,
 * and so is the floor of any API that gives each task its own signal (native async functions,
 * each with a kept AbortController), and so is an async task that keeps its task and makes its
 * signal only after its wait. Each contender is measured in processes of its own, so no row
 * sees the heap another row left.
 */
import * as effection from "effection";
import { currentTask, Future, run, spawn, type Task } from "../../mod.ts";
import { type Contender, emit, entriesOf, gcExposed, heapUsed, isolated, runtime } from "../lib.ts";

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
  // Read after the measurement, so the controllers are alive during it (an API that hands out
  // a signal keeps its controller to abort it); unread, the engine may drop them at once.
  if (controllers.length !== (withController ? N : 0)) throw new Error("controllers lost");
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
 * task and making its signal only once it needs it (after its wait); `"none"`, no signal. They
 * park on what the native row parks on, a never-resolved promise (what an async task awaits
 * most: I/O); `on: "future"` parks them on a loopwork Future instead, whose `then()` must make
 * a promise of its own per `await` (an extra row: that cost is the await's, not the task's).
 */
async function loopworkAsync(form: "signal" | "onDemand" | "none", on: "promise" | "future" = "promise"): Promise<number> {
  let per = 0;
  await run(function* () {
    const future = new Future<void>();
    let release!: () => void;
    const never: PromiseLike<void> = on === "future" ? future : new Promise<void>((r) => (release = r));
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
    if (on === "future") future.setResult();
    else release();
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

// Every contender in processes of its own (bench/lib.ts `isolated`), rounds interleaved: one
// measurement untimed first (code compiled and its feedback allocated), then the smallest of
// two, to shed garbage a collection missed; the figure is the median over rounds.
const mem = (measure: () => Promise<number>, more: Partial<Contender> = {}): Contender => ({ measure, ...more });
const r = await isolated({
  native: mem(() => native()),
  nativeSignal: mem(() => native(true)),
  generators: mem(loopworkGenerators),
  signal: mem(() => loopworkAsync("signal")),
  onDemand: mem(() => loopworkAsync("onDemand")),
  none: mem(() => loopworkAsync("none")),
  signalOnFuture: mem(() => loopworkAsync("signal", "future")),
  // effection parks ~1 GB for 100k tasks: its collections take seconds, and its figure is steady.
  effection: mem(effectionTasks, { warmup: 0, reps: 1, rounds: 2 }),
}, { rounds: 3, warmup: 1, reps: 2, reduce: "min" });
const entries = entriesOf(r, { unit: "B" }, ["native async function", "native"], [
  ["native async function, an AbortController per task (the floor of a signal per task)", "nativeSignal"],
  ["loopwork generator tasks", "generators"],
  ["loopwork async tasks: spawn(async (signal) => …)", "signal"],
  ["loopwork async tasks, signal on demand: spawn(async () => { const task = currentTask() … })", "onDemand"],
  ["loopwork async tasks, no signal: spawn(async () => …)", "none"],
  ["loopwork async tasks parked on a loopwork Future, not a promise: spawn(async (signal) => …)", "signalOnFuture"],
  ["effection 4", "effection"],
]);

emit({
  suite: "memory",
  title: `memory per suspended task (${N / 1000}k parked)`,
  runtime,
  entries,
  notes: gcExposed ? [] : ["no --expose-gc: heap figures are rough"],
});
