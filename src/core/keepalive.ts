/**
 * One idle instance of each hot class, kept for the life of the program. V8's optimised code
 * holds the hidden classes (maps) of the objects it handles weakly: at a full collection with
 * no live instance of a class its map dies, and every function optimised for it is thrown
 * away. A program that calls `run()` many times (tests, CLIs, servers between requests) has
 * no task, loop or future alive between runs, so each run after a full collection started
 * over in the interpreter: a fan-out of 100k tasks then took ~1.8× (Node 20) to ~2.5×
 * (Deno 2.9) the CPU time of one run without a collection before it. The instances here are
 * taken through the same steps as in use (constructed, stepped, settled), so they end with
 * the maps the hot code sees, and hold nothing of the user's: their bodies and values are
 * this module's own, and their loop is closed.
 * @module
 */
import { blocking, Future } from "./future.ts";
import { Loop } from "./loop.ts";
import { state } from "./running.ts";
import { sleep, yieldNow } from "./sleep.ts";
import { Task } from "./task.ts";
import type { Runnable } from "./handles.ts";
import type { Ring } from "./ring.ts";

const kept: object[] = [];

/**
 * @internal Keeps `x` (an idle instance of a hot class, holding no user data) alive for the
 * life of the program, so the map optimised code was made for lives as long (see above).
 */
export function keepAlive(x: object): void {
  kept.push(x);
}

function* idle(): Generator<undefined, undefined, unknown> {
  return undefined;
}

function* waitOn(f: Future<undefined>): Generator<Future<unknown> | undefined, undefined, unknown> {
  return yield* f;
}

function* yieldsOnce(): Generator<Future<unknown> | undefined, undefined, unknown> {
  yield* yieldNow();
  yield;
}

function settle(f: Future<undefined>): void {
  f.setResult(undefined);
}

/**
 * @internal Runs `fn` with a new loop as the running loop, synchronously, then runs what it
 * queued (up to a few hundred callbacks) and closes the loop: how a module takes idle
 * instances of its hot classes through their steps when it loads, for `keepAlive`.
 */
export function onIdleLoop(fn: (loop: Loop) => void, clock: "real" | "virtual" = "real"): void {
  const loop = new Loop({ clock });
  const prevLoop = state.loop;
  const prevTask = state.task;
  state.loop = loop;
  try {
    fn(loop);
    const ready = (loop as unknown as { _ready: Ring<Runnable> })._ready;
    for (let i = 0; i < 500 && ready.length > 0; i++) ready.shift()!._run();
  } finally {
    state.loop = prevLoop;
    state.task = prevTask;
    blocking.future = null;
    blocking.zero = null;
  }
  loop.close();
  kept.push(loop);
}

for (const clock of ["real", "virtual"] as const) {
  onIdleLoop((loop) => {
    // Tasks stepped to their end, through a plain future, a zero sleep and a handle.
    const f = new Future<undefined>(loop);
    const waits = new Task(waitOn(f), loop);
    const task = new Task(idle(), loop);
    const zero = yieldNow();
    const yields = new Task(yieldsOnce(), loop);
    const handle = loop.callSoon(settle, f);
    // A timed sleep (at a fractional time, as on the real clock) and its timer handle, fired.
    const timed = sleep(0.5) as Future<void> & { _timer: Runnable | null };
    const timer = timed._timer!;
    timer._run();
    kept.push(f, waits, task, zero, yields, handle, timed, timer);
  }, clock);
}
