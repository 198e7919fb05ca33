/**
 * A worker thread's watch of its heap limit, for both thread entries (thread-worker.ts,
 * tinypool-worker.ts) when the pool has `resourceLimits`: it tells when the runtime stopped
 * the thread's JavaScript at the heap limit but left the thread alive.
 *
 * Under Node that never happens: the thread ends by itself (an "error" event with
 * ERR_WORKER_OUT_OF_MEMORY). Under Deno, at the heap limit, the runtime raises the limit (so
 * that V8 does not abort the process) and stops the running JavaScript; the thread then ends
 * with that same error only when the stop reaches its event loop, which depends on where the
 * JavaScript was when it was stopped (and so on timing, for a task after an `await`); else it
 * carries on, deaf to its port, with no event for the host. Either way its heap limit has
 * grown, which nothing a task does can cause otherwise: a timer that sees it grown knows the
 * thread was stopped for memory, whatever the task was doing.
 * @module
 */
import { getHeapStatistics } from "node:v8";
import { isDeno } from "../packages.ts";

/**
 * @internal Calls `stopped` once, within about 100 ms, when this thread's heap limit has
 * grown past the one it had when the watch began (call it before any task runs). The timer
 * keeps nothing alive. Under Node it does nothing (and returns false): a thread at its limit
 * always ends with ERR_WORKER_OUT_OF_MEMORY there, which the backends report (test/faults/
 * limits.test.ts checks it, beside CPU-bound processes too), so the timer would only tick.
 */
export function watchHeapLimit(stopped: () => void): boolean {
  if (!isDeno) return false;
  const limit = getHeapStatistics().heap_size_limit;
  const timer = setInterval(() => {
    if (getHeapStatistics().heap_size_limit <= limit) return;
    clearInterval(timer);
    stopped();
  }, 100);
  timer.unref();
  return true;
}
