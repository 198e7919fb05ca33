/**
 * Tasks outside any loop. A pool call is a `Task` (awaitable, `yield*`-able, cancellable)
 * even when no loop runs, as in plain async code. A task needs a loop, and only one loop
 * may run at a time, so a hidden running loop would forbid the caller's own `run()`.
 * Instead such tasks belong to one private loop that is *closed* and never runs: a closed
 * loop's futures run their done callbacks as host microtasks, and the first step of each
 * task (the only step an async-function task has) is taken here, from a host microtask.
 * @module
 */
import { Loop } from "../loop/loop.ts";
import { Task } from "../task.ts";

const hostLoop = new Loop();
hostLoop.close();
let drainQueued = false;

function drain(): void {
  drainQueued = false;
  const ready = hostLoop._ready;
  hostLoop._ready = [];
  for (let i = 0; i < ready.length; i++) ready[i]!._run();
}

function ignore(): void {}

/**
 * @internal A task running `body` without a loop. Like a task on a loop it takes its first
 * step later (so cancelling it at once means its body never runs), and its done callbacks
 * run as host microtasks.
 */
export function hostTask<T>(body: (signal: AbortSignal) => PromiseLike<T>, name: string): Task<T> {
  const task = new Task<T>(body, hostLoop, { name });
  // Nobody reports unobserved failures of a loop that never runs: do not keep them.
  task.addDoneCallback(ignore);
  if (!drainQueued) {
    drainQueued = true;
    queueMicrotask(drain);
  }
  return task;
}
