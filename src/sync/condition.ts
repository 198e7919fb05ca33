/**
 * Condition: asyncio.Condition. Tasks holding its lock wait for a notification; waiting
 * releases the lock and getting notified re-acquires it before `wait()` returns. As in
 * asyncio, the lock is re-acquired even when the wait is cancelled (the cancellation is
 * delivered once the lock is held again), and a notification that reaches a waiter which is
 * then cancelled is passed to the next waiter (Python 3.13).
 * @module
 */
import { CancelledError, isCancelledError, InvalidStateError, Future, FULFILLED, PENDING, type Waiter, describeValue, failedWith, Grant, signalOf, type SignalOptions, WaiterList } from "../core/index.ts";
import { Lock } from "./lock.ts";
import { checkBody, type Held, Scoped, type ScopedBody } from "./scope.ts";

/**
 * One `wait()`: phase 1 waits for a notification (in the condition's queue); phase 2
 * re-acquires the lock. A cancel in either phase is deferred until the lock is held.
 */
class ConditionWait extends Grant<true> implements Waiter {
  /** @internal */ _notified = false;
  /** @internal the lock re-acquisition, in phase 2 */ _relock: Future<Held> | null = null;
  /** @internal a cancel or abort that arrived: delivered once the lock is held */ _stop: { error: unknown } | null = null;

  constructor(private readonly cond: Condition) {
    super(null);
  }

  override _dequeue(): void {
    this.cond._waiters.delete(this);
  }

  override _abandon(): void {
    // Woken (lock held, notification consumed) but the consumer was cancelled before it
    // ran: pass the notification on. The lock stays held, as after any wait(): the
    // caller's scope releases it.
    this.cond._notify(1);
  }

  /** @internal What a task waiting on this waits for, for `taskTree()`. */
  override _describeWait(): string {
    return this._relock !== null ? `re-acquire the lock of ${this.cond}` : `wait for a notification of ${this.cond}`;
  }

  /** Phase 2: notified (or stopped), re-acquire the lock. */
  _startRelock(): void {
    this.cond._waiters.delete(this);
    const relock = this.cond._lock.acquire();
    if (relock.done()) this._relocked();
    else {
      this._relock = relock;
      relock._addWaiter(this);
    }
  }

  /** The lock re-acquisition settled (called synchronously by the lock's grant). */
  _wake(): void {
    this._relocked();
  }

  private _relocked(): void {
    this._relock = null;
    const stop = this._stop;
    if (stop === null) {
      super.setResult(true);
      return;
    }
    if (this._notified) this.cond._notify(1);
    const e = stop.error;
    if (isCancelledError(e)) super.cancel(e.message);
    else super.setException(e);
  }

  override cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    this._stopWith(new CancelledError(msg));
    return true;
  }

  override _abortWith(reason: unknown): void {
    this._stopWith(reason);
  }

  private _stopWith(error: unknown): void {
    if (this._state !== PENDING || this._stop !== null) return;
    this._stop = { error };
    if (this._relock === null) this._startRelock();
  }
}

/**
 * Waits until `predicate()` is truthy, one `ConditionWait` at a time; the lock is held
 * whenever the predicate runs and when this settles.
 */
class ConditionWaitFor<T> extends Grant<T> implements Waiter {
  private _current: ConditionWait | null = null;
  private _stop: { error: unknown } | null = null;
  private _waited = false;

  constructor(
    private readonly cond: Condition,
    private readonly predicate: () => T,
  ) {
    super(null);
  }

  override _dequeue(): void {}

  override _abandon(): void {
    // Woken with the predicate true, but the consumer was cancelled before it ran: the
    // notification that woke it goes to the next waiter, to check the predicate in its
    // place. The lock stays held, as after any waitFor(): the caller's scope releases it.
    if (this._waited) this.cond._notify(1);
  }

  /** @internal What a task waiting on this waits for, for `taskTree()`. */
  override _describeWait(): string {
    const wait = this._current;
    return `wait for a predicate: ${wait !== null ? wait._describeWait() : `check it under the lock of ${this.cond}`}`;
  }

  /** Checks the predicate; waits again when it is falsy. */
  _check(): void {
    let v: T;
    try {
      v = this.predicate();
    } catch (e) {
      super.setException(e);
      return;
    }
    if (v) {
      super.setResult(v);
      return;
    }
    const w = new ConditionWait(this.cond);
    this.cond._release();
    this.cond._waiters.add(w);
    this._current = w;
    this._waited = true;
    w._claimed = true;
    w._addWaiter(this);
  }

  _wake(): void {
    const w = this._current!;
    this._current = null;
    if (w._state === FULFILLED) {
      if (this._stop !== null) this._finishStopped();
      else this._check();
      return;
    }
    // The wait was stopped: the lock is held again; report as it did.
    if (w.cancelled()) super.cancel(w._cancelledError().message);
    else super.setException(w._value);
  }

  private _finishStopped(): void {
    const e = this._stop!.error;
    if (isCancelledError(e)) super.cancel(e.message);
    else super.setException(e);
  }

  override cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    if (this._stop === null) {
      this._stop = { error: new CancelledError(msg) };
      this._current?.cancel(msg);
    }
    return true;
  }

  override _abortWith(reason: unknown): void {
    if (this._state !== PENDING || this._stop !== null) return;
    this._stop = { error: reason };
    this._current?._abortWith(reason);
  }
}

/**
 * A condition variable for tasks (asyncio.Condition), over its own `Lock` or one passed
 * in. Hold the lock, then `wait()` for `notify(n)` / `notifyAll()`, or
 * `waitFor(predicate)`; `withLock(body)` holds the lock for a body.
 *
 * @example
 * ```ts
 * import { Condition, run, sleep, spawn } from "loopwork";
 *
 * const cond = new Condition();
 * const items: number[] = [];
 * await run(function* () {
 *   const consumer = spawn(function* () {
 *     return yield* cond.withLock(function* () {
 *       yield* cond.waitFor(() => items.length > 0);
 *       return items.shift();
 *     });
 *   });
 *   yield* sleep(10);
 *   yield* cond.withLock(function* () {
 *     items.push(7);
 *     cond.notify();
 *   });
 *   console.log(yield* consumer); // 7
 * });
 * ```
 */
export class Condition {
  /** @internal */ readonly _lock: Lock;
  /** @internal */ readonly _waiters: WaiterList<ConditionWait> = new WaiterList();

  /**
   * Creates a condition over `lock`, or over a new `Lock`.
   * @throws {TypeError} when `lock` is not a `Lock`
   */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`new Condition(): lock must be a Lock, got ${describeValue(lock)}`);
    }
    this._lock = lock ?? new Lock();
  }

  /** Whether the underlying lock is held. */
  locked(): boolean {
    return this._lock.locked();
  }

  /** Acquires the underlying lock (see `Lock.acquire`). */
  acquire(options?: SignalOptions): Future<Held> {
    return this._lock.acquire(options);
  }

  /**
   * Releases the underlying lock.
   * @throws {InvalidStateError} when it is not held
   */
  release(): void {
    this._lock.release();
  }

  /**
   * Runs `body` holding the underlying lock, releasing it on every exit path; `yield*` or
   * `await` the result (see `Lock.withLock`).
   */
  withLock<R>(body: ScopedBody<R>, options?: SignalOptions): Scoped<R> {
    checkBody("Condition.withLock()", body);
    signalOf("Condition.withLock()", options);
    return new Scoped(this._lock, options, body);
  }

  /**
   * Releases the lock, waits to be notified, re-acquires the lock and resolves to `true`.
   * The lock is held again however the wait ends: cancelled, aborted or notified.
   * @throws {InvalidStateError} when the lock is not held
   */
  wait(options?: SignalOptions): Future<true> {
    const signal = signalOf("Condition.wait()", options);
    this._checkHeld("wait");
    if (signal?.aborted) return failedWith(signal.reason);
    const w = new ConditionWait(this);
    this._release();
    return this._waiters.wait(w, signal);
  }

  /**
   * Waits until `predicate()` returns a truthy value and resolves to it; the predicate is
   * checked first, then after each notification, always with the lock held.
   * @throws {InvalidStateError} when the lock is not held
   */
  waitFor<T>(predicate: () => T, options?: SignalOptions): Future<T> {
    const signal = signalOf("Condition.waitFor()", options);
    this._checkHeld("waitFor");
    if (typeof predicate !== "function") {
      throw new TypeError(`Condition.waitFor(): predicate must be a function, got ${describeValue(predicate)}`);
    }
    if (signal?.aborted) return failedWith(signal.reason);
    const wf = new ConditionWaitFor<T>(this, predicate);
    wf._watch(signal);
    wf._check();
    return wf;
  }

  /**
   * Wakes up to `n` waiters (default 1), oldest first. Each re-acquires the lock in turn.
   * @throws {InvalidStateError} when the lock is not held
   */
  notify(n: number = 1): void {
    this._checkHeld("notify");
    if (typeof n !== "number" || !(n >= 0) || (!Number.isInteger(n) && n !== Infinity)) {
      throw new RangeError(`Condition.notify(): n must be an integer >= 0, got ${describeValue(n)}`);
    }
    this._notify(n);
  }

  /**
   * Wakes every waiter.
   * @throws {InvalidStateError} when the lock is not held
   */
  notifyAll(): void {
    this._checkHeld("notifyAll");
    this._notify(this._waiters.size);
  }

  /** @internal */
  _notify(n: number): void {
    for (let i = 0; i < n; i++) {
      const w = this._waiters.first();
      if (w === undefined) return;
      w._notified = true;
      w._startRelock();
    }
  }

  /** @internal Releases the lock for a wait (the lock is known to be held). */
  _release(): void {
    this._lock.release();
  }

  private _checkHeld(what: string): void {
    if (!this._lock.locked()) {
      throw new InvalidStateError(`Condition.${what}(): the lock is not held; acquire it first`);
    }
  }

  /** A short description such as `Condition<locked, waiters: 1>`. */
  toString(): string {
    return `Condition<${this._lock.locked() ? "locked" : "unlocked"}, waiters: ${this._waiters.size}>`;
  }
}
