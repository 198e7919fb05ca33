/**
 * CapacityLimiter: Trio's and AnyIO's. A semaphore whose tokens are borrowed by someone — by
 * default the task that acquires — so that a task cannot take two, and only the borrower
 * gives its token back. Waiters queue in FIFO order on the same grant machinery as `Lock`
 * and `Semaphore`: a token is handed straight to the first waiter, and a waiter woken then
 * cancelled before it runs hands it on, so tokens never leak.
 * @module
 */
import { InvalidStateError, type Future, describeValue, currentTask, failedWith, Grant, type GrantOwner, resolved, signalOf, type SignalOptions, WaiterList } from "../core/index.ts";
import { type Acquirable, checkBody, type Held, HeldOnce, Scoped, type ScopedBody } from "./scope.ts";

/**
 * What `CapacityLimiter.statistics()` reports (Trio's `CapacityLimiterStatistics`).
 *
 * @example
 * ```ts
 * import { CapacityLimiter, type CapacityLimiterStatistics } from "loopwork";
 *
 * const stats: CapacityLimiterStatistics = new CapacityLimiter(2).statistics();
 * console.log(stats.borrowedTokens, stats.totalTokens, stats.tasksWaiting); // 0 2 0
 * ```
 */
export interface CapacityLimiterStatistics {
  /** Tokens borrowed now. */
  readonly borrowedTokens: number;
  /** The limiter's capacity. */
  readonly totalTokens: number;
  /** Who holds the tokens (tasks, or what was given to `acquireOnBehalfOf`). */
  readonly borrowers: readonly unknown[];
  /** How many wait for a token. */
  readonly tasksWaiting: number;
}

function checkTotal(what: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what}: totalTokens must be a number of tokens, got ${describeValue(value)}`);
  }
  if (value !== Infinity && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(`${what}: totalTokens must be an integer >= 1 or Infinity, got ${value}`);
  }
  return value;
}

/**
 * A limit on how many borrowers use a resource at once (Trio's and AnyIO's
 * `CapacityLimiter`): like a `Semaphore` of `totalTokens` permits, except that each token
 * is lent to a borrower — the current task, or any object given to `acquireOnBehalfOf()`
 * — which may hold one token only, and which alone may give it back. `totalTokens` may be
 * changed at any time; raising it wakes waiters. Waiters are served in FIFO order.
 *
 * `acquire()` resolves to a `Held` handle that releases for its borrower (`using`, or
 * `held.release()`), which an async task needs: after an `await` it is no longer the
 * current task, so a bare `release()` there cannot tell who is releasing.
 *
 * @example
 * ```ts
 * import { CapacityLimiter, run, sleep, spawn } from "loopwork";
 *
 * const limiter = new CapacityLimiter(2); // at most 2 downloads at once
 * await run(function* () {
 *   const download = function* (n: number) {
 *     using _token = yield* limiter.acquire();
 *     yield* sleep(100);
 *     return n;
 *   };
 *   const tasks = [1, 2, 3, 4, 5].map((n) => spawn(download(n)));
 *   for (const t of tasks) yield* t;
 *   console.log(limiter.statistics().borrowedTokens); // 0
 * });
 * ```
 */
export class CapacityLimiter implements GrantOwner {
  /** @internal */ _total: number;
  /** @internal the borrower of each lent token, and its handle */ readonly _borrowers: Map<unknown, Held> = new Map();
  /** @internal FIFO; a waiter's grant carries its borrower in `_item` */ readonly _waiters: WaiterList<Grant<Held>> = new WaiterList(this, "borrow from");

  /**
   * Creates a limiter of `totalTokens` tokens.
   * @throws {RangeError} when `totalTokens` is not an integer >= 1 or Infinity
   */
  constructor(totalTokens: number) {
    this._total = checkTotal("new CapacityLimiter()", totalTokens);
  }

  /** The limiter's capacity. Setting it higher hands tokens to waiters at once; lower takes none back. */
  get totalTokens(): number {
    return this._total;
  }
  set totalTokens(value: number) {
    this._total = checkTotal("CapacityLimiter.totalTokens", value);
    this._handOn();
  }

  /** Tokens lent now. */
  get borrowedTokens(): number {
    return this._borrowers.size;
  }

  /** Tokens free now (`totalTokens - borrowedTokens`, never below 0). */
  get availableTokens(): number {
    return Math.max(0, this._total - this._borrowers.size);
  }

  /**
   * Borrows a token for the current task: the future resolves (to a `Held` handle) once
   * it has one, at once when one is free and nobody waits. Cancelling the future (or its
   * task) or aborting `options.signal` withdraws from the queue.
   * @throws {InvalidStateError} outside a task, or when the task already holds a token
   */
  acquire(options?: SignalOptions): Future<Held> {
    return this.acquireOnBehalfOf(this._currentBorrower("acquire()"), options);
  }

  /**
   * Borrows a token for `borrower` (any value that names who holds it, e.g. an object
   * per request), as `acquire()` does for the current task.
   * @throws {InvalidStateError} when `borrower` already holds a token of this limiter
   */
  acquireOnBehalfOf(borrower: unknown, options?: SignalOptions): Future<Held> {
    const signal = signalOf("CapacityLimiter.acquire()", options);
    this._checkNotBorrowing("acquire()", borrower);
    if (this._free()) {
      if (signal?.aborted) return failedWith(signal.reason);
      return resolved(this._lend(borrower));
    }
    const g = new Grant<Held>(this);
    g._item = borrower;
    return this._waiters.wait(g, signal);
  }

  /**
   * Borrows a token for the current task if one is free and nobody waits (Trio's
   * `acquire_nowait`, as a boolean): `true` if taken (give it back with `release()`).
   * Never waits and never overtakes a waiting task.
   * @throws {InvalidStateError} outside a task, or when the task already holds a token
   */
  tryAcquire(): boolean {
    return this.tryAcquireOnBehalfOf(this._currentBorrower("tryAcquire()"));
  }

  /**
   * `tryAcquire()` for `borrower`.
   * @throws {InvalidStateError} when `borrower` already holds a token of this limiter
   */
  tryAcquireOnBehalfOf(borrower: unknown): boolean {
    this._checkNotBorrowing("tryAcquire()", borrower);
    if (!this._free()) return false;
    this._lend(borrower);
    return true;
  }

  /**
   * Gives back the current task's token, handing it to the first waiter if there is one.
   * @throws {InvalidStateError} outside a task (after an `await`, use the handle `acquire()`
   *   gave), or when the task holds no token
   */
  release(): void {
    this.releaseOnBehalfOf(this._currentBorrower("release()"));
  }

  /**
   * Gives back `borrower`'s token.
   * @throws {InvalidStateError} when `borrower` holds no token of this limiter
   */
  releaseOnBehalfOf(borrower: unknown): void {
    if (!this._borrowers.delete(borrower)) {
      throw new InvalidStateError(
        `CapacityLimiter.release(): ${describeBorrower(borrower)} holds no token of this limiter`,
      );
    }
    this._handOn();
  }

  /**
   * Runs `body` holding a token for the current task and gives it back on every exit
   * path. `yield*` the result in a generator task (a generator body then runs inline) or
   * `await` it; the token is borrowed only then.
   */
  withToken<R>(body: ScopedBody<R>, options?: SignalOptions): Scoped<R> {
    checkBody("CapacityLimiter.withToken()", body);
    signalOf("CapacityLimiter.withToken()", options);
    return new Scoped(new BorrowingScope(this), options, body);
  }

  /** Counts and borrowers now (Trio's `statistics()`). */
  statistics(): CapacityLimiterStatistics {
    return {
      borrowedTokens: this._borrowers.size,
      totalTokens: this._total,
      borrowers: [...this._borrowers.keys()],
      tasksWaiting: this._waiters.size,
    };
  }

  /** A short description such as `CapacityLimiter<borrowed: 2/2, waiters: 3>`. */
  toString(): string {
    return `CapacityLimiter<borrowed: ${this._borrowers.size}/${this._total}, waiters: ${this._waiters.size}>`;
  }

  /** @internal A waiter given a token was cancelled before it ran: the token goes on. */
  _abandonGrant(g: Grant<unknown>): void {
    this.releaseOnBehalfOf(g._item);
  }

  /** @internal */
  _claimGrant(): void {}

  /** @internal Whether a newcomer gets a token now: one is free and nobody waits. */
  _free(): boolean {
    return this._borrowers.size < this._total && this._waiters.size === 0;
  }

  /** @internal Lends a token to `borrower` and returns the handle that gives it back. */
  _lend(borrower: unknown): Held {
    const held = new HeldOnce(() => this.releaseOnBehalfOf(borrower), "CapacityLimiter.release()");
    this._borrowers.set(borrower, held);
    return held;
  }

  /** @internal Hands free tokens to the waiters, oldest first. */
  _handOn(): void {
    while (this._borrowers.size < this._total) {
      const next = this._waiters.shift();
      if (next === undefined) return;
      // A borrower queued twice (acquireOnBehalfOf while already waiting) gets one token.
      if (this._borrowers.has(next._item)) {
        next.setException(new InvalidStateError(
          `CapacityLimiter.acquire(): ${describeBorrower(next._item)} already holds one of this limiter's tokens`,
        ));
        continue;
      }
      next.setResult(this._lend(next._item));
    }
  }

  /** @internal */
  _currentBorrower(what: string): unknown {
    const task = currentTask();
    if (task == null) {
      throw new InvalidStateError(
        `CapacityLimiter.${what}: no current task (in an async function after an await, release with ` +
          "the handle acquire() gave, or use acquireOnBehalfOf()/releaseOnBehalfOf())",
      );
    }
    return task;
  }

  /** @internal A borrower holds at most one token. */
  _checkNotBorrowing(what: string, borrower: unknown): void {
    if (this._borrowers.has(borrower)) {
      throw new InvalidStateError(
        `CapacityLimiter.${what}: ${describeBorrower(borrower)} already holds one of this limiter's tokens`,
      );
    }
  }
}

function describeBorrower(borrower: unknown): string {
  const name = (borrower as { name?: unknown } | null)?.name;
  return typeof name === "string" ? `${borrower?.constructor?.name ?? "borrower"} ${name}` : describeValue(borrower);
}

/**
 * What `withToken` acquires: a token for the task that runs the scope (for an awaited
 * scope, which runs outside any task, for the scope itself), given back by it.
 */
class BorrowingScope implements Acquirable {
  private borrower: unknown = null;
  constructor(private readonly limiter: CapacityLimiter) {}
  acquire(options?: SignalOptions): Future<Held> {
    this.borrower = currentTask() ?? this;
    return this.limiter.acquireOnBehalfOf(this.borrower, options);
  }
  release(): void {
    this.limiter.releaseOnBehalfOf(this.borrower);
  }
}
