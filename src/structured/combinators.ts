/**
 * Ways to wait on many awaitables at once (asyncio.gather, as_completed, wait, shield).
 * Each takes futures, tasks, generator objects (run as tasks) and promises, and answers
 * with a future of its own: `yield*` it in a coroutine or `await` it in an async function.
 * @module
 */
import { TimeoutError, type DoneCallback, describeValue, FULFILLED, Future, isFuture, PENDING, REJECTED, type Waiter, type TimerHandle, getRunningLoop, tryGetRunningLoop, checkOptions, checkTimeout, type Awaitable, type AwaitedOf, checkNotAwaitable, oneFuture, toFutures, Ring, keepAlive, onIdleLoop } from "../core/index.ts";

// ---- gather ---------------------------------------------------------------------------

/**
 * Options of `gather()`.
 *
 * @example
 * ```ts
 * import { gather, type GatherOptions, run } from "loopwork";
 *
 * await run(function* () {
 *   const options: GatherOptions = { returnExceptions: true };
 *   const out = yield* gather([Promise.resolve(1), Promise.reject(new Error("x"))], options);
 *   console.log(out); // [1, Error: x]
 * });
 * ```
 */
export interface GatherOptions {
  /**
   * `false` (default): the first error (or cancellation) of a child fails the gather at
   * once, while the other children keep running. `true`: errors and `CancelledError`s
   * take their place in the results.
   */
  returnExceptions?: boolean;
}

const GATHER_OPTIONS = ["returnExceptions"] as const;

/**
 * The future `gather()` returns: cancelling it cancels every child still running. It is
 * also the waiter of its children, woken as each settles: a child that finished while
 * others still run needs nothing but counting, so only the children that decide something
 * (a failure, a cancellation, the last one) get a done callback on the next loop turn, as
 * asyncio's `_done_callback` would.
 */
class GatheringFuture<T> extends Future<T> implements Waiter {
  /** @internal */ _children: Future<unknown>[] = [];
  /** @internal */ _cancelRequested = false;
  /** @internal */ _requestMessage: string | undefined = undefined;
  /** @internal distinct children not yet done */ _left = 0;
  /** @internal */ _returnExceptions = false;
  /**
   * @internal The results of the first `_inOrder` children, taken as each woke it (children
   * of a fan-out finish in the order they were spawned): the last one then finds them made
   * instead of reading every child once more. `-1` once a child finished out of order, or not
   * with a result; the results are then read at the end.
   */
  _results: unknown[] | null = null;
  /** @internal */ _inOrder = 0;

  /** @internal What a task waiting on this waits for, for `taskTree()`. */
  _describeWait(): string {
    const n = this._children.length;
    return `gather() of ${n}, ${this._children.filter((c) => !c.done()).length} pending`;
  }

  /** @internal The futures it waits on: `taskTree()` shows their tasks under its waiter. */
  _awaited(): readonly Future<unknown>[] {
    return this._children;
  }

  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    let any = false;
    for (const c of this._children) if (c.cancel(msg)) any = true;
    if (any) {
      // The gather ends cancelled once its children have, whatever returnExceptions says.
      this._cancelRequested = true;
      this._requestMessage = msg;
    }
    return any;
  }

  /** @internal Cancels this future itself, without touching the children. */
  _cancelSelf(msg: string | undefined): void {
    super.cancel(msg);
  }

  /** @internal A child is done. */
  _wake(child: Future<unknown>): void {
    const last = --this._left === 0;
    const i = this._inOrder;
    if (i >= 0) {
      const children = this._children;
      if (children[i] === child && child._state === FULFILLED) {
        (this._results ??= new Array<unknown>(children.length))[i] = child._value;
        this._inOrder = i + 1;
      } else this._inOrder = -1;
    }
    if (!last && child._state === FULFILLED) return;
    this._scheduleDecide(child, last);
  }

  /** Kept out of `_wake`: a function that makes closures allocates their context on every call. */
  private _scheduleDecide(child: Future<unknown>, last: boolean): void {
    const decide = last ? (f: Future<unknown>) => this._decide(f, true) : (f: Future<unknown>) => this._decide(f, false);
    child._schedule(decide as DoneCallback<never>);
  }

  /** @internal What a done child means for the gather, one loop turn after it settled. */
  _decide(child: Future<unknown>, last: boolean): void {
    if (this.done()) {
      // Too late to matter; read the error so it is not reported as never retrieved.
      if (!child.cancelled()) child.exception();
      return;
    }
    if (!this._returnExceptions) {
      if (child.cancelled()) {
        if (this._cancelRequested) this._cancelSelf(this._requestMessage);
        else this.setException(child._cancelledError());
        return;
      }
      // A rejection is a failure whatever its value (`throw undefined` too): not `exception() !== undefined`.
      if (child._state === REJECTED) {
        this.setException(child.exception());
        return;
      }
    }
    if (!last) return;
    if (this._cancelRequested) {
      this._cancelSelf(this._requestMessage);
      return;
    }
    const children = this._children;
    if (this._inOrder === children.length) {
      this.setResult(this._results as T);
      return;
    }
    const results = new Array<unknown>(children.length);
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (c._state === FULFILLED) results[i] = c._value;
      else if (c.cancelled()) results[i] = c._cancelledError();
      else {
        try {
          results[i] = c.result();
        } catch (err) {
          results[i] = err;
        }
      }
    }
    this.setResult(results as T);
  }
}

/**
 * Runs awaitables concurrently and resolves to their results, in the order given
 * (asyncio.gather). Generator objects run as tasks; equal items run once.
 *
 * - By default the first failure of a child fails the gather at once; the other children
 *   are not cancelled and keep running. A cancelled child counts as a failure with
 *   `CancelledError` (the gather is not cancelled by it).
 * - With `returnExceptions: true`, errors (and `CancelledError`s of cancelled children)
 *   are put in the results in place of values.
 * - Cancelling the gather (or the task waiting on it) cancels every child; the gather
 *   then ends cancelled.
 *
 * @param aws an array (or iterable) of futures, tasks, generator objects or promises
 * @param options `returnExceptions` (default `false`)
 * @throws {TypeError} synchronously when an item is not awaitable (no task is started)
 * @example
 * ```ts
 * import { gather, run, sleep } from "loopwork";
 *
 * function* square(x: number) {
 *   yield* sleep(100);
 *   return x * x;
 * }
 *
 * await run(function* () {
 *   const [a, b, c] = yield* gather([square(2), square(3), Promise.resolve("p")]);
 *   console.log(a, b, c); // 4 9 "p", after ~100 ms
 *   const mixed = yield* gather([square(1), Promise.reject(new Error("x"))], { returnExceptions: true });
 *   console.log(mixed); // [1, Error: x]
 * });
 * ```
 */
export function gather<const A extends readonly Awaitable<unknown>[]>(
  aws: A,
  options?: { returnExceptions?: false },
): Future<{ -readonly [K in keyof A]: AwaitedOf<A[K]> }>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  aws: A,
  options: { returnExceptions: true },
): Future<{ -readonly [K in keyof A]: AwaitedOf<A[K]> | Error }>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  aws: A,
  options?: GatherOptions,
): Future<unknown[]>;
export function gather(aws: readonly Awaitable<unknown>[], options?: GatherOptions): Future<unknown[]> {
  let returnExceptions = false;
  if (options !== undefined) {
    checkNotAwaitable("gather()", options);
    checkOptions("gather()", options, GATHER_OPTIONS);
    returnExceptions = options.returnExceptions ?? false;
    if (typeof returnExceptions !== "boolean") {
      throw new TypeError(`gather(): returnExceptions must be a boolean, got ${describeValue(returnExceptions)}`);
    }
  }
  const outer = new GatheringFuture<unknown[]>(tryGetRunningLoop());
  outer._returnExceptions = returnExceptions;
  // A copy: what a check below runs must not change what is gathered.
  const fresh = Array.isArray(aws) && aws.length > 0 ? aws.slice() : null;
  if (fresh !== null && registerFreshSafely(fresh, outer)) {
    outer._children = fresh;
    outer._left = fresh.length;
    return outer;
  }
  // The copy made above, if any, is already ours: toFutures need not copy it again.
  const children = fresh !== null ? toFutures("gather()", fresh, true) : toFutures("gather()", aws);
  if (children.length === 0) {
    outer.setResult([]);
    return outer;
  }
  outer._children = children;
  const done = eachDistinct(children, outer);
  outer._left = done.distinct;
  // The children already done wake it only now that it knows how many to count, in order.
  for (const c of done.list) outer._wake(c);
  return outer;
}

/**
 * gather()'s common case in one pass over the list instead of two (check every item, then
 * register with each): every item a pending future that nothing waits on yet, whose
 * registration does nothing else (not a grant, which counts as received). Registers `waiter`
 * with each and says so; at the first other item it takes back what it registered and says
 * no, and the general path does it all. In a 100k fan-out each pass over the children costs
 * ~15 ns a child, a quarter of a native task on Deno.
 */
function registerFresh(list: unknown[], waiter: Waiter): boolean {
  let i = 0;
  for (; i < list.length; i++) {
    const c = list[i];
    if (!(c instanceof Future) || !c._addOnlyWaiter(waiter)) break;
  }
  if (i === list.length) return true;
  for (let j = 0; j < i; j++) (list[j] as Future<unknown>)._dropOnlyWaiter();
  return false;
}

/**
 * `registerFresh`, for a list that may hold a Proxy whose getPrototypeOf trap throws (then
 * `instanceof` throws): it takes back what it registered and says no, and the general path
 * takes the list. The `try` is here, around the call, so that the loop over a 100k fan-out
 * has none.
 */
function registerFreshSafely(list: unknown[], waiter: Waiter): boolean {
  try {
    return registerFresh(list, waiter);
  } catch {
    for (const c of list) if (isFuture(c) && c._hasCallback(waiter)) c._dropOnlyWaiter();
    return false;
  }
}

/**
 * Registers `waiter` once with each distinct pending future of `list` (equal items count
 * once, as asyncio's `arg_to_fut` makes them one), without a set of the whole list: a
 * future already holding the waiter is a repeat. Returns how many distinct futures there
 * are, and those already done (distinct, in order), which the caller wakes itself.
 */
const NO_WAITER: Waiter = { _wake() {} };

function eachDistinct(list: readonly Future<unknown>[], waiter: Waiter): { distinct: number; list: Future<unknown>[] } {
  let distinct = 0;
  let doneSeen: Set<Future<unknown>> | null = null;
  const doneList: Future<unknown>[] = [];
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c._state === PENDING) {
      if (c._hasCallback(waiter)) continue;
      c._addDoneWaiter(waiter);
    } else {
      c._addDoneWaiter(NO_WAITER); // what registering does besides (a grant counts as received)
      doneSeen ??= new Set();
      if (doneSeen.has(c)) continue;
      doneSeen.add(c);
      doneList.push(c);
    }
    distinct++;
  }
  return { distinct, list: doneList };
}

// ---- wait -----------------------------------------------------------------------------

/**
 * When `wait()` returns: on the first completion, the first failure, or when all are done.
 *
 * @example
 * ```ts
 * import type { ReturnWhen } from "loopwork";
 *
 * const when: ReturnWhen = "FIRST_EXCEPTION";
 * ```
 */
export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED";

const RETURN_WHEN: readonly ReturnWhen[] = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"];

/**
 * Options of `wait()`.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "loopwork";
 *
 * const options: WaitOptions = { returnWhen: "FIRST_COMPLETED", timeout: 500 };
 * ```
 */
export interface WaitOptions {
  /** When to return (default `"ALL_COMPLETED"`). */
  returnWhen?: ReturnWhen;
  /** Return after this many milliseconds at the latest (default: no limit). */
  timeout?: number | null;
}

/**
 * What `wait()` resolves to: the futures that are done, and those still pending.
 *
 * @example
 * ```ts
 * import { run, sleep, wait, type WaitResult } from "loopwork";
 *
 * await run(function* () {
 *   const r: WaitResult<number> = yield* wait([sleep(10, 1), sleep(50, 2)], { timeout: 20 });
 *   console.log(r.done.size, r.pending.size); // 1 1
 * });
 * ```
 */
export interface WaitResult<T> {
  /** The futures that are done (finished, failed or cancelled). */
  done: Set<Future<T>>;
  /** The futures still running; `wait()` never cancels them. */
  pending: Set<Future<T>>;
}

/**
 * The future `wait()` returns, and the waiter of its futures: woken as each settles, it
 * counts, and only the one that decides (the first, a failure, the last, by `returnWhen`)
 * gets a done callback on the next loop turn, which ends the wait, as asyncio's
 * `_on_completion` would.
 */
class WaitFuture<T> extends Future<WaitResult<T>> implements Waiter {
  /** @internal */ _cleanup: (() => void) | null = null;
  /** @internal */ _left = 0;
  /** @internal */ _returnWhen: ReturnWhen = "ALL_COMPLETED";
  /** @internal ends the wait: the done callback of the future that decides it */ _onDecided: DoneCallback<never> | null = null;
  /** @internal the done callback of a failure under FIRST_EXCEPTION: reads it, ends the wait */ _onFailed: DoneCallback<never> | null = null;
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._cleanup?.();
    return true;
  }
  /** @internal */
  _wake(f: Future<unknown>): void {
    const left = --this._left;
    const when = this._returnWhen;
    if (left <= 0 || when === "FIRST_COMPLETED") f._schedule(this._onDecided!);
    else if (when === "FIRST_EXCEPTION" && f._state === REJECTED) f._schedule(this._onFailed!);
  }
}

const WAIT_OPTIONS = ["returnWhen", "timeout"] as const;

/**
 * `{ done, pending }`, split when first read: by the task waiting on `wait()`, when it
 * resumes, as asyncio's wait computes them after its waiter wakes. A future done between
 * the wake-up and the resumption is in `done`.
 */
function splitWhenRead<T>(list: readonly Future<T>[]): WaitResult<T> {
  let split: WaitResult<T> | null = null;
  const get = (): WaitResult<T> => {
    if (split === null) {
      split = { done: new Set<Future<T>>(), pending: new Set<Future<T>>() };
      for (const f of list) (f.done() ? split.done : split.pending).add(f);
    }
    return split;
  };
  return Object.defineProperties({} as WaitResult<T>, {
    done: { get: () => get().done, enumerable: true },
    pending: { get: () => get().pending, enumerable: true },
  });
}

/**
 * Waits until some or all of the awaitables are done and resolves to `{ done, pending }`
 * (asyncio.wait). Never cancels anything, not even on timeout: what is still running is
 * in `pending`. The sets are split when the waiting task resumes (when first read), as
 * asyncio's are. Generator objects and promises are wrapped (in tasks and futures), and the
 * sets hold those wrappers: pass tasks to recognise them.
 *
 * @param aws a non-empty array (or iterable) of futures, tasks, generator objects or promises
 * @param options `returnWhen`: `"FIRST_COMPLETED"`, `"FIRST_EXCEPTION"` or `"ALL_COMPLETED"`
 *   (default); `timeout` in milliseconds (default none)
 * @throws {RangeError} synchronously for an empty list, an unknown `returnWhen` or a NaN or negative timeout
 * @throws {TypeError} synchronously for an unknown option
 * @throws {TypeError} synchronously when an item is not awaitable
 * @example
 * ```ts
 * import { run, sleep, spawn, wait } from "loopwork";
 *
 * await run(function* () {
 *   const fast = spawn(function* () { yield* sleep(10); return "fast"; });
 *   const slow = spawn(function* () { yield* sleep(1_000); return "slow"; });
 *   const { done, pending } = yield* wait([fast, slow], { returnWhen: "FIRST_COMPLETED" });
 *   console.log(done.has(fast), pending.has(slow)); // true true
 *   slow.cancel();
 * });
 * ```
 */
export function wait<T>(aws: Iterable<Awaitable<T>>, options: WaitOptions = {}): Future<WaitResult<T>> {
  checkNotAwaitable("wait()", options);
  checkOptions("wait()", options, WAIT_OPTIONS);
  const returnWhen = options.returnWhen ?? "ALL_COMPLETED";
  if (!RETURN_WHEN.includes(returnWhen)) {
    throw new RangeError(
      `wait(): returnWhen must be "FIRST_COMPLETED", "FIRST_EXCEPTION" or "ALL_COMPLETED", got ${describeValue(returnWhen)}`,
    );
  }
  const ms = checkTimeout("wait()", "timeout", options.timeout);
  const list = [...new Set(toFutures("wait()", aws))] as Future<T>[];
  if (list.length === 0) {
    throw new RangeError("wait() needs at least one awaitable, got an empty list");
  }
  const loop = getRunningLoop();
  const outer = new WaitFuture<T>(loop);
  let timer: TimerHandle | null = null;
  outer._left = list.length;
  outer._returnWhen = returnWhen;
  const finish = (): void => {
    if (outer.done()) return;
    cleanup();
    outer.setResult(splitWhenRead(list));
  };
  outer._onDecided = finish;
  outer._onFailed = ((f: Future<T>): void => {
    f.exception(); // read, so it is not reported as never retrieved; scheduled only for a rejection
    finish();
  }) as DoneCallback<never>;
  const cleanup = (): void => {
    timer?.cancel();
    timer = null;
    for (const f of list) f._removeWaiter(outer);
  };
  outer._cleanup = cleanup;
  for (const f of list) f._addDoneWaiter(outer);
  if (ms !== null) timer = loop._callAt1(loop.time() + Math.max(0, ms), finish, undefined);
  return outer;
}

// ---- asCompleted ----------------------------------------------------------------------

/**
 * Options of `asCompleted()`.
 *
 * @example
 * ```ts
 * import type { AsCompletedOptions } from "loopwork";
 *
 * const options: AsCompletedOptions = { timeout: 1_000 };
 * ```
 */
export interface AsCompletedOptions {
  /** After this many milliseconds, what has not completed yet raises `TimeoutError`. */
  timeout?: number | null;
}

const AS_COMPLETED_OPTIONS = ["timeout"] as const;

type AsyncWaiter<T> = {
  resolve: (r: IteratorResult<T, undefined>) => void;
  reject: (e: unknown) => void;
};

/**
 * The iterator `asCompleted()` returns: iterate it to get futures for the results in
 * completion order, or iterate it with `for await` to get the results in completion order.
 *
 * @example
 * ```ts
 * import { type AsCompleted, asCompleted, run, sleep } from "loopwork";
 *
 * await run(function* () {
 *   const it: AsCompleted<string> = asCompleted([sleep(20, "b"), sleep(10, "a")]);
 *   for (const next of it) console.log(yield* next); // a, b
 * });
 * ```
 */
export class AsCompleted<T> implements Iterable<Future<T>>, AsyncIterable<T> {
  /** @internal not yet completed */ readonly _todo: Set<Future<T>>;
  /** @internal completed, not yet handed out */ readonly _done: Ring<Future<T>> = new Ring();
  /** @internal handed-out futures (sync) or promises (async) waiting for a completion */
  readonly _waiters: Ring<Future<T> | AsyncWaiter<T>> = new Ring();
  /** @internal how many more items iteration yields */ _left: number;
  /** @internal */ _timedOut = false;
  /** @internal */ _timer: TimerHandle | null = null;
  /** @internal */ readonly _ms: number | null;
  /** @internal */ readonly _onDone: (f: Future<T>) => void;

  /** @internal Use `asCompleted()`. */
  constructor(futures: Future<T>[], ms: number | null) {
    this._todo = new Set(futures);
    this._left = this._todo.size;
    this._ms = ms;
    this._onDone = (f) => {
      if (!this._todo.delete(f)) return;
      if (this._todo.size === 0) this._stopTimer();
      this._deliver(f);
    };
    for (const f of this._todo) f.addDoneCallback(this._onDone);
    if (ms !== null && this._todo.size > 0) {
      const loop = getRunningLoop();
      this._timer = loop._callAt1(loop.time() + Math.max(0, ms), expireAsCompleted, this);
    }
  }

  /**
   * Futures, one per awaitable, that settle in completion order: the first with the
   * outcome of whichever awaitable completes first, and so on. After the timeout, those
   * not yet settled fail with `TimeoutError`.
   */
  [Symbol.iterator](): Iterator<Future<T>, undefined> {
    return {
      next: (): IteratorResult<Future<T>, undefined> => {
        if (this._left === 0) return { done: true, value: undefined };
        this._left--;
        const out = new Future<T>(tryGetRunningLoop());
        const f = this._done.shift();
        if (f !== undefined) out._copyOutcome(f);
        else if (this._timedOut) out.setException(this._timeoutError());
        else this._waiters.push(out);
        return { done: false, value: out };
      },
      return: (): IteratorResult<Future<T>, undefined> => {
        this._close();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * The results themselves, in completion order; an awaitable that failed throws its
   * error (a cancelled one `CancelledError`), and `TimeoutError` is thrown once the
   * timeout passed. (Why results and not futures, as asyncio's `async for` gives:
   * TypeScript types the element of `for await` as the awaited value, so a future there
   * would be typed as its result.)
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: (): Promise<IteratorResult<T, undefined>> => {
        if (this._left === 0) return Promise.resolve({ done: true, value: undefined });
        this._left--;
        const f = this._done.shift();
        if (f !== undefined) return resultOf(f);
        if (this._timedOut) return Promise.reject(this._timeoutError());
        return new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
      },
      return: (): Promise<IteratorResult<T, undefined>> => {
        this._close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /** @internal */
  _deliver(f: Future<T>): void {
    while (this._waiters.length > 0) {
      const w = this._waiters.shift()!;
      if (w instanceof Future) {
        if (w.done()) continue; // its waiter gave up (was cancelled): the next one gets it
        w._copyOutcome(f);
      } else {
        resultOf(f).then(w.resolve, w.reject);
      }
      return;
    }
    this._done.push(f);
  }

  /** @internal */
  _expire(): void {
    this._timer = null;
    this._timedOut = true;
    for (const f of this._todo) f.removeDoneCallback(this._onDone);
    this._todo.clear();
    for (const w of this._waiters.drain()) {
      if (w instanceof Future) {
        if (!w.done()) w.setException(this._timeoutError());
      } else {
        w.reject(this._timeoutError());
      }
    }
  }

  /** @internal */
  _timeoutError(): TimeoutError {
    return new TimeoutError(`asCompleted(): not every awaitable completed within ${this._ms} ms`);
  }

  /** @internal Stops listening: iteration was abandoned. */
  _close(): void {
    this._stopTimer();
    for (const f of this._todo) f.removeDoneCallback(this._onDone);
    this._todo.clear();
    this._left = 0;
  }

  private _stopTimer(): void {
    this._timer?.cancel();
    this._timer = null;
  }
}

function expireAsCompleted(arg: unknown): void {
  (arg as AsCompleted<unknown>)._expire();
}

function resultOf<T>(f: Future<T>): Promise<IteratorResult<T, undefined>> {
  try {
    return Promise.resolve({ done: false, value: f.result() });
  } catch (e) {
    return Promise.reject(e);
  }
}


/**
 * Iterates over awaitables in the order they complete (asyncio.as_completed, 3.13+).
 * Nothing is cancelled, not even on timeout.
 *
 * - `for (const f of asCompleted(aws))`: each `f` is a future for the next result to
 *   come, so `yield* f` gives results fastest first (and throws the errors as they come).
 * - `for await (const x of asCompleted(aws))`: the results themselves, fastest first; a
 *   failure throws. (asyncio's `async for` gives the awaitables; TypeScript would type
 *   those as their results, so here the results are given. To know which awaitable
 *   finished, use `wait(..., { returnWhen: "FIRST_COMPLETED" })`.)
 *
 * @param aws an array (or iterable) of futures, tasks, generator objects or promises
 * @param options `timeout` in milliseconds: what has not completed by then raises
 *   `TimeoutError`
 * @throws {TypeError} synchronously when an item is not awaitable
 * @throws {RangeError} synchronously for a NaN or negative timeout
 * @throws {TypeError} synchronously for an unknown option
 * @example
 * ```ts
 * import { asCompleted, run, sleep } from "loopwork";
 *
 * await run(function* () {
 *   const aws = [sleep(300, "slow"), sleep(100, "fast"), sleep(200, "middle")];
 *   for (const next of asCompleted(aws)) {
 *     console.log(yield* next); // fast, middle, slow
 *   }
 * });
 * await run(async () => {
 *   for await (const x of asCompleted([sleep(20, 2), sleep(10, 1)])) console.log(x); // 1, 2
 * });
 * ```
 */
export function asCompleted<T>(aws: Iterable<Awaitable<T>>, options: AsCompletedOptions = {}): AsCompleted<T> {
  checkNotAwaitable("asCompleted()", options);
  checkOptions("asCompleted()", options, AS_COMPLETED_OPTIONS);
  const ms = checkTimeout("asCompleted()", "timeout", options.timeout);
  return new AsCompleted(toFutures("asCompleted()", aws) as Future<T>[], ms);
}

// ---- shield ---------------------------------------------------------------------------

/**
 * Protects an awaitable from cancellation (asyncio.shield): returns a future that settles
 * as `aw` does, but whose cancellation (for instance because the task waiting on it was
 * cancelled) leaves `aw` running. An awaitable already done is returned as it is.
 *
 * @param aw a future or task, a generator object (run as a task) or a promise
 * @throws {TypeError} synchronously when `aw` is not awaitable
 * @example
 * ```ts
 * import { run, shield, sleep, spawn } from "loopwork";
 *
 * await run(function* () {
 *   const save = spawn(function* () { yield* sleep(100); return "saved"; });
 *   const waiter = spawn(function* () { return yield* shield(save); });
 *   yield* sleep(10);
 *   waiter.cancel(); // the waiter stops waiting; the save goes on
 *   console.log(yield* save); // "saved"
 * });
 * ```
 */
export function shield<T>(aw: Awaitable<T>): Future<T> {
  const inner = oneFuture("shield()", aw) as Future<T>;
  if (inner.done()) return inner;
  const outer = new Future<T>(inner.getLoop());
  const onInnerDone = (f: Future<T>): void => {
    if (outer.done()) {
      if (!f.cancelled()) f.exception(); // read, so it is not reported as never retrieved
      return;
    }
    outer._copyOutcome(f);
  };
  inner.addDoneCallback(onInnerDone);
  outer.addDoneCallback(() => {
    if (!inner.done()) inner.removeDoneCallback(onInnerDone);
  });
  return outer;
}

// ---- idle instances -------------------------------------------------------------------

function* idleChild(): Generator<undefined, undefined, unknown> {
  return undefined;
}

// A gather of fresh tasks, settled, kept for the life of the program: its class's map then
// never dies, nor the optimised code made for it (see keepAlive in src/core/keepalive.ts).
onIdleLoop((loop) => {
  keepAlive(gather([loop.createTask(idleChild()), loop.createTask(idleChild())]));
});
