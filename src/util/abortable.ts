/**
 * `abortable`: @std/async's abortable, for promises, loopwork futures and async iterables.
 * @module
 */
import { type Future, isFuture } from "../future.ts";
import { checkSignal } from "./clock.ts";
import { SignalFuture } from "./cancellable.ts";
import { settleFrom } from "./deadline.ts";

/**
 * Makes waiting on `p` abortable: settles as `p` does, unless `signal` aborts first, in
 * which case it rejects with `signal.reason` (or is cancelled, when the reason is a
 * `CancelledError`, as a task's signal gives). `p` itself keeps running.
 *
 * For an async iterable, returns an async generator that yields its values until the
 * signal aborts, then throws the reason and closes the source.
 *
 * @throws {TypeError} when `signal` is not an `AbortSignal` or `p` is neither kind
 * @example
 * ```ts
 * import { abortable, delay } from "loopwork";
 *
 * const ac = new AbortController();
 * const slow = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 100));
 * setTimeout(() => ac.abort(new Error("stop")), 10);
 * try {
 *   await abortable(slow, ac.signal);
 * } catch (e) {
 *   console.log((e as Error).message); // "stop"
 * }
 * await delay(100); // let `slow` finish
 * ```
 */
export function abortable<T>(p: PromiseLike<T> | Future<T>, signal: AbortSignal): Future<T>;
export function abortable<T>(p: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined>;
export function abortable<T>(
  p: PromiseLike<T> | Future<T> | AsyncIterable<T>,
  signal: AbortSignal,
): Future<T> | AsyncGenerator<T, void, undefined> {
  const s = checkSignal("abortable()", signal);
  if (s === undefined) throw new TypeError("abortable(): signal must be an AbortSignal, got undefined");
  if (isFuture(p) || typeof (p as PromiseLike<T>)?.then === "function") {
    const f = new SignalFuture<T>();
    f._watch(s);
    if (!f.done()) settleFrom(f, p as PromiseLike<T> | Future<T>);
    return f;
  }
  if (p !== null && typeof (p as AsyncIterable<T>)?.[Symbol.asyncIterator] === "function") {
    return abortableIterable(p as AsyncIterable<T>, s);
  }
  throw new TypeError(`abortable(): expects a promise, a future or an async iterable, got ${typeof p}`);
}

async function* abortableIterable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined> {
  signal.throwIfAborted();
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const f = new SignalFuture<IteratorResult<T>>();
      f._watch(signal);
      if (!f.done()) settleFrom(f, it.next());
      const r = await f;
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    // Close the source on abort or early exit (not awaited: it may be stuck in next()).
    if (!finished) it.return?.()?.then(undefined, () => {});
  }
}
