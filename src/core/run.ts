/**
 * `run` and `spawn`: the two ways into the loop. `run` is asyncio.run: a fresh loop, the
 * main task, and an orderly end that leaves nothing behind. `spawn` is asyncio.create_task
 * on the running loop.
 * @module
 */
import { InvalidStateError } from "./errors.ts";
import { Loop, LOOP_OPTIONS, type LoopOptions } from "./loop.ts";
import { checkOptions } from "./checks.ts";
import { state } from "./running.ts";
import type { TaskBody } from "./task.ts";

/** Options of `run()`: the loop's options and the main task's name. */
export interface RunOptions extends LoopOptions {
  /** Name of the main task (default `"main"`). */
  name?: string;
}

const RUN_OPTIONS = [...LOOP_OPTIONS, "name"] as const;

/**
 * Runs `main` on a new loop and resolves to its result. `main` is a generator function, a
 * generator object or an async function (which receives an `AbortSignal`). When main ends,
 * every task still alive is cancelled and awaited, the loop's default executor is closed,
 * and the loop is closed: nothing outlives `run()`.
 *
 * @throws {InvalidStateError} synchronously, when a loop is already running
 * @example
 * ```ts
 * import { run, sleep, spawn } from "loopwork";
 *
 * const total = await run(function* () {
 *   const a = spawn(function* () { yield* sleep(2_000); return 1; });
 *   const b = spawn(function* () { yield* sleep(2_000); return 2; });
 *   return (yield* a) + (yield* b); // about 2 s, not 4
 * });
 * console.log(total); // 3
 * ```
 */
export function run<T>(main: TaskBody<T>, options: RunOptions = {}): Promise<T> {
  if (state.loop !== null) {
    throw new InvalidStateError(
      "run() cannot be called while a loop is running: inside a coroutine, spawn() the work " +
        "or wait on it directly",
    );
  }
  checkOptions("run()", options, RUN_OPTIONS);
  const loop = new Loop({ clock: options.clock, debug: options.debug });
  return runOn(loop, main, options.name ?? "main");
}

async function runOn<T>(loop: Loop, main: TaskBody<T>, name: string): Promise<T> {
  try {
    const task = loop.createTask(main, { name });
    try {
      return await loop.runUntilComplete(task);
    } finally {
      await loop._cancelAllTasks();
      loop._reportUnretrieved();
      await loop._closeDefaultExecutor();
    }
  } finally {
    loop.close();
  }
}
