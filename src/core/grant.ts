/**
 * Grant: the future a waiter of a lock, semaphore, condition or queue waits on. The
 * primitive hands what it gives (the lock, a permit, an item) straight to the first
 * waiter by settling its grant, which keeps FIFO order. The classic race is then the
 * waiter that is woken and cancelled before it runs: its task receives the
 * `CancelledError` at `yield* grant` instead of the result, so the grant's iterator sees
 * that throw and gives back what was granted (`_abandon`), and the next waiter gets it.
 * A grant still pending when cancelled leaves its queue (`_dequeue`).
 *
 * Async functions `await` a grant; they always receive what was granted, and an
 * `AbortSignal` passed to the operation stops a wait that has not been granted yet.
 * @module
 */
import { isCancelledError } from "./errors.ts";
import { Future, PENDING, FULFILLED, REJECTED, type Waiter } from "./future.ts";
import { checkOptions, checkSignal } from "./checks.ts";
import { SignalFuture } from "./signal-future.ts";

/**
 * Options of every waiting operation of the sync primitives and queues. In an async task,
 * pass the task's signal so that cancelling the task withdraws the wait.
 *
 * @example
 * ```ts
 * import { Lock, run, spawn } from "loopwork";
 *
 * await run(async () => {
 *   const lock = new Lock();
 *   await lock.acquire();
 *   const waiter = spawn(async (signal) => {
 *     await lock.acquire({ signal }); // withdrawn when the task is cancelled
 *   });
 *   waiter.cancel();
 *   lock.release();
 * });
 * ```
 */
export interface SignalOptions {
  /**
   * Stops the wait when aborted, as long as nothing was granted yet: the future is
   * cancelled (when the reason is a `CancelledError`, as a task's signal gives) or
   * rejected with the reason. It must be the platform's `AbortSignal` (every `signal`
   * option of loopwork is checked so): a lookalike object or a Proxy is refused with a
   * TypeError at the call, and the reason may be any value, even one whose reads throw.
   */
  signal?: AbortSignal;
}

const SIGNAL_OPTIONS = ["signal"] as const;

/**
 * @internal Checks the options of a waiting call before anything changes, and returns its
 * signal.
 */
export function signalOf(what: string, options: SignalOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  checkOptions(what, options, SIGNAL_OPTIONS);
  return checkSignal(what, options.signal);
}

/**
 * @internal What a grant reports to: the primitive that made it. One grant class serves
 * every primitive (rather than a subclass each), so the core's hot paths see few shapes of
 * future and stay fast in programs that mix locks, semaphores and queues.
 */
export interface GrantOwner {
  /** The grant was settled with a result its consumer never took: give it back. */
  _abandonGrant(g: Grant<unknown>): void;
  /** The consumer of a grant marked `_reserved` takes its result now. */
  _claimGrant(g: Grant<unknown>): void;
}

/** @internal The waiting future of the sync primitives and queues. */
export class Grant<T> extends SignalFuture<T> {
  /** @internal the consumer received the result (resumed, or a promise was made) */ _claimed = false;
  /** @internal links of the waiting list it is in */ _prev: Grant<unknown> | null = null;
  /** @internal */ _next: Grant<unknown> | null = null;
  /** @internal */ _list: WaiterList<Grant<unknown>> | null = null;
  /** @internal */ _owner: GrantOwner | null;
  /** @internal what a waiting put carries */ _item: unknown = undefined;
  /** @internal settled with its result still to take, on claim (a queue's woken getter) */ _reserved = false;

  /** @internal */
  constructor(owner: GrantOwner | null) {
    super();
    this._owner = owner;
  }

  /** @internal Leaves the waiting list it is in, if any. */
  _dequeue(): void {
    this._list?.delete(this as Grant<unknown>);
  }

  /** @internal Gives back what was granted; called at most once, only if unclaimed. */
  _abandon(): void {
    this._owner?._abandonGrant(this as Grant<unknown>);
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._dequeue();
    return true;
  }

  /** @internal What a task waiting on this grant waits for, for `taskTree()`. */
  _describeWait(): string {
    const list = this._list;
    return list !== null && list._owner !== null ? `${list._verb} ${String(list._owner)}` : "a grant";
  }

  /** @internal Rejects a pending grant and takes it off its queue. */
  _reject(error: unknown): void {
    if (this._state !== PENDING) return;
    this._dequeue();
    this.setException(error);
  }

  /**
   * @internal The claim of a reserved grant failed (its queue was shut down meanwhile): the
   * consumer, already woken, resumes into `error` instead of the value.
   */
  _failClaim(error: unknown): void {
    this._state = REJECTED;
    this._value = error;
  }

  /** @internal The claim of a reserved grant gives `value` (what its owner hands over at claim time). */
  _claimResult(value: unknown): void {
    this._value = value;
  }

  /**
   * @internal Does a task wait on it at `yield*`, not resumed yet? Only then is the room a
   * queue makes held for the task's resumption (so a cancellation before it puts nothing);
   * a put awaited as a promise, or that nobody waits on yet, enters its item at once.
   */
  _taskWaits(): boolean {
    return !this._claimed && this._cbs !== null;
  }

  /** @internal Marks the grant as received by its consumer: from now on it is theirs. */
  _claim(): void {
    if (this._claimed) return;
    this._claimed = true;
    this._onClaim();
  }

  /** @internal The consumer received the grant. */
  _onClaim(): void {
    if (this._reserved) this._owner!._claimGrant(this as Grant<unknown>);
  }

  // Every way of reading the result claims the grant.
  override result(): T {
    this._claim();
    return super.result();
  }

  override addDoneCallback(cb: (future: Future<T>) => void): void {
    this._claim();
    super.addDoneCallback(cb);
  }

  /** @internal A combinator waits for it (as addDoneCallback): it is received. */
  override _addDoneWaiter(waiter: Waiter): void {
    this._claim();
    super._addDoneWaiter(waiter);
  }

  /** @internal Registering claims a grant: never without the checks of the general path. */
  override _addOnlyWaiter(_waiter: Waiter): boolean {
    return false;
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this._claim();
    return super.then(onfulfilled, onrejected);
  }

  /** @internal An abort that is not a cancellation rejects the grant and takes it off its queue. */
  override _rejectWith(reason: unknown): void {
    this._reject(reason);
  }

  /** @internal The consumer was thrown into (or closed) at `yield* grant`: give back what it did not take. */
  override _thrownInto(): void {
    if (this._state === PENDING) this.cancel();
    else if (this._state === FULFILLED && !this._claimed) {
      this._claimed = true;
      this._abandon();
    }
  }
}

/**
 * @internal A FIFO of waiting grants: an intrusive doubly linked list, so adding, taking
 * the oldest and removing a cancelled one are O(1) and allocate nothing. Its surface is the
 * part of `Set` the primitives use.
 */
export class WaiterList<G extends Grant<unknown>> {
  /**
   * @param _owner the primitive whose waiters these are, and `_verb` what they wait to do
   *   there: how `taskTree()` describes a task waiting on one of them ("get from Queue<…>")
   */
  constructor(
    readonly _owner: object | null = null,
    readonly _verb: string = "wait on",
  ) {}
  private _head: G | null = null;
  private _tail: G | null = null;
  private _size = 0;

  /** How many wait. */
  get size(): number {
    return this._size;
  }

  /** The oldest, or undefined. */
  first(): G | undefined {
    return this._head ?? undefined;
  }

  /** Removes and returns the oldest, or undefined: the waiter a primitive hands to next. */
  shift(): G | undefined {
    const g = this._head;
    if (g === null) return undefined;
    this.delete(g);
    return g;
  }

  /** Queues `g` (which must not be in a list) and lets `signal` withdraw it; returns `g`. */
  wait(g: G, signal: AbortSignal | undefined): G {
    this.add(g);
    g._watch(signal);
    return g;
  }

  /** Appends `g` (which must not be in a list). */
  add(g: G): void {
    g._list = this as WaiterList<Grant<unknown>>;
    g._prev = this._tail;
    g._next = null;
    if (this._tail === null) this._head = g;
    else this._tail._next = g;
    this._tail = g;
    this._size++;
  }

  /** Removes `g` if it is in this list. */
  delete(g: G): boolean {
    if (g._list !== (this as WaiterList<Grant<unknown>>)) return false;
    const prev = g._prev as G | null;
    const next = g._next as G | null;
    if (prev === null) this._head = next;
    else prev._next = next;
    if (next === null) this._tail = prev;
    else next._prev = prev;
    g._prev = g._next = null;
    g._list = null;
    this._size--;
    return true;
  }

  /** Removes every grant. */
  clear(): void {
    let g = this._head;
    while (g !== null) {
      const next = g._next as G | null;
      g._prev = g._next = null;
      g._list = null;
      g = next;
    }
    this._head = this._tail = null;
    this._size = 0;
  }

  /** The grants, oldest first (a snapshot: safe to settle them while iterating). */
  [Symbol.iterator](): Iterator<G> {
    const all: G[] = [];
    for (let g = this._head; g !== null; g = g._next as G | null) all.push(g);
    return all[Symbol.iterator]();
  }
}

/** @internal */
export function resolved<T>(value: T): Future<T> {
  const f = new Future<T>();
  f.setResult(value);
  return f;
}

/** @internal A future that failed (or was cancelled) at once: an aborted signal. */
export function failedWith<T>(reason: unknown): Future<T> {
  const f = new Future<T>();
  if (isCancelledError(reason)) f.cancel(reason.message);
  else f.setException(reason);
  return f;
}
