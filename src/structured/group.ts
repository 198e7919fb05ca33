/**
 * `taskGroup`: asyncio.TaskGroup (3.12+) as a future. The group's own task runs the body;
 * children spawned with `tg.spawn` belong to it. The group ends only when the body and
 * every child have ended: nothing outlives it. The first child failure cancels the other
 * children and the body; every error is then raised together as a `TaskGroupError`.
 * @module
 */
import { CancelledError, isCancelledError, InvalidStateError, type Coroutine, describeValue, type DoneCallback, FULFILLED, Future, type Waiter, type Loop, getRunningLoop, isGenerator, Task, type TaskBody, type TaskOptions, checkSignal, linkSignal, startBody, checkOptions, keepAlive, notABody, onIdleLoop } from "../core/index.ts";

function summarise(errors: readonly unknown[]): string {
  const shown = errors.slice(0, 3).map(describeError);
  const more = errors.length > 3 ? `; and ${errors.length - 3} more` : "";
  return shown.join("; ") + more;
}

/**
 * One error for the group's message. Never throws: user code may throw a value whose
 * `message` getter or `getPrototypeOf` trap throws, and the group must still end with its
 * `TaskGroupError` (such a failure used to replace it, or leave the group unsettled).
 */
function describeError(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e);
  } catch {
    return "a value that cannot be described";
  }
}

/**
 * The errors of a task group, raised when a child or the body failed. `errors` holds every
 * error that was not a cancellation, in the order they happened (the body's own last); a
 * failed nested group appears as its own `TaskGroupError` inside.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup, TaskGroupError } from "loopwork";
 *
 * await run(function* () {
 *   try {
 *     yield* taskGroup(function* (tg) {
 *       tg.spawn(function* () { yield* sleep(10); throw new RangeError("bad input"); });
 *       tg.spawn(function* () { yield* sleep(1_000); }); // cancelled at 10 ms
 *     });
 *   } catch (e) {
 *     if (e instanceof TaskGroupError) console.log(e.errors.map(String)); // ["RangeError: bad input"]
 *   }
 * });
 * ```
 */
export class TaskGroupError extends AggregateError {
  /** Every non-cancellation error of the group. */
  declare errors: unknown[];
  /** Creates the error from the group's errors; the message lists the first few. */
  constructor(errors: readonly unknown[], message?: string) {
    const n = errors.length;
    super(
      [...errors],
      message ?? `unhandled errors in a task group (${n} sub-error${n === 1 ? "" : "s"}): ${summarise(errors)}`,
    );
    this.name = "TaskGroupError";
  }
}

/**
 * Options of `taskGroup()`.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup, type TaskGroupOptions } from "loopwork";
 *
 * await run(async () => {
 *   const ac = new AbortController();
 *   const options: TaskGroupOptions = { name: "crawl", signal: ac.signal };
 *   const group = taskGroup(function* (tg) {
 *     tg.spawn(function* () { yield* sleep(60_000); });
 *   }, options);
 *   setTimeout(() => ac.abort(new Error("user left")), 10);
 *   await group.then(undefined, (e: Error) => console.log(e.name, e.message)); // CancelledError user left
 * });
 * ```
 */
export interface TaskGroupOptions {
  /** Name of the group's task (default `Task-N`). */
  name?: string;
  /**
   * Cancels the group when aborted: for callers in async functions, whose own cancellation
   * does not otherwise reach the group. The abort reason's message becomes the cancel message.
   */
  signal?: AbortSignal;
}

/**
 * The body of a task group: a generator function or an async function of the group.
 *
 * @example
 * ```ts
 * import { sleep, type TaskGroupBody } from "loopwork";
 *
 * const gen: TaskGroupBody<number> = function* (tg) {
 *   const t = tg.spawn(function* () { yield* sleep(10); return 1; });
 *   return yield* t;
 * };
 * const fn: TaskGroupBody<number> = async (tg) => await tg.spawn(async () => 2);
 * ```
 */
export type TaskGroupBody<R> = (tg: TaskGroup) => Coroutine<R> | PromiseLike<R>;

/**
 * The handle a task-group body receives: spawn children into it with `spawn`; an async body
 * listens to `signal`. Create one with `taskGroup()`.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "loopwork";
 *
 * await run(function* () {
 *   yield* taskGroup(function* (tg) {
 *     const a = tg.spawn(function* () { yield* sleep(20); return "a"; }, { name: "a" });
 *     const b = tg.spawn(async () => { await sleep(10); return "b"; });
 *     console.log(yield* a, yield* b); // a b
 *   });
 * });
 * ```
 */
export class TaskGroup implements Waiter {
  /** @internal */ readonly _loop: Loop;
  /** @internal the group's own task, which runs the body */ _task!: Task<unknown>;
  /** @internal the children not yet taken off (see `_wake`) */ readonly _tasks: Children = new Children();
  /** @internal */ readonly _errors: unknown[] = [];
  /** @internal */ _exiting = false;
  /** @internal */ _finished = false;
  /** @internal */ _aborting = false;
  /** @internal */ _parentCancelRequested = false;
  /** @internal */ _onCompleted: Future<void> | null = null;
  /** @internal bound once per group: the done callback of a child */
  readonly _onChildDone: (t: Future<unknown>) => void;
  /** @internal children whose done callback is scheduled and has not run yet */ _callbacksDue = 0;

  /** @internal Use `taskGroup()`. */
  constructor(loop: Loop) {
    this._loop = loop;
    this._onChildDone = (t) => {
      this._callbacksDue--;
      this._childDone(t as Task<unknown>);
    };
  }

  /**
   * Starts `body` as a child task of the group (a generator object, a generator function or
   * an async function `(signal) => Promise`) and returns the task.
   *
   * @throws {InvalidStateError} when the group has finished, or is shutting down after a
   *   failure or a cancellation
   * @throws {TypeError} when `body` cannot run as a task
   */
  spawn<T>(body: TaskBody<T>, options?: TaskOptions): Task<T> {
    if (this._finished || (this._exiting && this._tasks.size === 0)) {
      closeUnstarted(body);
      throw new InvalidStateError(`spawn(): task group ${this._task.name} is finished`);
    }
    if (this._aborting) {
      closeUnstarted(body);
      throw new InvalidStateError(
        `spawn(): task group ${this._task.name} is shutting down (a child failed or it was cancelled)`,
      );
    }
    const child = this._loop.createTask(body, options);
    this._tasks.add(child as Task<unknown>);
    child._addCallback(this);
    return child;
  }

  /**
   * The group task's `AbortSignal`: aborted when the body is cancelled (a child failed, or
   * the group was cancelled from outside). An async body passes it to what it awaits.
   */
  get signal(): AbortSignal {
    return this._task.signal;
  }

  /**
   * Cancels the group: every child and the body. The group then ends normally (with
   * `undefined` as its result if the body did not return), not with a `CancelledError`:
   * this is how a body stops its own group, for instance once a first answer came in.
   * Does nothing once the group has finished.
   */
  cancel(): void {
    if (this._finished || (this._exiting && this._tasks.size === 0)) return;
    if (!this._aborting) {
      this._abort();
      if (!this._parentCancelRequested) {
        this._parentCancelRequested = true;
        this._task.cancel();
      }
    }
  }

  /** How many children are still running. */
  get size(): number {
    return this._tasks.size;
  }

  /** @internal Cancels every child still running. */
  _abort(): void {
    this._aborting = true;
    for (const t of this._tasks) if (!t.done()) t.cancel();
  }

  /**
   * @internal A child is done. One that finished while others still run, with no done
   * callback of a sibling still due, only leaves the set: it is taken off at once, without a
   * Handle nor a loop turn. Any other (a failure, a cancellation, the last child) gets its
   * done callback on the next turn, as asyncio's `_on_task_done`, in the same order.
   */
  _wake(child: Future<unknown>): void {
    if (child._state === FULFILLED && this._callbacksDue === 0 && this._tasks.size > 1) {
      this._tasks.delete(child as Task<unknown>);
      return;
    }
    this._callbacksDue++;
    child._schedule(this._onChildDone as DoneCallback<never>);
  }

  private _childDone(task: Task<unknown>): void {
    this._tasks.delete(task);
    const done = this._onCompleted;
    if (done !== null && this._tasks.size === 0 && !done.done()) done.setResult();
    if (task.cancelled()) return;
    let error: unknown;
    try {
      task.result();
      return;
    } catch (e) {
      error = e;
    }
    this._errors.push(error);
    if (this._task.done()) {
      this._loop.callExceptionHandler({
        message: "a task group child failed after its group had ended",
        exception: error,
        task,
      });
      return;
    }
    if (!this._aborting && !this._parentCancelRequested) {
      // Stop the body too; the group withdraws this request (uncancel) when it exits, so
      // the failure, not a cancellation, is what comes out.
      this._abort();
      this._parentCancelRequested = true;
      this._task.cancel();
    }
  }
}

/**
 * A group's children: a list in spawn order and a count, where a `Set` spent a hash insert
 * and a hash delete per child (most of a large group's own cost). `size` counts the
 * children not yet taken off; iterating gives those still running, in spawn order. Children
 * taken off in spawn order (a fan-out's are) leave the front of the list at once, touching
 * no other child; one taken off elsewhere stays in the list, done, until the list is more
 * than half such children and is compacted: amortised O(1), and it keeps at most as many
 * finished children as running ones (plus a few).
 */
class Children implements Iterable<Task<unknown>> {
  private _list: (Task<unknown> | undefined)[] = [];
  /** where the children not yet taken off start in `_list` (the slots before are empty) */
  private _head = 0;
  /** How many children have not been taken off. */
  size = 0;

  add(t: Task<unknown>): void {
    this._list.push(t);
    this.size++;
  }

  /** Takes off `t`, a done child (each child exactly once). */
  delete(t: Task<unknown>): void {
    this.size--;
    const list = this._list;
    let head = this._head;
    if (list[head] === t) {
      // The oldest: it and the done children after it leave the front.
      list[head++] = undefined;
      while (head < list.length && list[head]!.done()) list[head++] = undefined;
      if (head === list.length) {
        this._list = [];
        head = 0;
      }
      this._head = head;
    } else if (list.length - head > 2 * this.size + 64) {
      const kept: Task<unknown>[] = [];
      for (let i = head; i < list.length; i++) if (!list[i]!.done()) kept.push(list[i]!);
      this._list = kept;
      this._head = 0;
    }
  }

  *[Symbol.iterator](): Iterator<Task<unknown>> {
    // A list compacted meanwhile is replaced, not changed, and one whose front is taken off
    // only loses done children: this one stays whole.
    const list = this._list;
    for (let i = this._head; i < list.length; i++) {
      const t = list[i];
      if (t !== undefined && !t.done()) yield t;
    }
  }
}

/** The group each group task runs: one entry per group, for `taskTree()`. */
const groups = new WeakMap<Task<unknown>, TaskGroup>();

/** @internal The task group `task` runs (its body and children), if it is a group's task. */
export function groupOf(task: Task<unknown>): TaskGroup | undefined {
  return groups.get(task);
}

function closeUnstarted(body: unknown): void {
  if (isGenerator(body)) {
    try {
      body.return(undefined as never);
    } catch {
      // a generator that throws while closing: nothing to report, it never ran
    }
  }
}

function* groupMain<R>(g: TaskGroup, body: TaskGroupBody<R>): Coroutine<R> {
  let result: R | undefined;
  let threw = false;
  let error: unknown;
  try {
    result = yield* startBody("taskGroup()", body, g);
  } catch (e) {
    threw = true;
    error = e;
  }
  yield* groupExit(g, threw, error);
  return result as R;
}

/** asyncio's `TaskGroup.__aexit__`: wait for every child, then decide what comes out. */
function* groupExit(g: TaskGroup, threw: boolean, error: unknown): Coroutine<void> {
  g._exiting = true;
  let propagate: CancelledError | null = threw && isCancelledError(error) ? error : null;
  if (threw && !g._aborting) g._abort();
  let pending: CancelledError | null = null;
  while (g._tasks.size > 0) {
    g._onCompleted ??= new Future<void>(g._loop);
    try {
      yield* g._onCompleted;
    } catch (e) {
      if (!isCancelledError(e)) throw e;
      pending = e;
      // The group was cancelled while waiting: from outside, unless it is already aborting.
      if (!g._aborting) {
        propagate = e;
        g._abort();
      }
    }
    g._onCompleted = null;
  }
  g._finished = true;
  if (g._parentCancelRequested) {
    // Withdraw the group's own request; what remains came from outside.
    if (g._task.uncancel() === 0) propagate = null;
    else propagate ??= pending;
  }
  if (propagate !== null && g._errors.length === 0) throw propagate;
  if (threw && !isCancelledError(error)) g._errors.push(error);
  if (g._errors.length > 0) {
    if (g._task.cancelling() > 0) keepCancellationOfWaiters(g._task);
    throw new TaskGroupError(g._errors);
  }
}

/**
 * The group ends with errors although a cancellation from outside is pending: the errors
 * have priority, but the cancellation must not be lost (asyncio re-cancels the parent task
 * after raising the ExceptionGroup). Each task waiting on the group that was itself being
 * cancelled first receives the `TaskGroupError`, then, at its next suspension point, its
 * `CancelledError`. Its `cancelling()` count stays as it was.
 */
function keepCancellationOfWaiters(groupTask: Task<unknown>): void {
  const loop = groupTask._loop;
  for (const w of groupTask._waitingTasks()) {
    if (w.cancelling() === 0) continue;
    // Two hops: the waiter first steps once with the TaskGroupError (it is woken when the
    // group fails, right after this), then its next wait is cancelled.
    loop._callSoon1(recancelSoon, w);
  }
}

function recancelSoon(w: unknown): void {
  (w as Task<unknown>)._loop._callSoon1(recancel, w);
}

function recancel(w: unknown): void {
  const task = w as Task<unknown>;
  if (task.done()) return;
  task.uncancel();
  task.cancel();
}

/**
 * Runs `body` with a task group and returns the group's task, which resolves to what the
 * body returned once the body and every child have ended (asyncio.TaskGroup, 3.12+):
 *
 * - the first child failure (a cancellation is not one) cancels the other children and the
 *   body; the group then throws a `TaskGroupError` whose `errors` hold every failure
 *   (a body that turns its cancellation into an error adds that error);
 * - cancelling the group's task (for instance by cancelling the task that waits on it)
 *   cancels every child and the body, waits for them, and ends with the same
 *   `CancelledError`, message and all, not wrapped;
 * - `tg.spawn` after the group finished, or while it shuts down, throws `InvalidStateError`;
 *   children may spawn siblings into the group while it runs.
 *
 * A generator body runs in the group's task and gets the cancellation at its `yield*`. An
 * async body gets it through `tg.signal`; if it rejects after that signal was aborted, the
 * rejection counts as the cancellation (so an async body cannot turn its cancellation into
 * an error, unlike a generator body). An async child that ignores its signal keeps the
 * group waiting: the group never leaves a child running.
 *
 * @param body generator function or async function receiving the `TaskGroup`
 * @param options `name` of the group's task; `signal` to cancel the group from async code
 * @throws {TypeError} synchronously when `body` is not a function
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "loopwork";
 *
 * const sum = await run(function* () {
 *   return yield* taskGroup(function* (tg) {
 *     const a = tg.spawn(function* () { yield* sleep(100); return 1; });
 *     const b = tg.spawn(async (signal) => { await sleep(200); return signal.aborted ? 0 : 2; });
 *     return (yield* a) + (yield* b); // both run concurrently: ~200 ms
 *   });
 * });
 * console.log(sum); // 3
 * ```
 */
export function taskGroup<R>(body: TaskGroupBody<R>, options?: TaskGroupOptions): Task<R> {
  if (typeof body !== "function") {
    throw notABody("taskGroup()", body, "tg", "a group runs a body that starts its children, taskGroup(function* (tg) { tg.spawn(…); })");
  }
  checkOptions("taskGroup()", options, ["name", "signal"]);
  const signal = checkSignal("taskGroup()", options?.signal);
  const loop = getRunningLoop();
  const g = new TaskGroup(loop);
  const task = loop.createTask(groupMain(g, body), options?.name === undefined ? undefined : { name: options.name });
  g._task = task as Task<unknown>;
  groups.set(task as Task<unknown>, g);
  linkSignal(task as Task<unknown>, signal);
  return task;
}

function* idleChild(): Generator<undefined, undefined, unknown> {
  return undefined;
}

// A task group that ran a child, kept (its group with it) for the life of the program: its
// classes' maps then never die, nor the optimised code made for them (see keepAlive in
// src/core/keepalive.ts).
onIdleLoop(() => {
  keepAlive(taskGroup(function* (tg) {
    tg.spawn(idleChild());
  }));
});
