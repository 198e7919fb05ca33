/**
 * The context of a pool call inside its worker: the AbortSignal a task reads with
 * `taskSignal()`. Cancelling the call on the main side aborts it (see `cancelGraceMs`).
 *
 * Why an accessor, not a trailing argument: task functions take variadic arguments, and a
 * signal appended after them would change what `(...args)` sees and what `fn.length`-style
 * code expects; an accessor changes nothing for tasks that do not ask. The state lives on
 * `globalThis` under a `Symbol.for` key, so the worker runtime and a task module that
 * imports another copy of loopwork (the built package beside the sources) share it.
 * @module
 */

/** @internal The context of one running call, as the worker runtime keeps it. */
export class CallContext {
  private _controller: AbortController | null = null;
  private _hooks: (() => void)[] | null = null;
  /** Set once the call was aborted (possibly before its task started). */
  aborted = false;

  /** The call's signal, made on first use (a call that never asks costs nothing). */
  get signal(): AbortSignal {
    if (this._controller === null) {
      this._controller = new AbortController();
      if (this.aborted) this._controller.abort(cancelReason());
    }
    return this._controller.signal;
  }

  /** Runs `hook` at the abort (at once if it happened already). */
  onAbort(hook: () => void): void {
    if (this.aborted) hook();
    else (this._hooks ??= []).push(hook);
  }

  /** Aborts the call: its signal fires, its hooks run (once). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this._controller?.abort(cancelReason());
    const hooks = this._hooks;
    this._hooks = null;
    if (hooks !== null) for (const h of hooks) h();
  }
}

function cancelReason(): Error {
  const e = new Error("the pool call was cancelled");
  e.name = "AbortError";
  return e;
}

/** @internal Where the running call's context is kept: one slot per realm. */
export interface ContextSlot {
  current: CallContext | null;
}

const KEY: unique symbol = Symbol.for("loopwork.taskContext") as never;

/** @internal The realm's slot of the running call's context. */
export function contextSlot(): ContextSlot {
  const g = globalThis as unknown as Record<symbol, ContextSlot | undefined>;
  return (g[KEY] ??= { current: null });
}

/**
 * The AbortSignal of the pool call running this task, inside a worker: it is aborted when
 * the call is cancelled on the main side (or times out). A task that honours it (returns
 * or throws soon after, running its `finally`) keeps its worker, which takes the next call;
 * one that does not is stopped after the pool's `cancelGraceMs`. Call it in the task's
 * synchronous part, before its first `await` (an inline pool runs several calls on one
 * thread); keep the signal for later. A generator task (run on a loop in its worker)
 * receives `CancelledError` at its `yield*` instead, and needs no signal.
 *
 * @throws {Error} outside a pool task
 * @example
 * ```ts
 * // tasks.ts
 * import { taskSignal } from "loopwork";
 *
 * export async function crawl(urls: string[]): Promise<number> {
 *   const signal = taskSignal();
 *   let n = 0;
 *   for (const url of urls) {
 *     const r = await fetch(url, { signal }); // a cancel stops the fetch
 *     n += (await r.text()).length;
 *   }
 *   return n;
 * }
 * ```
 */
export function taskSignal(): AbortSignal {
  const ctx = contextSlot().current;
  if (ctx === null) {
    throw new Error("taskSignal() is for a task running in a pool worker: call it in the task's synchronous part");
  }
  return ctx.signal;
}
