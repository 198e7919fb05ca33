/**
 * Which loop is running and which task is stepping. One loop runs at a time in a
 * realm (as one asyncio loop runs per thread), so this is a pair of module slots.
 * @module
 */
import type { Loop } from "./loop.ts";
import type { Task } from "./task.ts";

/** Mutable running state, shared by the core modules; not part of the public API. */
export const state: { loop: Loop | null; task: Task<unknown> | null } = {
  loop: null,
  task: null,
};

/**
 * The loop whose `run()`, `runUntilComplete()` or `runForever()` is in progress.
 *
 * @throws {Error} when no loop is running.
 * @example
 * ```ts
 * import { getRunningLoop, run } from "loopwork";
 *
 * await run(function* () {
 *   console.log(getRunningLoop().time() >= 0); // true
 * });
 * ```
 */
export function getRunningLoop(): Loop {
  const loop = state.loop;
  if (loop === null) {
    throw new Error("no running loop: call this inside run(), or create a Loop and run it");
  }
  return loop;
}

/**
 * The running loop, or `undefined` when none runs. Never throws.
 *
 * @example
 * ```ts
 * import { tryGetRunningLoop } from "loopwork";
 *
 * console.log(tryGetRunningLoop()); // undefined outside run()
 * ```
 */
export function tryGetRunningLoop(): Loop | undefined {
  return state.loop ?? undefined;
}

/**
 * The task whose coroutine step is executing now, or `undefined`.
 *
 * For a generator task this holds anywhere in its body. For an async-function task it
 * holds only until the function's first `await`: JavaScript gives no way to follow an
 * async function across its awaits without a runtime-specific hook.
 *
 * @example
 * ```ts
 * import { currentTask, run } from "loopwork";
 *
 * await run(function* () {
 *   console.log(currentTask()?.name); // "main"
 * }, { name: "main" });
 * ```
 */
export function currentTask(): Task<unknown> | undefined {
  return state.task ?? undefined;
}

/**
 * Every task of the running loop (or of `loop`) that is not done yet.
 *
 * @example
 * ```ts
 * import { allTasks, run, sleep, spawn } from "loopwork";
 *
 * await run(function* () {
 *   spawn(function* () { yield* sleep(10); });
 *   console.log(allTasks().size); // 2: main and the child
 * });
 * ```
 */
export function allTasks(loop?: Loop): Set<Task<unknown>> {
  return new Set((loop ?? getRunningLoop())._liveTasks());
}
