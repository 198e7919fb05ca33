/**
 * The watchdog of a pool's child process: a small thread that ends the child once the
 * process that made its pool is gone.
 *
 * A child hears that its parent is gone when its IPC channel closes, but only on its event
 * loop: a task busy in synchronous code (or one that keeps the loop alive with timers) would
 * compute on as an orphan after its parent was SIGKILLed, ran out of memory or crashed, as
 * long as the task lasts — for ever, for an endless loop. The watchdog does not depend on
 * the child's main thread: it runs on its own thread and event loop, looks once a
 * second, and SIGKILLs its own process when the parent is gone. A parent that is merely busy
 * is never taken for gone: only the parent's death changes what the watchdog looks at.
 *
 * It is eval'd source, not a module: it starts no loader (tsx) and reads no file. What it
 * costs a child (measured on Linux, medians of 8 interleaved runs): Node, about 8 MB of
 * resident memory (49 → 57 MB) and a few ms on the first call; Deno, about 15 MB (49 → 63 MB)
 * and some 40 ms on the first call, as Deno starts a worker mostly on the calling thread.
 * @module
 */
import { Worker } from "node:worker_threads";

/** @internal The environment variable by which a process pool tells its children its pid. */
export const POOL_PID_ENV = "LOOPWORK_POOL_PID";

/** @internal How often the watchdog looks whether the parent is gone, ms. */
export const PARENT_CHECK_MS = 1_000;

/**
 * The watchdog thread. The parent is gone when this process is no longer its child (its
 * parent pid changed: it was handed to init or a subreaper, on POSIX systems), or when no
 * process has its pid any more (ESRCH; EPERM means it lives). The first criterion counts only
 * if this process started as its child, so that nothing between them is taken for its death.
 */
const WATCHDOG_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
const parent = workerData.parent;
const child = process.ppid === parent;
function gone() {
  if (child && process.ppid !== parent) return true;
  try {
    process.kill(parent, 0);
    return false;
  } catch (e) {
    return e !== null && typeof e === "object" && e.code === "ESRCH";
  }
}
function check() {
  if (!gone()) return;
  clearInterval(timer);
  process.kill(process.pid, "SIGKILL");
}
const timer = setInterval(check, workerData.intervalMs);
check();
`;

/**
 * @internal Starts the watchdog thread, which SIGKILLs this process once process `parent`
 * (the pool's process) is gone; it keeps this process alive no longer than it would live
 * without it. Returns the thread, or null when no thread could be started (the child then
 * lives as it did without a watchdog).
 *
 * @example
 * ```ts
 * import { POOL_PID_ENV, watchParent } from "./parent-watch.ts";
 *
 * watchParent(Number(process.env[POOL_PID_ENV] ?? process.ppid));
 * ```
 */
export function watchParent(parent: number, intervalMs: number = PARENT_CHECK_MS): Worker | null {
  if (!Number.isInteger(parent) || parent <= 0) return null;
  let watchdog: Worker;
  try {
    watchdog = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: { parent, intervalMs },
      // Not the child's flags (tsx's loader, a heap limit): the bare runtime, and a heap far
      // below the default (it allocates next to nothing after it started).
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 },
    });
  } catch {
    return null;
  }
  // A watchdog that fails leaves the child as it was without one: nobody to tell.
  watchdog.on("error", () => {});
  watchdog.unref();
  return watchdog;
}
