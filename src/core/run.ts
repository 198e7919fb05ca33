/**
 * `run` and `spawn`: the two ways into the loop. `run` is asyncio.run: a fresh loop, the
 * main task, and an orderly end that leaves nothing behind. `spawn` is asyncio.create_task
 * on the running loop.
 * @module
 */
import { InvalidStateError } from "./errors.ts";
import { Loop, LOOP_OPTIONS, type LoopOptions } from "./loop.ts";
import { checkOptions, checkMs } from "./checks.ts";
import "./keepalive.ts"; // the hot classes' maps outlive the runs: see keepalive.ts
import { state } from "./running.ts";
import type { TaskBody } from "./task.ts";

/**
 * Options of `run()`: the loop's options, the main task's name, and the stuck-run dump. In
 * debug mode (`debug` set), `run()` also prints the task dump (`dumpTasks()`) when the
 * process gets SIGUSR2 (Node, and Deno on systems with signals), until it returns.
 *
 * @example
 * ```ts
 * import { run, type RunOptions, sleep } from "loopwork";
 *
 * const options: RunOptions = { name: "app", debug: true, dumpOnStuckMs: 10_000 };
 * await run(function* () { yield* sleep(10); }, options);
 * ```
 */
export interface RunOptions extends LoopOptions {
  /** Name of the main task (default `"main"`). */
  name?: string;
  /**
   * Prints the task dump (`dumpTasks()`, with `console.warn`) when the loop has run nothing
   * for this many milliseconds of real time, once per stall: where a hung program hangs.
   * A long sleep on the real clock counts as a stall too. Checked a few times per period,
   * so the dump comes between this and 1.25 times this. Default 0: never.
   */
  dumpOnStuckMs?: number;
}

const RUN_OPTIONS = [...LOOP_OPTIONS, "name", "dumpOnStuckMs"] as const;

/**
 * @internal What watches a `run()` for the stuck-run dump and SIGUSR2 (debug mode): set by
 * src/inspect/task-tree.ts when it loads, which every entry point does, so the core itself
 * knows nothing of the task tree. It returns the function that ends the watch.
 */
export const runWatch: { start: ((loop: Loop, stuckMs: number, onSignal: boolean) => () => void) | null } = { start: null };

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
  const stuckMs = checkMs("run()", "dumpOnStuckMs", options.dumpOnStuckMs ?? 0);
  const loop = new Loop({ clock: options.clock, debug: options.debug });
  return runOn(loop, main, options.name ?? "main", stuckMs);
}

async function runOn<T>(loop: Loop, main: TaskBody<T>, name: string, stuckMs: number): Promise<T> {
  const watch = runWatch.start;
  const endWatch = watch !== null && (stuckMs > 0 || loop.getDebug()) ? watch(loop, stuckMs, loop.getDebug()) : null;
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
    endWatch?.();
    loop.close();
  }
}
