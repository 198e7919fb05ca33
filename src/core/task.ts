/**
 * Task: a future that drives a coroutine, exactly as asyncio's `Task.__step` does. The
 * loop calls `_run()`; a step resumes the generator with `next()` (or `throw()` to deliver
 * a cancellation), and the future the generator yields decides when the next step comes.
 * An async function runs as a task too: its `AbortSignal` carries the cancellation.
 * @module
 */
import { CancelledError, InvalidStateError, asCancellation, isCancelledError } from "./errors.ts";
import { blocking, type Coroutine, CANCELLED, FULFILLED, Future, PENDING, REJECTED, type Waiter } from "./future.ts";
import { describeValue, checkOptions, isGenerator, isThenable } from "./checks.ts";
import type { Runnable } from "./handles.ts";
import type { Loop, UnretrievedRecord } from "./loop.ts";
import { state } from "./running.ts";
import type { ZeroSleep } from "./sleep.ts";

/**
 * What a task can run: a generator object (`child(1)`), a generator function, or a
 * function taking an `AbortSignal` and returning a promise (an async task). The signal is
 * created only for a function that declares a parameter for it.
 *
 * @example
 * ```ts
 * import { type TaskBody, sleep } from "loopwork";
 *
 * const a: TaskBody<number> = function* () { yield* sleep(5); return 1; };
 * const b: TaskBody<string> = async (signal) => (signal.aborted ? "stop" : "go");
 * ```
 */
export type TaskBody<T> =
  | Coroutine<T>
  | (() => Coroutine<T>)
  | ((signal: AbortSignal) => PromiseLike<T>);

/**
 * Options of `spawn()` and `loop.createTask()`.
 *
 * @example
 * ```ts
 * import { run, spawn, type TaskOptions } from "loopwork";
 *
 * const options: TaskOptions = { name: "worker-1" };
 * await run(function* () {
 *   const t = spawn(function* () { return 1; }, options);
 *   console.log(t.name, yield* t); // worker-1 1
 * });
 * ```
 */
export interface TaskOptions {
  /** A name for logs and errors; default `Task-N`. */
  name?: string;
}

const TASK_OPTIONS = ["name"] as const;

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;

/** Waits on a future as a coroutine: how a task follows a future its function returned. */
function* waitOn<T>(f: Future<T>): Coroutine<T> {
  return yield* f;
}

/**
 * A future that runs a coroutine or an async function on a loop. Create one with
 * `spawn()` (or `loop.createTask()`); await it, `yield*` it, or cancel it.
 *
 * Cancellation follows asyncio: `cancel(msg)` requests it, and the coroutine receives a
 * `CancelledError` at its current `yield*` (or before its first step, in which case its
 * body never runs). It may clean up, even with further `yield*`, and rethrow; or catch and
 * carry on. An async-function task gets the request through its `AbortSignal`, and counts
 * as cancelled if it then rejects.
 *
 * @example
 * ```ts
 * import { run, sleep, spawn } from "loopwork";
 *
 * await run(function* () {
 *   const slow = spawn(function* () { yield* sleep(10_000); return "late"; }, { name: "slow" });
 *   yield* sleep(100);
 *   slow.cancel("took too long");
 *   try {
 *     yield* slow;
 *   } catch (e) {
 *     console.log(slow.cancelled(), (e as Error).message); // true "took too long"
 *   }
 * });
 * ```
 */
export class Task<T = unknown> extends Future<T> implements Runnable, Waiter {
  /**
   * @internal What runs next: the coroutine, or the function not yet called (a generator
   * function is called at the first step), or `null` once neither is left.
   */
  _body: Coroutine<T> | ((signal: AbortSignal) => unknown) | null;
  /**
   * @internal State only cancellation, failure and misuse need, made on first need: the
   * controller of `signal` alone while that is all there is (an async task that takes its
   * signal and is never cancelled), then the record, which takes the controller over.
   */
  _rare: TaskRare | AbortController | null = null;
  /** a given name, or the number of an automatic `Task-N` name, taken at creation */
  private _name: string | number;
  /** @internal neighbours in the loop's list of live tasks */ _prevLive: Task<unknown> | null = null;
  /** @internal */ _nextLive: Task<unknown> | null = null;
  /** @internal */ declare _loop: Loop;

  /** @internal Use `spawn()` or `loop.createTask()`. */
  constructor(body: TaskBody<T>, loop: Loop, options?: TaskOptions) {
    super(loop);
    this._value = null; // the future it waits on (`_futWaiter`): none yet
    // A generator function is called at the first step, not now: a task waiting in the
    // ready queue then holds no generator object, which is what a large fan-out keeps alive.
    this._body = body as Coroutine<T> | ((signal: AbortSignal) => unknown);
    const coro = typeof body !== "function" && isGenerator(body);
    if (typeof body === "function" || coro) {
      // runnable
    } else if ((body as unknown) instanceof Future) {
      throw new TypeError(
        "spawn() got a Future, which is already running: await or yield* it directly " +
          "(or wrap it with shield())",
      );
    } else {
      throw new TypeError(
        "spawn() expects a generator object, a generator function or a function " +
          `(signal) => Promise; got ${describeValue(body)}`,
      );
    }
    if (options !== undefined) {
      checkOptions("task", options, TASK_OPTIONS);
      if (options.name !== undefined && typeof options.name !== "string") {
        throw new TypeError(`task name must be a string, got ${describeValue(options.name)}`);
      }
    }
    this._name = options?.name ?? loop._nextTaskId();
    if (coro && loop.getDebug()) {
      const owner = claimCoroutine(body, this as Task<unknown>);
      if (owner !== null) throw runByAnother(`Task ${this.name}: its body is`, owner);
    }
    loop._linkTask(this as Task<unknown>);
    loop._pushReady(this);
  }

  /**
   * @internal The future this task waits on, or null. Kept in `_value`, which a pending task
   * has no other use for (its outcome goes there once it settles): one field less on every
   * task, which a fan-out of 100k tasks allocates and its collections copy (96 B instead of
   * 104; on Deno, spawn(gen(i)) + gather took ~20% less CPU time with it, medians of paired runs).
   */
  get _futWaiter(): Future<unknown> | null {
    return this._state === PENDING ? (this._value as Future<unknown> | null) : null;
  }
  set _futWaiter(f: Future<unknown> | null) {
    if (this._state === PENDING) this._value = f;
  }

  /** The task's name, `Task-N` unless one was given. */
  get name(): string {
    const n = this._name;
    return typeof n === "number" ? `Task-${n}` : n;
  }
  set name(value: string) {
    this._name = String(value);
  }

  /**
   * An `AbortSignal` aborted when cancellation of this task is requested (its reason is
   * the `CancelledError`). Hand it to `fetch`, streams or anything else that takes one.
   * After `uncancel()` brings `cancelling()` back to 0 the task gets a fresh signal.
   *
   * It is made on first read (already aborted if a cancellation is pending), and an
   * AbortSignal is costly on some runtimes (on Node 20 it dominates a trivial task). An
   * async task that needs it only now and then can take no parameter, keep its task
   * (`currentTask()` in its synchronous part) and read `signal` when it needs one, even
   * after an `await`.
   *
   * @example
   * ```ts
   * import { currentTask, gather, run, spawn } from "loopwork";
   *
   * const cache = new Map<string, string>();
   * await run(function* () {
   *   const tasks = ["a", "b"].map((key) => spawn(async () => {
   *     const task = currentTask()!; // no signal made yet
   *     const hit = cache.get(key);
   *     if (hit !== undefined) return hit;
   *     const r = await fetch(`https://example.com/${key}`, { signal: task.signal }); // made here
   *     return r.text();
   *   }));
   *   yield* gather(tasks);
   * });
   * ```
   */
  get signal(): AbortSignal {
    const rare = this._rare;
    if (!(rare instanceof TaskRare)) {
      if (rare !== null) return rare.signal;
      // No record: no cancel request. The controller alone, 88 B less than in a record (Deno).
      const made = new AbortController();
      this._rare = made;
      return made.signal;
    }
    let ac = rare.abort;
    if (ac === null) {
      ac = rare.abort = new AbortController();
      if (rare.numCancels > 0) ac.abort(new CancelledError(rare.signalMessage));
    }
    return ac.signal;
  }

  /**
   * Requests cancellation: the coroutine gets a `CancelledError` (with `msg`) at its
   * current suspension point, and the signal is aborted. Returns `false` if the task is
   * already done. Repeated requests are counted (see `cancelling()`).
   */
  override cancel(msg?: string): boolean {
    if (this._state !== PENDING) {
      // Cancelling a task that already failed answers for its failure, as asyncio's
      // Future.cancel() clears the "never retrieved" log of a done future.
      if (this._state === REJECTED) this._retrieved();
      return false;
    }
    const rare = this._record();
    // Re-entered while passing a request on to what it waits on: tasks wait on each other in
    // a cycle. The request under way stands; say no, so the caller does not count on this
    // task to wake it (see below), instead of recursing until the stack overflows.
    if (rare.passingCancel) return false;
    if (rare.numCancels++ === 0) rare.signalMessage = msg;
    const waiter = this._futWaiter;
    let passed = false;
    if (waiter !== null) {
      if (cancelDepth < MAX_CANCEL_DEPTH) passed = this._passCancel(waiter, msg);
      // A long chain of tasks each waiting on the next: pass the request on from the next
      // loop turn rather than overflow the stack. Until then it stands here (below).
      else this._loop._callSoon1(passCancelLater, this);
    }
    if (!passed) {
      // Not waiting (or the waiter is already done): the next step raises CancelledError.
      // Otherwise the waiter's cancellation wakes this task, which then raises it.
      rare.mustCancel = true;
      rare.cancelMessage = msg;
    }
    // Last: abort listeners run synchronously and may look at (or change) this state.
    const ac = rare.abort;
    if (ac !== null && !ac.signal.aborted) ac.abort(new CancelledError(rare.signalMessage));
    return true;
  }

  /**
   * @internal run()'s shutdown: a cancel request for a task that waits on a task which holds
   * a request of the same shutdown round. It is counted and aborts the signal as `cancel()`
   * does, and stands with that task as a passed request would (its end wakes this one), but
   * is not passed on: passing it would walk the whole chain below again, for every task of
   * the chain (quadratic in its length), only to count it once more on each.
   */
  _cancelBehind(): void {
    if (this._state !== PENDING) return;
    const rare = this._record();
    if (rare.numCancels++ === 0) rare.signalMessage = undefined;
    const ac = rare.abort;
    if (ac !== null && !ac.signal.aborted) ac.abort(new CancelledError(rare.signalMessage));
  }

  /** @internal The record of rare state, made now if need be (it takes over a bare controller). */
  private _record(): TaskRare {
    const rare = this._rare;
    if (rare instanceof TaskRare) return rare;
    const made = new TaskRare();
    if (rare !== null) made.abort = rare;
    this._rare = made;
    return made;
  }

  /**
   * @internal Passes a cancel request on to the future this task waits on; did it take it
   * (and will wake this task)? A future that refuses while pending (it waits on this task,
   * in a cycle) or whose `cancel()` throws would leave this task waiting for ever: it stops
   * waiting on it, and its next step raises the CancelledError.
   */
  _passCancel(waiter: Future<unknown>, msg: string | undefined): boolean {
    const rare = this._rare as TaskRare;
    let passed = false;
    rare.passingCancel = true;
    cancelDepth++;
    try {
      passed = waiter.cancel(msg);
    } catch (e) {
      this._loop.callExceptionHandler({ message: "cancel() of the future a task waits on threw", exception: e, task: this as Task<unknown> });
    } finally {
      rare.passingCancel = false;
      cancelDepth--;
    }
    if (!passed && waiter._state === PENDING && waiter._hasCallback(this)) {
      waiter._removeWaiter(this);
      this._loop._pushReady(this);
    }
    return passed;
  }

  /** How many cancellation requests are outstanding (asyncio's `Task.cancelling()`). */
  cancelling(): number {
    const rare = this._rare;
    return rare !== null && rare instanceof TaskRare ? rare.numCancels : 0;
  }

  /**
   * Withdraws one cancellation request and returns how many remain. Used by scopes that
   * turn their own cancellation into another outcome (a timeout into `TimeoutError`).
   */
  uncancel(): number {
    const rare = this._rare;
    if (!(rare instanceof TaskRare)) return 0;
    if (rare.numCancels > 0) {
      rare.numCancels--;
      if (rare.numCancels === 0) {
        rare.mustCancel = false;
        if (rare.abort !== null && rare.abort.signal.aborted) rare.abort = null;
      }
    }
    return rare.numCancels;
  }

  /** Tasks do not take results from outside: they finish when their body does. */
  override setResult(_value: T): never {
    throw new InvalidStateError("Task does not support setResult(): it finishes when its body returns");
  }

  /** Tasks do not take exceptions from outside: they fail when their body throws. */
  override setException(_error: unknown): never {
    throw new InvalidStateError("Task does not support setException(): it fails when its body throws");
  }

  /**
   * @internal This task's first step waits on `f` (the task of `waitFor()`): a cancellation
   * requested before that step reaches `f`, as it would once the task waits on it. asyncio
   * runs wait_for inline in its caller, so there is no such window (CPython issue 23219:
   * cancelling the wait cancels what it waits for).
   */
  _cancelsFirst(f: Future<unknown>): void {
    if (this._futWaiter === null && this.cancelling() === 0) this._futWaiter = f;
  }

  /** `Object.prototype.toString` names it `[object Task]`. */
  override get [Symbol.toStringTag](): string {
    return "Task";
  }

  /** A short description such as `Task<fetch-1, pending>`. */
  override toString(): string {
    return `Task<${this.name}, ${super.toString().slice(7, -1)}>`;
  }

  // ---- stepping ---------------------------------------------------------------------

  /** @internal The tasks waiting on this one: a task waits on a future as one of its done callbacks. */
  _waitingTasks(): Task<unknown>[] {
    const out: Task<unknown>[] = [];
    const cbs = this._cbs;
    if (cbs instanceof Task) out.push(cbs);
    else if (Array.isArray(cbs)) for (const cb of cbs) if (cb instanceof Task) out.push(cb);
    return out;
  }

  /** @internal Called by the loop's ready queue. */
  _run(): void {
    if (this._state !== PENDING) return;
    const body = this._body;
    if (body !== null) {
      if (typeof body === "function") this._startFunction(body);
      else this._step(body);
    } else if (this._value !== null) this._resumeFollowed();
  }

  /** @internal Takes a standing cancel request (the next step honours it); was there one? */
  private _takeMustCancel(): boolean {
    const rare = this._rare;
    if (rare === null || !(rare instanceof TaskRare) || !rare.mustCancel) return false;
    rare.mustCancel = false;
    return true;
  }

  /** @internal A future this task waits on is done: step on the next turn. */
  _wake(): void {
    this._loop._pushReady(this);
  }

  /**
   * One step: resume the coroutine, then act on what it yielded. Only the common path is
   * here (no pending throw or cancel, a `yield* future` or a bare `yield`), so that the
   * optimiser inlines the step into `_run`; the rest is in the methods it calls.
   */
  private _step(coro: Coroutine<T>): void {
    // A pending task keeps the future it waits on in `_value` (see `_futWaiter`); read and
    // written here directly, not through the accessor: the step is the loop's hottest path.
    const waiter = this._value as Future<unknown> | null;
    this._value = null;
    const rare = this._rare;
    // null for most tasks: one test of that first, the record's class only then (an async
    // task may hold its bare AbortController there).
    const error = rare !== null && rare instanceof TaskRare ? this._takeThrow(rare, waiter) : NO_THROW;
    const prev = state.task;
    state.task = this as Task<unknown>;
    let r: IteratorResult<unknown, T>;
    try {
      r = error === NO_THROW ? coro.next(undefined) : coro.throw(error);
    } catch (e) {
      state.task = prev;
      blocking.future = null;
      blocking.zero = null;
      this._fail(e);
      return;
    }
    state.task = prev;
    const marked = blocking.future;
    blocking.future = null;
    const zero = blocking.zero as ZeroSleep<unknown> | null;
    blocking.zero = null;
    if (r.done) {
      this._returned(r.value);
      return;
    }
    const y = r.value;
    if (y === undefined) {
      // A bare `yield`: give every other ready callback a turn, then continue. After `yield*
      // yieldNow()` whose future is still the last thing queued, take its place: the same
      // place, one entry fewer (the future is resolved already).
      if (zero === null || !this._loop._replaceLastReady(zero, this)) this._loop._pushReady(this);
    } else if (marked !== null && y === marked && marked !== (this as Future<unknown>)) {
      // `yield* future`: wait on it (only a future's iterator marks what it yields).
      this._value = marked;
      marked._addWaiter(this);
      if (this._rare !== null) this._cancelWaitIfRequested(marked);
    } else {
      this._badYield(y, marked);
    }
  }

  /**
   * What the step about to run throws into the coroutine, or NO_THROW: an error left for it
   * (a misuse found at the last step), or the cancellation requested meanwhile.
   */
  private _takeThrow(rare: TaskRare, waiter: Future<unknown> | null): unknown {
    let error: unknown = rare.pendingThrow;
    rare.pendingThrow = undefined;
    if (error === undefined) error = NO_THROW;
    if (rare.mustCancel) {
      rare.mustCancel = false;
      // If the future it waited on was cancelled (by an earlier request), resuming raises
      // that future's CancelledError: the first message wins, as in asyncio.
      if (waiter === null || waiter._state !== CANCELLED) {
        // The future it waited on failed, but the cancellation is what the coroutine gets:
        // waking on it took its exception (asyncio's __wakeup reads result() first).
        if (waiter !== null && waiter._state === REJECTED) waiter._retrieved();
        error = new CancelledError(rare.cancelMessage);
      }
    }
    return error;
  }

  /** The coroutine returned `value`. */
  private _returned(value: T): void {
    if (this._takeMustCancel()) {
      // Cancelled during the last step, which then returned: the request still stands.
      this._finishCancelled(new CancelledError((this._rare as TaskRare).cancelMessage));
    } else {
      this._finish(value);
    }
  }

  /** The coroutine yielded something other than a bare `yield` or `yield* future`: it learns so at its next step. */
  private _badYield(y: unknown, marked: Future<unknown> | null): void {
    if (y instanceof Future) {
      if (y === marked) {
        this._throwNext(new InvalidStateError(`Task ${this.name} cannot wait on itself`));
      } else {
        this._throwNext(
          new TypeError(
            `Task ${this.name}: \`yield\` was used instead of \`yield*\` with ${y}; ` +
              "write `yield* future` to wait for it and get its result",
          ),
        );
      }
    } else {
      this._throwNext(
        new TypeError(
          `Task ${this.name} yielded ${describeValue(y)}: a coroutine may only \`yield* future\` ` +
            "(`yield* until(promise)` for a promise) or `yield` nothing to let others run",
        ),
      );
    }
  }

  /** A cancel request made during this step reaches the future the task now waits on. */
  private _cancelWaitIfRequested(f: Future<unknown>): void {
    const rare = this._rare;
    if (rare instanceof TaskRare && rare.mustCancel && f.cancel(rare.cancelMessage)) rare.mustCancel = false;
  }

  private _throwNext(error: unknown): void {
    this._record().pendingThrow = error;
    this._loop._pushReady(this);
  }

  /** First and only step of a function task: call it, then follow what it returned. */
  private _startFunction(fn: (signal: AbortSignal) => unknown): void {
    if (this._takeMustCancel()) {
      // Cancelled before its first step: the body never runs.
      this._finishCancelled(new CancelledError((this._rare as TaskRare).cancelMessage));
      return;
    }
    this._body = null;
    if (fn instanceof GeneratorFunction) {
      // Calling a generator function runs none of its body (only its parameters' default
      // values, which may throw): the body starts with this same step.
      let coro: Coroutine<T>;
      try {
        coro = (fn as () => Coroutine<T>)();
      } catch (e) {
        this._fail(e);
        return;
      }
      this._body = coro;
      this._step(coro);
      return;
    }
    const prev = state.task;
    state.task = this as Task<unknown>;
    let out: unknown;
    try {
      // An AbortController is costly (on Node 20 it dominates a trivial task): a function
      // that declares no parameter gets none, and can still read `currentTask().signal`.
      out = fn.length === 0 ? (fn as () => unknown)() : fn(this.signal);
    } catch (e) {
      state.task = prev;
      this._fail(e);
      return;
    }
    state.task = prev;
    if (out instanceof Future) {
      // A loopwork future (a pool call, a sleep…): wait on it as `return yield* out` would,
      // so cancelling this task cancels it, but without a coroutine to drive.
      if (out._state === PENDING && out !== (this as Future<unknown>)) {
        this._value = out;
        out._addWaiter(this);
        this._cancelWaitIfRequested(out);
      } else {
        const coro = (this._body = waitOn(out) as Coroutine<T>);
        this._step(coro);
      }
    } else if (isThenable(out)) {
      // An async function is now at work in host microtasks: the loop lets them run
      // before its next batch.
      this._loop._hostWoken = true;
      try {
        this._follow(out);
      } catch (e) {
        // Its `then` threw: as the promise rules have it, ignored once it settled.
        this._followRejected(e);
      }
    } else if (isGenerator(out)) {
      const owner = this._loop.getDebug() ? claimCoroutine(out, this as Task<unknown>) : null;
      if (owner !== null) {
        this._fail(runByAnother(`Task ${this.name}: its function returned`, owner));
        return;
      }
      this._body = out as Coroutine<T>;
      this._step(out as Coroutine<T>);
    } else {
      this._fail(
        new TypeError(
          `Task ${this.name}: its function returned ${describeValue(out)}; a task function must ` +
            "return a promise (an async function) or a generator",
        ),
      );
    }
  }

  /**
   * The future this task follows (see `_startFunction`) is done: finish as `return yield*
   * future` would. A cancel request that did not reach the future wins over its outcome.
   */
  private _resumeFollowed(): void {
    const f = this._value as Future<unknown>;
    this._value = null;
    if (this._takeMustCancel()) {
      if (f._state !== CANCELLED) {
        if (f._state === REJECTED) f._retrieved(); // taken, and replaced by the cancellation
        else f._thrownInto(); // as `yield*` thrown into there: a grant gives back what it was given
        this._finishCancelled(new CancelledError((this._rare as TaskRare).cancelMessage));
        return;
      }
    }
    if (f._state === FULFILLED) {
      // Read as `yield* future` reads it: a grant (a lock's, a queue's get or put) is
      // received now, and its claim may still fail (a queue shut down meanwhile).
      let value: T;
      try {
        value = f.result() as T;
      } catch (e) {
        this._fail(e);
        return;
      }
      this._finish(value);
    } else if (f._state === REJECTED) {
      f._retrieved();
      this._fail(f._value);
    } else this._finishCancelled(f._cancelledError());
  }

  /** Settles this task as the promise an async task function returned settles. */
  private _follow(out: PromiseLike<unknown>): void {
    // Bound methods rather than two closures: smaller (a fan-out holds one pair per task
    // until its promise settles) and quicker to make.
    out.then(this._followFulfilled.bind(this), this._followRejected.bind(this));
  }

  private _followFulfilled(v: unknown): void {
    if (this._state === PENDING) this._finish(v as T);
  }

  private _followRejected(e: unknown): void {
    if (this._state !== PENDING) return;
    const rare = this._rare;
    // Rejected after its signal was aborted: that is how an async task is cancelled.
    if (rare instanceof TaskRare && rare.numCancels > 0) e = asCancellation(e, rare.signalMessage);
    this._fail(e);
  }

  private _fail(e: unknown): void {
    if (isCancelledError(e)) this._finishCancelled(e);
    else {
      this._settle();
      this._state = REJECTED;
      this._value = e;
      // Reported unless someone reads it (result(), exception(), yield*, then()/await, even
      // when that was before the failure), as asyncio logs "Task exception was never
      // retrieved"; a bare done callback does not count.
      const rare = this._record();
      if (rare.retrieval === null) rare.retrieval = this._loop._trackUnretrieved(this as Task<unknown>);
      this._scheduleCallbacks();
    }
  }

  private _finish(value: T): void {
    this._settle();
    super.setResult(value);
  }

  private _finishCancelled(e: CancelledError): void {
    this._settle();
    this._state = CANCELLED;
    this._value = e;
    this._scheduleCallbacks();
  }

  private _settle(): void {
    // The future it waited on (kept in `_value`) is overwritten by the outcome next.
    this._body = null;
    this._loop._unlinkTask(this as Task<unknown>);
  }

  /**
   * @internal Someone answers for this task's failure, now or when it comes: `result()`,
   * `exception()`, a task waking on it, or `then()` (the promise it returns rejects, so an
   * unhandled failure is reported once, by the host, as an unhandled rejection).
   */
  override _retrieved(): void {
    let rare = this._rare;
    if (rare === null || !(rare instanceof TaskRare)) {
      // Finished or cancelled: no failure to answer for (a failure makes the record).
      if (this._state !== PENDING) return;
      rare = this._record();
    }
    const rec = rare.retrieval;
    if (rec === true) return;
    rare.retrieval = true;
    if (rec !== null) this._loop._untrackUnretrieved(rec);
  }
}

/** What `_takeThrow` returns when the step throws nothing into the coroutine (`undefined` may be thrown). */
const NO_THROW: unknown = Symbol("no throw");

/**
 * In debug mode, the task that runs (or ran) each generator object given to a task. Not kept
 * otherwise: marking every generator object (a WeakMap entry, or even a property on the
 * object, which V8 adds through its runtime at a call site that sees many generator
 * functions) made `spawn(gen(i))` 20 to 35% slower (CPU time, 100k tasks, Node 20).
 */
const runBy = new WeakMap<object, Task<unknown>>();

/**
 * @internal Claims `coro` for `task`; returns the task that already runs (or ran) it, if any.
 * A generator object resumed by two tasks would interleave their steps (each `next()` runs
 * the body on from wherever the other left it), and one that has finished would only return
 * `undefined` again.
 */
function claimCoroutine(coro: object, task: Task<unknown>): Task<unknown> | null {
  const owner = runBy.get(coro);
  if (owner !== undefined) return owner;
  runBy.set(coro, task);
  return null;
}

function runByAnother(what: string, owner: Task<unknown>): TypeError {
  const verb = owner._state === PENDING ? "runs" : "ran";
  return new TypeError(
    `${what} a generator object that task ${owner.name} already ${verb}: a generator object ` +
      "runs in one task only. Call the generator function again for each task " +
      "(spawn(child(1)), spawn(child(1))) or pass the function itself (spawn(child))",
  );
}

/** How deep `cancel()` calls are nested now: one per task a request passes through. */
let cancelDepth = 0;
/** How deep they may nest before the rest of a chain is cancelled from the next loop turn. */
const MAX_CANCEL_DEPTH = 500;

/**
 * A request `cancel()` did not pass on (the chain was too deep): pass it on now, unless the
 * task stepped meanwhile (its waiter finished and woke it, and the request stood) or the
 * request was withdrawn. As in `cancel()`, a waiter that takes it wakes the task.
 */
function passCancelLater(t: unknown): void {
  const task = t as Task<unknown>;
  const rare = task._rare;
  const waiter = task._futWaiter;
  if (task._state !== PENDING || !(rare instanceof TaskRare) || !rare.mustCancel || waiter === null) return;
  if (task._passCancel(waiter, rare.cancelMessage)) rare.mustCancel = false;
}

/**
 * What a task needs only once it is cancelled, fails, is misused or is awaited as a promise
 * while pending (who answers for its failure): kept off the task itself, which a large
 * fan-out holds by the hundred thousand, and made on first need.
 */
class TaskRare {
  /** the next step raises CancelledError */ mustCancel = false;
  /** outstanding cancel requests (`cancelling()`) */ numCancels = 0;
  /** an error to throw into the coroutine at its next step */ pendingThrow: unknown = undefined;
  /** the controller of `signal`, once read */ abort: AbortController | null = null;
  /** the message of the first outstanding cancel request, for the signal */ signalMessage: string | undefined = undefined;
  /** the message of the cancellation the next step raises */ cancelMessage: string | undefined = undefined;
  /** `cancel()` is passing a request on to the future the task waits on */ passingCancel = false;
  /**
   * Who answers for a failure: `null` nobody yet; `true` someone took it (read it, or a
   * promise from `then()` will get it); a record while this failed task's exception is
   * unread, to be reported if it never is.
   */
  retrieval: UnretrievedRecord | true | null = null;
}
