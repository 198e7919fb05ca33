/**
 * `toThread()`: asyncio's `to_thread`, for a self-contained function. The function travels
 * as its source text and is rebuilt in a worker of the loop's default pool, which is
 * created on first use and closed by `run()` when it ends.
 * @module
 */
import { describeValue, getRunningLoop, type Task } from "../core/index.ts";
import { WorkerPool } from "./worker-pool.ts";

const sources = new WeakMap<(...args: never[]) => unknown, string>();

function sourceOf(fn: (...args: never[]) => unknown): string {
  let source = sources.get(fn);
  if (source !== undefined) return source;
  source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(`toThread(): ${describeValue(fn)} is native or bound; pass a function written in JavaScript`);
  }
  try {
    new Function("__name", `"use strict"; return (${source});`);
  } catch {
    throw new TypeError(
      `toThread(): the source of ${describeValue(fn)} is not a function expression (a method shorthand?); ` +
        "pass a function or arrow function",
    );
  }
  sources.set(fn, source);
  return source;
}

/**
 * Runs `fn(...args)` in a worker thread of the running loop's default pool and returns a
 * `Task` for its result, so the loop stays responsive while `fn` burns CPU. Cancelling the
 * task stops the worker.
 *
 * `fn` must be **self-contained**: it is sent as source text and rebuilt in the worker,
 * so it cannot use variables from its enclosing scope (closures, imports); pass what it
 * needs as arguments (clonable values), and `await import()` modules inside it. Native and
 * bound functions are refused.
 *
 * If the loop has no default executor, a thread `WorkerPool` (no task module) becomes its
 * default executor, and `run()` closes it at the end. If the default executor is some
 * other `Executor`, toThread() refuses, since it cannot send functions.
 *
 * @throws {TypeError} synchronously, when `fn` cannot be sent or the default executor is not a WorkerPool
 * @throws {Error} synchronously, when no loop is running
 * @example
 * ```ts
 * import { run, toThread } from "loopwork";
 *
 * const primes = await run(function* () {
 *   return yield* toThread((limit: number) => {
 *     let count = 0;
 *     for (let n = 2; n < limit; n++) {
 *       let prime = true;
 *       for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
 *       if (prime) count++;
 *     }
 *     return count;
 *   }, 1_000_000);
 * });
 * console.log(primes); // 78498
 * ```
 */
export function toThread<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Task<Awaited<R>> {
  if (typeof fn !== "function") {
    throw new TypeError(`toThread() expects a function, got ${describeValue(fn)}`);
  }
  const source = sourceOf(fn as (...args: never[]) => unknown);
  const loop = getRunningLoop();
  let executor = loop.getDefaultExecutor();
  if (executor === undefined) {
    executor = new WorkerPool(null, { kind: "thread" });
    loop.setDefaultExecutor(executor);
  }
  if (!(executor instanceof WorkerPool)) {
    throw new TypeError("toThread(): the loop's default executor is not a WorkerPool, so it cannot run functions");
  }
  return executor._runFunction(source, args, fn.name || "anonymous") as Task<Awaited<R>>;
}
