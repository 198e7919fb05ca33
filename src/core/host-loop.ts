/**
 * Tasks outside any loop. A pool call is a `Task` (awaitable, `yield*`-able, cancellable)
 * even when no loop runs, as in plain async code. A task needs a loop, and only one loop
 * may run at a time, so a hidden running loop would forbid the caller's own `run()`.
 * Instead such tasks belong to one private loop that is *closed* and never runs: a closed
 * loop's futures run their done callbacks as host microtasks, and the steps of its tasks
 * are taken here: the first from a host microtask, the next as soon as the call settles.
 * A failed call nobody awaited, `then`ed or read is reported ("Task exception was never
 * retrieved", with `console.error`) when it is garbage-collected: this loop never closes.
 * @module
 */
import type { Runnable } from "./handles.ts";
import { Loop } from "./loop.ts";
import { Task, type TaskBody } from "./task.ts";
import { state } from "./running.ts";

/** A closed loop that never runs: its tasks step from host microtasks. */
class HostLoop extends Loop {
  private _drainQueued = false;
  protected override _holdsUnretrieved = false;
  private _hostReady: Runnable[] = [];

  /**
   * @internal A task of this loop is ready. Woken by the future it waits on (a pool call
   * that just settled), it steps at once: its body is the pool's own one-line coroutine,
   * so no user code runs here, and the caller sees the result one host turn sooner (which
   * decides, on a small machine, whether the worker is still awake for the next call).
   * Its first step, and any other, is taken from a host microtask.
   */
  override _pushReady(r: Runnable): void {
    if (r instanceof Task && r._futWaiter !== null) {
      r._run();
      return;
    }
    this._hostReady.push(r);
    if (!this._drainQueued) {
      this._drainQueued = true;
      queueMicrotask(this._drainHost);
    }
  }

  private readonly _drainHost = (): void => {
    this._drainQueued = false;
    const ready = this._hostReady;
    this._hostReady = [];
    for (let i = 0; i < ready.length; i++) ready[i]!._run();
  };
}

const hostLoop = new HostLoop();
hostLoop.close();

/**
 * @internal A task running `body` without a loop. Like a task on a loop it takes its first
 * step later (so cancelling it at once means its body never runs), its later steps follow
 * the futures it waits on, and its done callbacks run as host microtasks.
 */
export function hostTask<T>(body: TaskBody<T>, name: string): Task<T> {
  return new Task<T>(body, hostLoop, { name });
}

/** @internal A task of the running loop, or a host task when no loop runs. */
export function startTask<T>(body: TaskBody<T>, name: string): Task<T> {
  const loop = state.loop;
  return loop !== null ? loop.createTask(body, { name }) : new Task<T>(body, hostLoop, { name });
}
