/**
 * The watchdog of `loopwork worker --stop-on-stdin-end --threads 0`: a small thread that
 * ends the process when it has not stopped in time after its standard input ended.
 *
 * The command stops gracefully when its standard input ends (the program at the other end of
 * the pipe is gone, however it ended), but it hears of that only on its event loop. With
 * `--threads 0` its jobs run on that very thread: a job busy in synchronous code hides the end
 * for as long as it runs, for ever for an endless loop, and the worker serves on, orphaned.
 * The watchdog sees the end on its own thread and event loop; if the process still runs
 * `deadlineMs` later (its graceful stop, which ends within the grace period, plus a margin),
 * it says so on stderr and SIGKILLs it. A worker that stops in time never meets it.
 * @module
 */
import { Worker } from "node:worker_threads";

/**
 * The watchdog thread. On Node, a socket on fd 0 in the thread's own event loop hears the end
 * (libuv never closes fds 0 to 2, so neither thread's handle closes the other's); on Deno,
 * whose node:net takes no fd, a blocking read of fd 0 (which returns 0 at the end; a thread
 * blocked in it does not hold Deno's exit). Standard input carries nothing for the worker:
 * whatever the thread reads is dropped, as the main thread drops it.
 */
const WATCHDOG_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
let seen = false;
function ended() {
  if (seen) return;
  seen = true;
  setTimeout(() => {
    try {
      require("node:fs").writeSync(2, workerData.message);
    } catch {}
    process.kill(process.pid, "SIGKILL");
  }, workerData.deadlineMs);
}
if (workerData.deno) {
  const { readSync } = require("node:fs");
  const buffer = new Uint8Array(512);
  for (;;) {
    let n;
    try {
      n = readSync(0, buffer);
    } catch {
      break;
    }
    if (n === 0) {
      ended();
      break;
    }
  }
} else {
  const { Socket } = require("node:net");
  const input = new Socket({ fd: 0, readable: true, writable: false, allowHalfOpen: true });
  input.on("data", () => {});
  input.on("error", () => {});
  input.on("end", ended);
}
`;

/**
 * @internal Starts the watchdog thread: once standard input ends, the process has
 * `deadlineMs` to end on its own, after which `message` goes to stderr and the process is
 * SIGKILLed. It keeps the process alive no longer than it would live without it. Where it
 * cannot watch (standard input a terminal or a file, on Node; no thread could start), the
 * worker stops as it did without a watchdog.
 *
 * @example
 * ```ts
 * import { watchStdinEnd } from "./stdin-watch.ts";
 *
 * watchStdinEnd(40_000, "loopwork worker: it did not stop after its standard input ended: killing it\n");
 * ```
 */
export function watchStdinEnd(deadlineMs: number, message: string): void {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  let watchdog: Worker;
  try {
    watchdog = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: { deadlineMs, message, deno },
      // The bare runtime (not tsx's loader nor the worker's flags) and a small heap.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 },
    });
  } catch {
    return;
  }
  // A socket that cannot take fd 0 (a terminal, a file) fails the thread: nothing to watch.
  watchdog.on("error", () => {});
  watchdog.unref();
}
