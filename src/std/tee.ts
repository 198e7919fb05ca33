/**
 * `tee`: one async iterable read by several consumers, each seeing every value
 * (@std/async's tee), with the source read once.
 * @module
 */
import { describeValue } from "../core/index.ts";
import { iterResult } from "./iter-result.ts";

/**
 * A tuple of `N` values of type `T` (`T[]` when `N` is not a literal), as in @std/async.
 *
 * @example
 * ```ts
 * import type { Tuple } from "loopwork";
 *
 * const pair: Tuple<string, 2> = ["a", "b"];
 * ```
 */
export type Tuple<T, N extends number> = N extends N ? (number extends N ? T[] : TupleOf<T, N, []>) : never;

/** @internal */
export type TupleOf<T, N extends number, R extends unknown[]> = R["length"] extends N ? R : TupleOf<T, N, [T, ...R]>;

interface Node<T> {
  value: T;
  next: Node<T> | null;
}

/**
 * Splits `iterable` into `n` async iterables (default 2) that each yield every value of
 * the source. The source is read once, one value at a time however many branches ask;
 * values are kept until the slowest branch has read them. A source error reaches each
 * branch at the point where it happened. The source is closed once every branch has
 * finished or left early.
 *
 * @param n how many branches, an integer >= 1
 * @throws {RangeError} when `n` is not an integer >= 1
 * @example
 * ```ts
 * import { tee } from "loopwork";
 *
 * async function* numbers() { yield 1; yield 2; yield 3; }
 * const [a, b] = tee(numbers());
 * const seenA = [], seenB = [];
 * for await (const x of a) seenA.push(x);
 * for await (const x of b) seenB.push(x);
 * console.log(seenA, seenB); // [1, 2, 3] [1, 2, 3]
 * ```
 */
export function tee<T, N extends number = 2>(iterable: AsyncIterable<T>, n: N = 2 as N): Tuple<AsyncGenerator<T, void, undefined>, N> {
  if (iterable === null || typeof iterable !== "object" || typeof iterable[Symbol.asyncIterator] !== "function") {
    throw new TypeError(`tee(): expects an async iterable, got ${describeValue(iterable)}`);
  }
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`tee(): n must be an integer >= 1, got ${describeValue(n)}`);
  }
  const source = iterable[Symbol.asyncIterator]();
  // A linked list of values; each branch holds its own position, so values read by every
  // branch are garbage.
  const head: Node<T> = { value: undefined as T, next: null };
  let tail = head;
  let ended: { error: unknown } | { done: true } | null = null;
  let pulling: Promise<void> | null = null;
  let open = n as number;

  const pull = (): Promise<void> =>
    (pulling ??= (async () => {
      try {
        const r = iterResult<T>("tee()", await source.next());
        if (r.done) ended = { done: true };
        else {
          const node: Node<T> = { value: r.value, next: null };
          tail.next = node;
          tail = node;
        }
      } catch (error) {
        ended = { error };
      } finally {
        pulling = null;
      }
    })());

  // A branch leaves once: from its own `finally`, or from `return()`/`throw()` before its
  // first `next()` (which never run the body, so never reach its `finally`).
  const leave = (left: { done: boolean }): Promise<unknown> | undefined => {
    if (left.done) return undefined;
    left.done = true;
    return --open === 0 && ended === null ? source.return?.() : undefined;
  };

  async function* branch(left: { done: boolean }): AsyncGenerator<T, void, undefined> {
    let at = head;
    try {
      for (;;) {
        if (at.next !== null) {
          at = at.next;
          yield at.value;
        } else if (ended !== null) {
          if ("error" in ended) throw ended.error;
          return;
        } else {
          await pull();
        }
      }
    } finally {
      await leave(left);
    }
  }

  const branches = Array.from({ length: n }, () => {
    const left = { done: false };
    const gen = branch(left);
    const { return: end, throw: fail } = gen;
    gen.return = async (value) => {
      try {
        return await end.call(gen, value);
      } finally {
        await leave(left);
      }
    };
    gen.throw = async (error) => {
      try {
        return await fail.call(gen, error);
      } finally {
        await leave(left);
      }
    };
    return gen;
  });
  return branches as Tuple<AsyncGenerator<T, void, undefined>, N>;
}
