/**
 * Scopes: hold a lock or a permit for the length of a body and release it on every exit
 * path. A generator body runs inline in the calling task (`yield* lock.withLock(...)`),
 * an async body is awaited; `using held = yield* lock.acquire()` is the block form.
 * @module
 */
import { type Coroutine, type Future, InvalidStateError, isFuture, describeValue, isGenerator, isThenable, getRunningLoop, until, type SignalOptions } from "../core/index.ts";

/**
 * What `acquire()` gives: a handle whose `release()` (or `Symbol.dispose`, for `using`)
 * releases what was acquired once. Each primitive has one such handle, shared by its
 * holders: release it once per acquire.
 *
 * @example
 * ```ts
 * import { Lock, run } from "loopwork";
 *
 * const lock = new Lock();
 * await run(function* () {
 *   using _held = yield* lock.acquire(); // released when the block ends
 *   console.log(lock.locked()); // true
 * });
 * console.log(lock.locked()); // false
 * ```
 */
export interface Held extends Disposable {
  /**
   * Releases what was acquired, once: a second `release()` throws `InvalidStateError` (it
   * would give back what another acquisition holds); disposing after it does nothing.
   */
  release(): void;
}

/**
 * @internal The `Held` of one acquisition: it gives back what that acquisition took, once.
 * A handle shared by every acquisition could not tell them apart, so releasing it twice
 * (by hand, then by `using` at the end of the block) released another task's hold.
 */
export class HeldOnce implements Held {
  private _giveBack: (() => void) | null;
  constructor(giveBack: () => void, private readonly _what: string) {
    this._giveBack = giveBack;
  }

  release(): void {
    const giveBack = this._giveBack;
    if (giveBack === null) {
      throw new InvalidStateError(`${this._what}: this acquisition was already released`);
    }
    this._giveBack = null;
    giveBack();
  }

  [Symbol.dispose](): void {
    if (this._giveBack !== null) this.release();
  }
}

/**
 * A body run while something is held: a generator function, an async function, or any
 * function returning a coroutine, a promise, a future or a plain value.
 *
 * @example
 * ```ts
 * import { type ScopedBody, Semaphore, sleep } from "loopwork";
 *
 * const gen: ScopedBody<number> = function* () { yield* sleep(1); return 1; };
 * const fn: ScopedBody<number> = async () => 2;
 * const sem = new Semaphore(1);
 * console.log(await sem.withPermit(fn)); // 2
 * ```
 */
export type ScopedBody<R> = () => Coroutine<R> | PromiseLike<R> | Future<R> | R;

/**
 * A body to run while holding a lock or a permit, returned by `withLock` and `withPermit`:
 * `yield*` it in a generator task (the body then runs inline, in that task) or `await`
 * it. Nothing is acquired until then. Use it once.
 *
 * @example
 * ```ts
 * import { Lock, run, type Scoped } from "loopwork";
 *
 * const lock = new Lock();
 * await run(function* () {
 *   const scoped: Scoped<number> = lock.withLock(() => 42);
 *   console.log(yield* scoped); // 42, the lock held meanwhile
 * });
 * ```
 */
export class Scoped<R> implements PromiseLike<R> {
  /** @internal */
  constructor(
    private readonly owner: Acquirable,
    private readonly options: SignalOptions | undefined,
    private readonly body: ScopedBody<R>,
  ) {}

  /** `yield*`: runs the scope inside the calling generator task. */
  [Symbol.iterator](): Coroutine<R> {
    return scopedGen(this.owner, this.options, this.body);
  }

  /** `await`: runs the scope and settles with the body's result. */
  then<R1 = R, R2 = never>(
    onfulfilled?: ((value: R) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return scopedAsync(this.owner, this.options, this.body).then(onfulfilled, onrejected);
  }
}

/** @internal What a scope holds: something acquired, then released once. */
export interface Acquirable {
  acquire(options?: SignalOptions): Future<unknown>;
  release(): void;
}

/**
 * @internal Runs `body` as a scope in the calling task: the hoisted generator behind
 * `yield*` of a `Scoped`. It acquires only once it runs.
 */
function* scopedGen<R>(owner: Acquirable, options: SignalOptions | undefined, body: ScopedBody<R>): Coroutine<R> {
  yield* owner.acquire(options);
  try {
    const out = body();
    if (isGenerator(out)) return yield* (out as Coroutine<R>);
    if (isFuture(out)) return yield* (out as Future<R>);
    if (out instanceof Scoped) return yield* (out as Scoped<R>); // nested scopes stay inline
    if (isThenable(out)) return yield* until(out as PromiseLike<R>);
    return out as R;
  } finally {
    owner.release();
  }
}

/** @internal The async side: `await` of a `Scoped`. A coroutine body runs as a task. */
async function scopedAsync<R>(owner: Acquirable, options: SignalOptions | undefined, body: ScopedBody<R>): Promise<R> {
  await owner.acquire(options);
  try {
    const out = body();
    if (isGenerator(out)) return await getRunningLoop().createTask(out as Coroutine<R>, { name: "scoped" });
    return await (out as PromiseLike<R> | R);
  } finally {
    owner.release();
  }
}

/** @internal Checks a scoped body. */
export function checkBody(what: string, body: unknown): void {
  if (typeof body !== "function") {
    throw new TypeError(`${what}: body must be a function (a generator function or an async function), got ${describeValue(body)}`);
  }
}
