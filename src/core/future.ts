/**
 * Future: the one awaitable of the loop. It is a `Promise` in all but its prototype chain
 * (`then`, `catch`, `finally`, so `await fut` and any code written for promises take it
 * unchanged) and iterable the way asyncio's `Future.__iter__` is (so
 * `const x = yield* fut` works in a generator coroutine, typed). Done callbacks run on the
 * future's loop, in the order they were added; a future made outside any loop runs them
 * as host microtasks.
 * @module
 */
import { CancelledError, InvalidStateError } from "./errors.ts";
import { describeValue } from "./checks.ts";
import { defaultExceptionReport } from "./report.ts";
import { state } from "./running.ts";
import type { Loop } from "./loop.ts";

/** @internal */ export const PENDING = 0;
/** @internal */ export const FULFILLED = 1;
/** @internal */ export const REJECTED = 2;
/** @internal */ export const CANCELLED = 3;

const STATE_NAMES = ["pending", "finished", "failed", "cancelled"] as const;

/**
 * A callback run once a future is done; it receives the future.
 *
 * @example
 * ```ts
 * import { type DoneCallback, Future, run } from "loopwork";
 *
 * await run(function* () {
 *   const f = new Future<number>();
 *   const log: DoneCallback<number> = (done) => console.log(done.result()); // 42
 *   f.addDoneCallback(log);
 *   f.setResult(42);
 *   yield* f;
 * });
 * ```
 */
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * Something a task can wait on with `yield*`: a future, or nothing (a bare `yield`).
 *
 * @example
 * ```ts
 * import { run, sleep, type Yieldable } from "loopwork";
 *
 * function* twoSteps(): Generator<Yieldable, string> {
 *   yield; // one turn of the loop
 *   yield* sleep(10);
 *   return "done";
 * }
 * console.log(await run(twoSteps)); // done
 * ```
 */
export type Yieldable = Future<unknown> | undefined;

/**
 * A generator coroutine: it `yield*`s futures and returns a `T`.
 *
 * @example
 * ```ts
 * import { type Coroutine, sleep } from "loopwork";
 *
 * function* double(x: number): Coroutine<number> {
 *   yield* sleep(10);
 *   return 2 * x;
 * }
 * ```
 */
export type Coroutine<T> = Generator<Yieldable, T, unknown>;

/**
 * @internal What a future wakes when done, synchronously as it settles and without a loop
 * turn: a task waiting on it, or a combinator counting its children. `_wake` must neither
 * throw nor run user code; it schedules whatever does.
 */
export interface Waiter {
  _wake(future: Future<unknown>): void;
}

/** @internal */
export type Callback = DoneCallback<never> | Waiter;

/**
 * The result of an operation that has not finished yet: pending, then finished with a
 * result, failed with an exception, or cancelled.
 *
 * @example
 * ```ts
 * import { Future, getRunningLoop, run } from "loopwork";
 *
 * const answer = await run(function* () {
 *   const fut = new Future<number>();
 *   getRunningLoop().callLater(100, () => fut.setResult(42));
 *   return yield* fut; // typed number
 * });
 * console.log(answer); // 42
 * ```
 */
export class Future<T = unknown> implements Promise<T> {
  // The fields are set in the constructor rather than declared with initialisers: every
  // subclass (Task, the sleeps, the combinators' futures, grants…) runs this constructor on
  // its own shape, and on Node 20 a class field's definition on many shapes takes a slow path
  // (~0.8 µs per construction, against ~0.08 µs for an assignment).
  /** @internal */ declare _state: number;
  /**
   * @internal The result, the exception, or once cancelled the CancelledError (or, until
   * one is made, the cancel message).
   */
  declare _value: unknown;
  /**
   * @internal The callbacks, in order: none, one (most futures have exactly one, kept
   * without an array), or an array of them.
   */
  declare _cbs: Callback | Callback[] | null;
  /** @internal */ declare _loop: Loop | null;

  /**
   * Creates a pending future bound to `loop`, by default the running loop. Outside any loop
   * it is unbound and its callbacks run as host microtasks.
   */
  constructor(loop?: Loop) {
    this._state = PENDING;
    this._value = undefined;
    this._cbs = null;
    this._loop = loop ?? state.loop;
  }

  /** The loop this future is bound to, or `undefined` for an unbound one. */
  getLoop(): Loop | undefined {
    return this._loop ?? undefined;
  }

  /** Whether the future finished, failed or was cancelled. */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result. Throws the exception if the future failed, a `CancelledError` if it was
   * cancelled, and `InvalidStateError` if it is still pending.
   */
  result(): T {
    switch (this._state) {
      case FULFILLED:
        return this._value as T;
      case REJECTED:
        this._retrieved();
        throw this._value;
      case CANCELLED:
        throw this._cancelledError();
      default:
        throw new InvalidStateError("Result is not set: the future is still pending.");
    }
  }

  /**
   * The exception the future failed with, or `undefined` if it finished. Throws a
   * `CancelledError` if it was cancelled and `InvalidStateError` if it is still pending.
   */
  exception(): unknown {
    switch (this._state) {
      case FULFILLED:
        return undefined;
      case REJECTED:
        this._retrieved();
        return this._value;
      case CANCELLED:
        throw this._cancelledError();
      default:
        throw new InvalidStateError("Exception is not set: the future is still pending.");
    }
  }

  /** Marks the future finished with `value` and schedules its callbacks. */
  setResult(value: T): void {
    if (this._state !== PENDING) this._alreadyDone("setResult");
    this._state = FULFILLED;
    this._value = value;
    this._scheduleCallbacks();
  }

  /** Marks the future failed with `error` and schedules its callbacks. */
  setException(error: unknown): void {
    if (this._state !== PENDING) this._alreadyDone("setException");
    this._state = REJECTED;
    this._value = error;
    this._scheduleCallbacks();
  }

  /**
   * Cancels the future and schedules its callbacks. Returns `false` if it was already
   * done, `true` otherwise. `msg` becomes the message of the `CancelledError` that
   * `result()` and waiting tasks see.
   */
  cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    this._state = CANCELLED;
    this._value = msg;
    this._scheduleCallbacks();
    return true;
  }

  /**
   * Adds a callback to run once the future is done (at once, on the next loop turn, if it
   * already is). Callbacks run in the order they were added.
   */
  addDoneCallback(cb: DoneCallback<T>): void {
    if (typeof cb !== "function") {
      throw new TypeError(`addDoneCallback() expects a function, got ${describeValue(cb)}`);
    }
    this._addCallback(cb as Callback);
  }

  /** Removes every registration of `cb`; returns how many were removed. */
  removeDoneCallback(cb: DoneCallback<T>): number {
    const cbs = this._cbs;
    if (cbs === (cb as Callback)) {
      this._cbs = null;
      return 1;
    }
    if (!Array.isArray(cbs)) return 0;
    const kept = cbs.filter((c) => c !== (cb as Callback));
    this._cbs = kept.length > 0 ? kept : null;
    return cbs.length - kept.length;
  }

  /**
   * Promise interop: `await future` in any async function. The promise returned takes over
   * the future's failure, whenever it comes: a task awaited (or `then`ed) before it fails is
   * not reported as "never retrieved". That holds for `then(onFulfilled)` alone too: the
   * promise it returns rejects, and if nobody handles it the host reports it once, as an
   * unhandled rejection, instead of the loop.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // `any`, as in Promise's own `then`: code written for promises (`(e: Error) => …`) types.
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this._toPromise().then(onfulfilled, onrejected);
  }

  /**
   * `Promise.prototype.catch`: a promise settled as this future is, with `onrejected`
   * handling a failure (or cancellation, as a `CancelledError`). It takes the future's
   * failure: a task `catch`ed is never reported as "never retrieved".
   */
  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    // Through `then`, as Promise.prototype.catch: a subclass's `then` (a grant's, which
    // claims what it was granted) is what reads the outcome.
    return this.then(undefined, onrejected);
  }

  /**
   * `Promise.prototype.finally`: a promise settled as this future is, once `onfinally` has
   * run (once, whatever the outcome). A throwing or rejecting `onfinally` replaces the
   * outcome. As `then(f)` alone, the promise returned takes over the future's failure: if
   * nobody handles it the host reports it once, as an unhandled rejection.
   */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  /** `Object.prototype.toString` names it `[object Future]` (a task: `[object Task]`). */
  get [Symbol.toStringTag](): string {
    return "Future";
  }

  /** `yield* future` in a generator coroutine: waits for it and returns its result. */
  [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    return new FutureIterator(this);
  }

  /** A short description such as `Future<pending>`. */
  toString(): string {
    return `Future<${STATE_NAMES[this._state]}>`;
  }

  // ---- internals shared by the core -------------------------------------------------

  /** @internal A task waits on this future: it is woken on its own loop when done. */
  _addWaiter(waiter: Waiter): void {
    this._addCallback(waiter);
  }

  /**
   * @internal As `addDoneCallback` (a consumer that will read the outcome: a grant counts as
   * received), for a combinator's waiter, woken as the future settles.
   */
  _addDoneWaiter(waiter: Waiter): void {
    this._addCallback(waiter);
  }

  /**
   * @internal As `_addDoneWaiter`, for a future that nothing waits on yet and whose
   * registration does nothing else: registers `waiter` as its only callback and says so; else
   * (done, already waited on, or a grant, which counts as received) does nothing and says no.
   * `_dropOnlyWaiter` takes it back. For gather's one pass over a fan-out of new tasks.
   */
  _addOnlyWaiter(waiter: Waiter): boolean {
    if (this._state !== PENDING || this._cbs !== null) return false;
    this._cbs = waiter;
    return true;
  }

  /** @internal Takes back what `_addOnlyWaiter` registered. */
  _dropOnlyWaiter(): void {
    this._cbs = null;
  }

  /** @internal */
  _removeWaiter(waiter: Waiter): void {
    const cbs = this._cbs;
    if (cbs === waiter) this._cbs = null;
    else if (Array.isArray(cbs)) {
      const i = cbs.indexOf(waiter);
      if (i >= 0) cbs.splice(i, 1);
    }
  }

  /**
   * @internal Someone answers for this future's failure (read it, or a promise of `then()`
   * will get it). A hook for subclasses whose failures are reported if never read.
   */
  _retrieved(): void {}

  /**
   * @internal Settles this pending future as `src` (done) settled: with its result, its
   * exception (read, so `src` is not reported as never retrieved) or its cancellation.
   */
  _copyOutcome(src: Future<T>): void {
    if (src._state === FULFILLED) this.setResult(src._value as T);
    else if (src._state === REJECTED) {
      src._retrieved();
      this.setException(src._value);
    } else this.cancel(src._cancelledError().message);
  }

  /** @internal The task waiting at `yield* future` was thrown into or closed there (a grant gives back what it holds). */
  _thrownInto(): void {}

  /** @internal The CancelledError this future raises; created once. */
  _cancelledError(): CancelledError {
    const v = this._value;
    if (v instanceof CancelledError) return v;
    const e = new CancelledError(v as string | undefined);
    this._value = e;
    return e;
  }

  /** @internal The message of a cancelled future, without making its CancelledError. */
  _cancelMessageOf(): string | undefined {
    const v = this._value;
    return v instanceof CancelledError ? v.message : (v as string | undefined);
  }

  /** @internal A promise settled as this future is; it answers for a failure from now on. */
  _toPromise(): Promise<T> {
    this._retrieved();
    switch (this._state) {
      case FULFILLED:
        return Promise.resolve(this._value as T);
      case REJECTED:
        return Promise.reject(this._value);
      case CANCELLED:
        return Promise.reject(this._cancelledError());
    }
    // Awaits of one pending future made one after the other (a fan-in: many async tasks
    // awaiting one event) share one promise: each `then()` still returns its own, and waiters
    // settle their promises synchronously, in order, so sharing changes no ordering.
    const cbs = this._cbs;
    const last = Array.isArray(cbs) ? cbs[cbs.length - 1] : cbs;
    if (last instanceof PromiseWaiter) return (last as PromiseWaiter<T>).promise;
    const waiter = new PromiseWaiter(this);
    this._addCallback(waiter);
    return waiter.promise;
  }

  private _alreadyDone(op: string): never {
    throw new InvalidStateError(
      `${op}() on a future that is already ${STATE_NAMES[this._state]}: a future settles once`,
    );
  }

  /** @internal Is `cb` among the callbacks waiting for this pending future? */
  _hasCallback(cb: Callback): boolean {
    const cbs = this._cbs;
    return cbs === cb || (Array.isArray(cbs) && cbs.includes(cb));
  }

  /** @internal */
  _addCallback(cb: Callback): void {
    if (this._state !== PENDING) {
      this._schedule(cb);
      return;
    }
    const cbs = this._cbs;
    if (cbs === null) this._cbs = cb;
    else if (Array.isArray(cbs)) cbs.push(cb);
    else this._cbs = [cbs, cb];
  }

  /** @internal */
  _scheduleCallbacks(): void {
    const cbs = this._cbs;
    if (cbs === null) return;
    this._cbs = null;
    if (!Array.isArray(cbs)) this._schedule(cbs);
    else for (let i = 0; i < cbs.length; i++) this._schedule(cbs[i]!);
  }

  /** @internal Runs a waiter now, or a done callback on the future's loop (a host microtask without one). */
  _schedule(cb: Callback): void {
    if (typeof cb !== "function") {
      cb._wake(this as Future<unknown>);
      return;
    }
    const loop = this._loop;
    if (loop !== null && !loop.isClosed()) {
      loop._callSoon1(cb as (f: unknown) => void, this);
    } else {
      scheduleOutsideLoop(cb as DoneCallback<T>, this, loop);
    }
  }
}

/**
 * @internal The future an iterator just yielded for a task to wait on (`yield* future`), as
 * asyncio marks a future "blocking": the task takes it at once, which tells it apart from a
 * future yielded bare (`yield future`, a mistake). One slot, not a field on every future:
 * nothing runs between the iterator's `next()` and the task receiving what it yielded.
 */
export const blocking: {
  future: Future<unknown> | null;
  /**
   * A zero sleep whose own iterator just yielded bare (`yield* yieldNow()`): the task may
   * resume from that future's turn in the ready queue instead of queueing itself (see
   * `ZeroSleep`). Only an offer: the task takes it when the future is still the last thing
   * queued, where resuming from it is exactly resuming next.
   */
  zero: Future<unknown> | null;
} = { future: null, zero: null };

/**
 * Queues `runOutsideLoop` as a host microtask. A function of its own: a function that makes a
 * closure allocates the closure's variables on every call, even on paths that make none (here
 * that was 56 bytes on every future settled, on the hot path of every task).
 */
function scheduleOutsideLoop<T>(cb: DoneCallback<T>, fut: Future<T>, loop: Loop | null): void {
  queueMicrotask(() => runOutsideLoop(cb, fut, loop));
}

/**
 * Runs a done callback of a future with no running loop (unbound, or bound to a closed
 * loop such as the one of pool calls made from plain async code). What it throws is
 * reported as a loop reports a throwing callback — to the loop's exception handler if the
 * future has a loop, else with `console.error` — instead of escaping as an uncaught
 * exception, which would end the process.
 */
function runOutsideLoop<T>(cb: DoneCallback<T>, fut: Future<T>, loop: Loop | null): void {
  try {
    cb(fut);
  } catch (e) {
    const context = { message: "Exception in callback", exception: e };
    if (loop !== null) loop.callExceptionHandler(context);
    else defaultExceptionReport(context);
  }
}

/** Settles a native promise from a future, for `then()`. */
class PromiseWaiter<T> implements Waiter {
  /** the promise this waiter settles */ readonly promise: Promise<T>;
  private resolve!: (v: T) => void;
  private reject!: (e: unknown) => void;
  constructor(private readonly fut: Future<T>) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
  _wake(): void {
    const f = this.fut;
    // The continuation runs as a host microtask: tell the running loop to let those run
    // before its next batch.
    const loop = state.loop;
    if (loop !== null) loop._hostWoken = true;
    if (f._state === FULFILLED) this.resolve(f._value as T);
    else if (f._state === REJECTED) this.reject(f._value);
    else this.reject(f._cancelledError());
  }
}

/**
 * The iterator behind `yield* future`: yields the future itself to the task while it is
 * pending (marking it "blocking", as asyncio does, so a plain `yield future` can be told
 * apart), then returns its result or throws its exception.
 */
class FutureIterator<T> implements Iterator<Future<unknown>, T, unknown> {
  constructor(private readonly fut: Future<T>) {}
  next(): IteratorResult<Future<unknown>, T> {
    const f = this.fut;
    if (f._state === PENDING) {
      // Still marked from this iterator's last step: nothing took it, so no task waited on
      // it. Spread or iterated by for-of, it would yield itself for ever. (An iterator of `f`
      // left after one step, by a for-of's break or a destructuring, took its mark back in
      // `return()`: it does not count against the next `yield* f`.)
      if (blocking.future === f) {
        blocking.future = null;
        throw new TypeError(
          `${f} was iterated outside a task: a future's iterator is for \`yield* future\` in a loopwork ` +
            "task, and resumed while the future is pending it has nothing to give (was one awaitable " +
            "given where a list goes, or a coroutine spread?)",
        );
      }
      blocking.future = f;
      return { done: false, value: f };
    }
    return { done: true, value: f.result() };
  }
  throw(e: unknown): IteratorResult<Future<unknown>, T> {
    if (blocking.future === this.fut) blocking.future = null;
    this.fut._thrownInto();
    throw e;
  }
  return(value?: T): IteratorResult<Future<unknown>, T> {
    // Left after a step that no task took (the mark of a task's step is cleared at once).
    if (blocking.future === this.fut) blocking.future = null;
    this.fut._thrownInto();
    return { done: true, value: value as T };
  }
}

/**
 * Is `x` a loopwork future (a `Future`, or a `Task`, which is one)?
 *
 * @example
 * ```ts
 * import { Future, isFuture } from "loopwork";
 *
 * console.log(isFuture(new Future()), isFuture(Promise.resolve(1))); // true false
 * ```
 */
export function isFuture(x: unknown): x is Future<unknown> {
  try {
    return x instanceof Future;
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws: not a future (never that error)
  }
}
