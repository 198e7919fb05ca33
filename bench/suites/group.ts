/**
 * Suite 4: a task group of 10k children with one failure — the time from start until the
 * group has cancelled every other child and raised. Baseline: 10k native async functions,
 * each waiting on a promise whose reject is kept, all rejected when one child fails, awaited
 * with Promise.allSettled: the same work with nothing in between. Also the native form with
 * one shared AbortController that every child listens on; it is not the baseline because
 * adding n listeners to one EventTarget costs O(n²) on Node and Deno (each add scans the list
 * for a duplicate), so a ratio against it would report the platform's quadratic add as
 * loopwork's speed. Each contender runs in processes of its own, the rounds interleaved.
 */
import { setMaxListeners } from "node:events";
import * as effection from "effection";
import { Future, run, taskGroup } from "../../mod.ts";
import { emit, entriesOf, isolated, runtime, timed } from "../lib.ts";

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

async function nativeCancelAll(): Promise<void> {
  const cancels: ((e: Error) => void)[] = new Array(N - 1);
  const child = async (i: number) => {
    await new Promise<void>((_, reject) => (cancels[i] = reject));
  };
  const ps: Promise<void>[] = new Array(N);
  for (let i = 0; i < N - 1; i++) ps[i] = child(i);
  ps[N - 1] = (async () => {
    await null;
    const e = new Error("child failed");
    for (const cancel of cancels) cancel(e);
    throw e;
  })();
  await Promise.allSettled(ps);
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

// Every contender in processes of its own (bench/lib.ts `isolated`), rounds interleaved.
const r = await isolated({
  native: timed(nativeCancelAll),
  abortController: timed(nativeAbort, 1, 1, 3),
  loopwork: timed(() => run(loopworkGroup)),
  effection: timed(effectionGroup, 1, 1, 3),
});
const entries = entriesOf(r, { unit: "ms" }, ["native async functions, rejected all at once + allSettled", "native"], [
  ["native AbortController + allSettled (one signal, n listeners: the add is O(n²))", "abortController"],
  ["loopwork taskGroup", "loopwork"],
  ["effection 4", "effection"],
]);

emit({ suite: "group", title: `task group of ${N / 1000}k children, one fails: time to cancel all`, runtime, entries });
