/**
 * Suite 4: a task group of 10k children with one failure — the time from start until the
 * group has cancelled every other child and raised. Baseline: 10k native async functions
 * sharing an AbortController, aborted when one rejects, awaited with Promise.allSettled.
 */
import { setMaxListeners } from "node:events";
import * as effection from "effection";
import { Future, run, taskGroup } from "../../mod.ts";
import { emit, runtime, timeMedian } from "../lib.ts";

const N = 10_000;

function* waitForever(never: Future<void>) {
  yield* never;
}

function* failSoon() {
  yield;
  throw new Error("child failed");
}

function* loopworkGroup() {
  const never = new Future<void>();
  try {
    yield* taskGroup(function* (tg) {
      for (let i = 0; i < N - 1; i++) tg.spawn(waitForever(never));
      tg.spawn(failSoon);
    });
  } catch {
    // the TaskGroupError is the expected outcome
  }
}

async function nativeAbort(): Promise<void> {
  const ac = new AbortController();
  setMaxListeners(N, ac.signal); // 10k listeners on one signal is the point, not a leak
  const never = (signal: AbortSignal) =>
    new Promise<void>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
  const ps: Promise<void>[] = new Array(N);
  for (let i = 0; i < N - 1; i++) ps[i] = never(ac.signal);
  ps[N - 1] = (async () => {
    await null;
    const e = new Error("child failed");
    ac.abort(e);
    throw e;
  })();
  await Promise.allSettled(ps);
}

function* effWait(): effection.Operation<void> {
  yield* effection.suspend();
}

function* effFail(): effection.Operation<void> {
  yield* effection.sleep(0);
  throw new Error("child failed");
}

function* effectionScope(): effection.Operation<void> {
  for (let i = 0; i < N - 1; i++) yield* effection.spawn(effWait);
  yield* effection.spawn(effFail);
  yield* effection.suspend();
}

async function effectionGroup(): Promise<void> {
  try {
    await effection.run(effectionScope);
  } catch {
    // expected
  }
}

const entries = [
  { name: "native AbortController + allSettled", value: await timeMedian(nativeAbort), unit: "ms", baseline: true },
  { name: "loopwork taskGroup", value: await timeMedian(() => run(loopworkGroup)), unit: "ms" },
  { name: "effection 4", value: await timeMedian(effectionGroup, 3, 1), unit: "ms" },
];

emit({ suite: "group", title: `task group of ${N / 1000}k children, one fails: time to cancel all`, runtime, entries });
