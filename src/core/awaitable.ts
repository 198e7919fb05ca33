/**
 * What the combinators accept, and how each kind becomes a future: a `Future` (or `Task`)
 * as it is, a generator object wrapped into a task (as asyncio wraps a coroutine), and a
 * promise through `until()`. Anything else is refused, with the culprit named.
 * @module
 */
import { type Coroutine, Future, isFuture } from "./future.ts";
import { describeValue, isGenerator, isThenable } from "./checks.ts";
import type { Loop } from "./loop.ts";
import { getRunningLoop } from "./running.ts";
import { until } from "./until.ts";

/**
 * Something a combinator can wait on: a future or task, a generator object (a coroutine,
 * which the combinator runs as a task) or a promise.
 *
 * @example
 * ```ts
 * import { type Awaitable, gather, run, sleep } from "loopwork";
 *
 * function* child(): Generator<never, number, unknown> { return 1; }
 * await run(function* () {
 *   const items: Awaitable<number>[] = [sleep(10, 1), child(), Promise.resolve(1)];
 *   console.log(yield* gather(items)); // [1, 1, 1]
 * });
 * ```
 */
export type Awaitable<T> = Future<T> | Coroutine<T> | PromiseLike<T>;

/**
 * The result type of an awaitable: `T` for `Future<T>`, a coroutine returning `T`, or a
 * `PromiseLike<T>`.
 *
 * @example
 * ```ts
 * import type { AwaitedOf, Future } from "loopwork";
 *
 * type N = AwaitedOf<Future<number>>; // number
 * type S = AwaitedOf<Promise<string>>; // string
 * ```
 */
export type AwaitedOf<A> = A extends Future<infer T>
  ? T
  : A extends Generator<unknown, infer T, unknown>
    ? T
    : A extends PromiseLike<infer T>
      ? T
      : never;


/** Is `x` an object with a `[Symbol.iterator]` method? Never throws (a Proxy's trap may). */
function isIterableObject(x: unknown): x is Iterable<unknown> {
  if (x === null || typeof x !== "object") return false;
  try {
    return typeof (x as Iterable<unknown>)[Symbol.iterator] === "function";
  } catch {
    return false;
  }
}

/** "gather()" → "gather": the call's name, to write a corrected call in a message. */
function callName(what: string): string {
  return what.endsWith("()") ? what.slice(0, -2) : what;
}

/** What was given, for a message: a generator object named as one, anything else as `describeValue` does. */
function describeGiven(x: unknown): string {
  return isGenerator(x) ? "a generator object" : describeValue(x);
}

/**
 * @internal The error for a body that is not a function: `what` expects a generator function
 * or an async function `(param) => ...`. A generator object is a body already called; an
 * awaitable gets `awaitableHint`, the call that takes one.
 */
export function notABody(what: string, body: unknown, param: string, awaitableHint: string): TypeError {
  const wanted = `${what} expects a generator function or an async function (${param}) => ..., got `;
  if (isGenerator(body)) return new TypeError(`${wanted}a generator object: pass the function itself, not its call`);
  if (isThenable(body)) return new TypeError(`${wanted}${describeValue(body)}, which is already an awaitable: ${awaitableHint}`);
  return new TypeError(`${wanted}${describeValue(body)}`);
}

/**
 * @internal Refuses an awaitable given where a combinator's options go: `gather(a, b)`
 * written for `gather([a, b])` (asyncio's gather takes its awaitables one by one).
 */
export function checkNotAwaitable(what: string, options: unknown): void {
  if (options === undefined || options === null) return;
  if (isThenable(options) || isGenerator(options)) {
    const name = callName(what);
    throw new TypeError(
      `${what} takes its awaitables as one list, ${name}([a, b]), not one by one, ${name}(a, b): ` +
        `its second argument is its options, got ${describeGiven(options)}`,
    );
  }
}

/**
 * @internal Checks every item first (so a bad one leaves no task behind), then turns each
 * into a future. Equal generator objects or promises become one future, as asyncio's
 * `arg_to_fut` makes them; a future is itself, so a repeated one is repeated in the list
 * (the combinators count it once as they register with it). `owned`: `aws` is already the
 * caller's own copy (an array), taken as it is.
 */
export function toFutures(what: string, aws: unknown, owned = false): Future<unknown>[] {
  if (!isIterableObject(aws)) {
    throw new TypeError(`${what} expects an array (or iterable) of awaitables, got ${describeValue(aws)}`);
  }
  // One awaitable where the list goes. A future or task is iterable (for `yield*`), and so is
  // a generator object; spread, a pending future would yield itself for ever and a coroutine
  // would run its body here, outside the loop.
  if (!Array.isArray(aws) && (isThenable(aws) || isGenerator(aws))) {
    const name = callName(what);
    throw new TypeError(
      `${what} expects an array (or iterable) of awaitables, got one awaitable, ${describeGiven(aws)}: ` +
        `put it in a list, ${name}([x]) (to pass the awaitables a generator makes, spread it: ${name}([...items()]))`,
    );
  }
  // A copy: a thenable's `then` (read below) must not change what is being converted.
  const items: unknown[] = Array.isArray(aws) ? (owned ? aws : aws.slice()) : [...(aws as Iterable<unknown>)];
  const n = items.length;
  let others = 0; // items that are not futures: each becomes a new task or future
  let needsLoop = false;
  for (let i = 0; i < n; i++) {
    const x = items[i];
    if (isFuture(x)) continue;
    others++;
    if (isThenable(x)) continue;
    if (isGenerator(x)) {
      needsLoop = true;
      continue;
    }
    const hint = typeof x === "function"
      ? `; call it first (${x.name || "fn"}() gives a generator or a promise) or spawn() it`
      : "";
    throw new TypeError(
      `${what}: item ${i} is not awaitable: got ${describeValue(x)}; expected a Future, a Task, ` +
        `a generator object or a promise${hint}`,
    );
  }
  if (others === 0) return items as Future<unknown>[];
  const out: Future<unknown>[] = new Array(n);
  const loop: Loop | null = needsLoop ? getRunningLoop() : null;
  // Only what is wrapped needs a map, to wrap a repeated item once.
  const seen = others > 1 ? new Map<unknown, Future<unknown>>() : null;
  for (let i = 0; i < n; i++) {
    const x = items[i];
    if (isFuture(x)) {
      out[i] = x;
      continue;
    }
    let f = seen?.get(x);
    if (f === undefined) {
      f = toFuture(x, loop);
      seen?.set(x, f);
    }
    out[i] = f;
  }
  return out;
}

/** @internal One awaitable (already checked) as a future. */
export function toFuture(x: unknown, loop: Loop | null): Future<unknown> {
  if (isFuture(x)) return x;
  if (isGenerator(x)) return (loop ?? getRunningLoop()).createTask(x);
  return until(x as PromiseLike<unknown>);
}

/** @internal Checks one awaitable and turns it into a future; for waitFor and shield. */
export function oneFuture(what: string, x: unknown): Future<unknown> {
  if (isFuture(x)) return x;
  if (isGenerator(x)) return getRunningLoop().createTask(x);
  if (isThenable(x)) return until(x);
  const hint = typeof x === "function" ? "; call it first, or spawn() it" : "";
  throw new TypeError(
    `${what} expects a Future, a Task, a generator object or a promise, got ${describeValue(x)}${hint}`,
  );
}
