/**
 * `spawn`: a task on the running loop (asyncio.create_task).
 * @module
 */
import { getRunningLoop } from "./running.ts";
import type { Task, TaskBody, TaskOptions } from "./task.ts";

/**
 * Starts `body` as a task on the running loop and returns the task (asyncio.create_task).
 * `body` is a generator object (`spawn(child(1))`), a generator function, or a function
 * `(signal) => Promise` — an async task, cancelled through its signal. A function (either
 * kind) is called at the task's first step, not by `spawn()`, so a task still waiting for
 * its turn holds no generator; spawning many hoisted `function*` bodies is the cheapest.
 *
 * @throws {TypeError} when `body` is none of these
 * @throws {Error} when no loop is running
 * @example
 * ```ts
 * import { run, sleep, spawn } from "loopwork";
 *
 * function* child(n: number) {
 *   yield* sleep(100);
 *   return n * 2;
 * }
 *
 * await run(function* () {
 *   const t = spawn(child(21), { name: "child" });
 *   const u = spawn(async (signal) => {
 *     await sleep(50);
 *     return signal.aborted ? 0 : 1;
 *   });
 *   console.log(yield* t, yield* u); // 42 1
 * });
 * ```
 */
export function spawn<T>(body: TaskBody<T>, options?: TaskOptions): Task<T> {
  return getRunningLoop().createTask(body, options);
}
