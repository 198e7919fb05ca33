/**
 * `merge` and `MuxAsyncIterator`: many async iterables read as one, each value yielded as
 * soon as its source gives it (@std/async's MuxAsyncIterator).
 * @module
 */
import { describeValue, Ring } from "../core/index.ts";
import { iterResult } from "./iter-result.ts";

interface Source<T> {
  it: AsyncIterator<T>;
  done: boolean;
}

type Event<T> = { source: Source<T>; result: IteratorResult<T> } | { source: Source<T>; error: unknown };

/**
 * Multiplexes async iterables: values come out in the order they arrive, whichever source
 * gives them. Each source is read one value ahead at most. The first source to throw ends
 * the iteration with its error (the others are closed), and a later iteration throws it
 * again, as @std/async's; leaving the loop early closes every source. Sources may be added
 * while iterating.
 *
 * @example
 * ```ts
 * import { MuxAsyncIterator, run, sleep } from "loopwork";
 *
 * async function* ticks(name: string, ms: number, n: number) {
 *   for (let i = 0; i < n; i++) { await sleep(ms); yield `${name}${i}`; }
 * }
 * await run(async () => {
 *   const mux = new MuxAsyncIterator<string>();
 *   mux.add(ticks("a", 100, 2));
 *   mux.add(ticks("b", 150, 2));
 *   const seen = [];
 *   for await (const v of mux) seen.push(v);
 *   console.log(seen); // ["a0", "b0", "a1", "b1"]
 * }, { clock: "virtual" });
 * ```
 */
export class MuxAsyncIterator<T> implements AsyncIterable<T> {
  private readonly _sources = new Set<Source<T>>();
  private readonly _events = new Ring<Event<T>>();
  private _wake: (() => void) | null = null;
  private _iterating = false;
  private _failed: { error: unknown } | null = null;

  /** Creates the multiplexer with `iterables` already added (as @std/async's unstable constructor). */
  constructor(...iterables: AsyncIterable<T>[]) {
    for (const it of iterables) this.add(it);
  }

  /** Adds a source; its values join the merged stream. */
  add(iterable: AsyncIterable<T>): void {
    if (iterable === null || typeof iterable !== "object" || typeof iterable[Symbol.asyncIterator] !== "function") {
      throw new TypeError(`MuxAsyncIterator.add(): expects an async iterable, got ${describeValue(iterable)}`);
    }
    const source: Source<T> = { it: iterable[Symbol.asyncIterator](), done: false };
    this._sources.add(source);
    this._pull(source);
  }

  private _pull(source: Source<T>): void {
    let p: Promise<IteratorResult<T>>;
    try {
      p = Promise.resolve(source.it.next());
    } catch (error) {
      p = Promise.reject(error);
    }
    p.then(
      (result) => {
        let e: Event<T>;
        try {
          e = { source, result: iterResult<T>("MuxAsyncIterator", result) };
        } catch (error) {
          e = { source, error };
        }
        this._push(e);
      },
      (error: unknown) => this._push({ source, error }),
    );
  }

  private _push(e: Event<T>): void {
    // A source closed by an earlier iteration that ended early may still answer its last
    // next(): that value belongs to no iteration.
    if (!this._sources.has(e.source)) return;
    this._events.push(e);
    const w = this._wake;
    this._wake = null;
    w?.();
  }

  /** Iterates the merged values until every source is done. */
  async *iterate(): AsyncGenerator<T, void, undefined> {
    if (this._iterating) throw new TypeError("MuxAsyncIterator: already being iterated");
    this._iterating = true;
    let completed = false;
    try {
      if (this._failed !== null) throw this._failed.error;
      while (this._sources.size > 0) {
        if (this._events.length === 0) {
          await new Promise<void>((resolve) => (this._wake = resolve));
          continue;
        }
        const e = this._events.shift()!;
        if ("error" in e) {
          e.source.done = true;
          this._sources.delete(e.source);
          this._failed = { error: e.error };
          throw e.error;
        }
        if (e.result.done) {
          e.source.done = true;
          this._sources.delete(e.source);
          continue;
        }
        yield e.result.value;
        this._pull(e.source);
      }
      completed = true;
    } finally {
      this._iterating = false;
      if (!completed) this._closeAll();
    }
  }

  /** Closes every source still open (not awaited: one may be stuck in `next()`). */
  private _closeAll(): void {
    for (const s of this._sources) {
      try {
        Promise.resolve(s.it.return?.()).then(undefined, () => {});
      } catch {
        // a source that cannot be closed is left as it is
      }
    }
    this._sources.clear();
    this._events.clear();
  }

  /** `for await (const x of mux)`. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterate();
  }
}

/**
 * Reads several async iterables as one: each value is yielded as soon as its source gives
 * it. Ends when every source is done; the first error ends it (closing the others), and so
 * does leaving the loop early.
 *
 * @example
 * ```ts
 * import { merge } from "loopwork";
 *
 * async function* from<T>(...xs: T[]) { yield* xs; }
 * const all = [];
 * for await (const x of merge(from(1, 2), from(10, 20))) all.push(x);
 * console.log(all.sort((a, b) => a - b)); // [1, 2, 10, 20]
 * ```
 */
export function merge<T>(...iterables: AsyncIterable<T>[]): AsyncGenerator<T, void, undefined> {
  // Added one by one: spreading 100k sources into the constructor's rest parameter again
  // overflows the stack where the caller's own spread did not.
  const mux = new MuxAsyncIterator<T>();
  for (const it of iterables) mux.add(it);
  return mux.iterate();
}
