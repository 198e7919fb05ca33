/**
 * Scopes: hold a lock or a permit for the length of a body and release it on every exit
 * path. A generator body runs inline in the calling task (`yield* lock.withLock(...)`),
 * an async body is awaited; `using held = yield* lock.acquire()` is the block form.
 * @module
 */
import { type Coroutine, describeValue, type Future } from "../future.ts";
import type { WaitOptions } from "./grant.ts";

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
  /** Releases what was acquired. */
  release(): void;
}

/**
 * A body run while something is held: a generator function (run inline in the calling
 * task with `yield*`) or an async function.
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
export type ScopedBody<R> = (() => Coroutine<R>) | (() => PromiseLike<R>);

/** @internal What a scope holds: something acquired, then released once. */
export interface Acquirable {
  acquire(options?: WaitOptions): Future<unknown>;
  release(): void;
}

/**
 * @internal Runs `body` as a scope: the hoisted generator behind `withLock` and
 * `withPermit`. It acquires only once it runs, so a scope never started holds nothing.
 */
export function* scopedGen<R>(
  owner: Acquirable,
  options: WaitOptions | undefined,
  body: () => Coroutine<R>,
): Coroutine<R> {
  yield* owner.acquire(options);
  try {
    return yield* body();
  } finally {
    owner.release();
  }
}

/** @internal The async side of `withLock` and `withPermit`. */
export async function scopedAsync<R>(
  owner: Acquirable,
  options: WaitOptions | undefined,
  body: () => PromiseLike<R>,
): Promise<R> {
  await owner.acquire(options);
  try {
    return await body();
  } finally {
    owner.release();
  }
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;

/** @internal Checks a scoped body and tells a generator function from an async one. */
export function isGeneratorBody(what: string, body: unknown): boolean {
  if (typeof body !== "function") {
    throw new TypeError(`${what}: body must be a generator function or an async function, got ${describeValue(body)}`);
  }
  return body instanceof GeneratorFunction;
}

