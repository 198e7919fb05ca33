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
import { CancelledError } from "../errors.ts";
import { describeValue, Future, PENDING, FULFILLED } from "../future.ts";

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
export interface WaitOptions {
  /**
   * Stops the wait when aborted, as long as nothing was granted yet: the future is
   * cancelled (when the reason is a `CancelledError`, as a task's signal gives) or
   * rejected with the reason.
   */
  signal?: AbortSignal;
}

/**
 * @internal Checks the options of a waiting call before anything changes, and returns its
 * signal.
 */
export function signalOf(what: string, options: WaitOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${what}: options must be an object, got ${describeValue(options)}`);
  }
  const signal = options.signal;
  if (signal === undefined) return undefined;
  if (signal === null || typeof signal !== "object" || typeof signal.addEventListener !== "function") {
    throw new TypeError(`${what}: options.signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal;
}

/** @internal Base of the waiting futures of the sync primitives and queues. */
export abstract class Grant<T> extends Future<T> {
  /** @internal the consumer received the result (resumed, or a promise was made) */ _claimed = false;
  /** @internal */ _signal: AbortSignal | null = null;

  /** @internal Leaves the primitive's waiting queue; must be idempotent. */
  abstract _dequeue(): void;

  /** @internal Gives back what was granted; called at most once, only if unclaimed. */
  abstract _abandon(): void;

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    this._dequeue();
    return true;
  }

  /** @internal Rejects a pending grant and takes it off its queue. */
  _reject(error: unknown): void {
    if (this._state !== PENDING) return;
    this._dequeue();
    this.setException(error);
  }

  /** @internal Marks the grant as received by its consumer: from now on it is theirs. */
  _claim(): void {
    if (this._claimed) return;
    this._claimed = true;
    this._onClaim();
  }

  /** @internal Hook: the consumer received the grant. */
  _onClaim(): void {}

  // Every way of reading the result claims the grant.
  override result(): T {
    this._claim();
    return super.result();
  }

  override addDoneCallback(cb: (future: Future<T>) => void): void {
    this._claim();
    super.addDoneCallback(cb);
  }

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this._claim();
    return super.then(onfulfilled, onrejected);
  }

  override [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    return new GrantIterator(this);
  }

  /** @internal Watches `signal` (checked by `signalOf`), if any; settles at once if it is aborted. */
  _watch(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) {
      this._abortWith(signal.reason);
      return;
    }
    this._signal = signal;
    signal.addEventListener("abort", this);
  }

  /** @internal The abort listener (the grant is its own listener: no closure). */
  handleEvent(): void {
    const s = this._signal;
    if (s !== null) this._abortWith(s.reason);
  }

  /** @internal */
  _abortWith(reason: unknown): void {
    if (this._state !== PENDING) return;
    if (reason instanceof CancelledError) this.cancel(reason.message);
    else this._reject(reason);
  }

  /** @internal Every settlement passes here: drop the abort listener. */
  override _scheduleCallbacks(): void {
    const s = this._signal;
    if (s !== null) {
      this._signal = null;
      s.removeEventListener("abort", this);
    }
    super._scheduleCallbacks();
  }

  /** @internal The consumer was thrown into (or closed) at `yield* grant`. */
  _thrownInto(): void {
    if (this._state === PENDING) this.cancel();
    else if (this._state === FULFILLED && !this._claimed) {
      this._claimed = true;
      this._abandon();
    }
  }
}

/** `yield* grant`: as a future's iterator, plus the give-back on a throw. */
class GrantIterator<T> implements Iterator<Future<unknown>, T, unknown> {
  constructor(private readonly grant: Grant<T>) {}
  next(): IteratorResult<Future<unknown>, T> {
    const g = this.grant;
    if (g._state === PENDING) {
      g._blocking = true;
      return { done: false, value: g };
    }
    return { done: true, value: g.result() };
  }
  throw(e: unknown): IteratorResult<Future<unknown>, T> {
    this.grant._thrownInto();
    throw e;
  }
  return(value?: T): IteratorResult<Future<unknown>, T> {
    this.grant._thrownInto();
    return { done: true, value: value as T };
  }
}

/** @internal The first element of a set (its oldest), or undefined. */
export function firstOf<T>(set: Set<T>): T | undefined {
  for (const x of set) return x;
  return undefined;
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
  if (reason instanceof CancelledError) f.cancel(reason.message);
  else f.setException(reason);
  return f;
}
