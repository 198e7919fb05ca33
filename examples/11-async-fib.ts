/**
 * 11 — A coroutine that calls coroutines: async Fibonacci with runUntilComplete.
 *
 * The posts' classic: fib written as a coroutine that `yield*`s itself, run on a loop made
 * by hand with `loop.runUntilComplete()` (asyncio's `loop.run_until_complete`). Every call
 * waits on its two sub-calls, which run as tasks; a virtual clock counts "ticks" of work.
 * It computes nothing faster: it shows that `yield*` composes like a function call and that
 * the loop interleaves the calls.
 *
 *   npx tsx examples/11-async-fib.ts
 *   deno run -A examples/11-async-fib.ts
 */
import { type Coroutine, Loop, sleep, spawn } from "../mod.ts";

let steps = 0;

function* fib(n: number): Coroutine<number> {
  steps++;
  if (n < 2) {
    yield* sleep(1); // one "tick" of work per leaf, on the virtual clock
    return n;
  }
  // The two halves run as concurrent tasks; this call waits for both.
  const a = spawn(fib(n - 1));
  const b = spawn(fib(n - 2));
  return (yield* a) + (yield* b);
}

function* fibSequential(n: number): Coroutine<number> {
  if (n < 2) {
    yield* sleep(1);
    return n;
  }
  return (yield* fibSequential(n - 1)) + (yield* fibSequential(n - 2));
}

const loop = new Loop({ clock: "virtual" });
const n = 15;
let wall = performance.now();
const value = await loop.runUntilComplete(fib(n));
wall = performance.now() - wall;
console.log(`fib(${n}) = ${value} as tasks: ${steps} coroutine calls, ${loop.time()} virtual ticks, ${wall.toFixed(0)} ms of wall time`);

const t0 = loop.time();
wall = performance.now();
const again = await loop.runUntilComplete(fibSequential(n));
wall = performance.now() - wall;
console.log(`fib(${n}) = ${again} one yield* after the other: ${loop.time() - t0} virtual ticks, ${wall.toFixed(0)} ms of wall time`);
console.log("as tasks, every leaf waits at the same time: the waits overlap instead of adding up.");
loop.close();
