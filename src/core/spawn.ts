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
 * A generator object runs in one task only: give each task its own (`spawn(child(1))`
 * twice, not `const g = child(1); spawn(g); spawn(g)`), or the function. Two tasks driving
 * one generator would interleave its steps, and a generator that has finished only returns
 * `undefined` again. In debug mode (`run(main, { debug: true })`) a second use throws a
 * TypeError naming the task that runs it; otherwise it is not checked (the check costs about
 * a fifth of a spawn).
 *
 * @throws {TypeError} when `body` is none of these, or (in debug mode) is a generator object
 *   another task runs or ran
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
