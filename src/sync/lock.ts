/**
 * Lock: asyncio.Lock. A task holds it between `acquire()` and `release()`; others wait in
 * FIFO order. Release hands the lock straight to the first waiter, and a waiter woken then
 * cancelled before it runs hands it on, so the lock is never lost.
 * @module
 */
import { InvalidStateError, type Future, failedWith, Grant, type GrantOwner, signalOf, resolved, type SignalOptions, WaiterList } from "../core/index.ts";
import { checkBody, type Held, HeldOnce, Scoped, type ScopedBody } from "./scope.ts";

/**
 * A mutual-exclusion lock for tasks (asyncio.Lock), FIFO-fair. `acquire()` returns a
 * future to `yield*` or `await`; `withLock(body)` holds the lock for the body and
 * releases it on every exit path. Not reentrant, and not owned: any task may release it.
 *
 * @example
 * ```ts
 * import { Lock, run, sleep, spawn } from "loopwork";
 *
 * const lock = new Lock();
 * let shared = 0;
 * await run(function* () {
 *   const bump = function* () {
 *     yield* lock.withLock(function* () {
 *       const seen = shared;
 *       yield* sleep(10); // others wait here instead of interleaving
 *       shared = seen + 1;
 *     });
 *   };
 *   const a = spawn(bump), b = spawn(bump);
 *   yield* a; yield* b;
 * });
 * console.log(shared); // 2
 * ```
 */
export class Lock implements GrantOwner {
  /** @internal */ _locked = false;
  /** @internal FIFO */ readonly _waiters: WaiterList<Grant<Held>> = new WaiterList(this, "acquire");
  /** @internal gives back one acquisition: what each acquisition's handle calls */ readonly _giveBack: () => void;

  /** Creates an unlocked lock. */
  constructor() {
    this._giveBack = (): void => this.release();
  }

  /** Whether the lock is held. */
  locked(): boolean {
    return this._locked;
  }

  /**
   * Acquires the lock: the future resolves (to a `Held` handle) once this caller holds
   * it, at once when it is free and nobody waits. Cancelling the future, or the task
   * waiting on it, withdraws from the queue.
   */
  acquire(options?: SignalOptions): Future<Held> {
    const signal = signalOf("Lock.acquire()", options);
    if (!this._locked && this._waiters.size === 0) {
      if (signal?.aborted) return failedWith(signal.reason);
      this._locked = true;
      return resolved<Held>(this._newHeld());
    }
    return this._waiters.wait(new Grant<Held>(this), signal);
  }

  /**
   * Releases the lock, handing it to the first waiter if there is one.
   * @throws {InvalidStateError} when the lock is not held
   */
  release(): void {
    if (!this._locked) {
      throw new InvalidStateError("Lock.release(): the lock is not held (release called more times than acquire)");
    }
    const next = this._waiters.shift();
    if (next === undefined) {
      this._locked = false;
      return;
    }
    next.setResult(this._newHeld());
  }

  /**
   * Runs `body` holding the lock and releases it on every exit path: return, throw or
   * cancellation. `yield*` the result in a generator task (a generator body then runs
   * inline, in that task) or `await` it; the lock is acquired only then.
   */
  withLock<R>(body: ScopedBody<R>, options?: SignalOptions): Scoped<R> {
    checkBody("Lock.withLock()", body);
    signalOf("Lock.withLock()", options);
    return new Scoped(this, options, body);
  }

  /** @internal A waiter given the lock was cancelled before it ran: hand the lock on. */
  _abandonGrant(): void {
    this.release();
  }

  /** @internal */
  _claimGrant(): void {}

  /** @internal The handle of one acquisition (it releases once). */
  _newHeld(): Held {
    return new HeldOnce(this._giveBack, "Lock.release()");
  }

  /** A short description such as `Lock<locked, waiters: 2>`. */
  toString(): string {
    return `Lock<${this._locked ? "locked" : "unlocked"}, waiters: ${this._waiters.size}>`;
  }
}
