/**
 * Time limits: `timeout`, `timeoutAt` and `waitFor` (asyncio.timeout, timeout_at and
 * wait_for, 3.12+), and `moveOnAfter`, `moveOnAt` (Trio's and AnyIO's). A scope runs its
 * body in a task of its own; when the deadline passes it cancels that task, and turns the
 * resulting `CancelledError` into its outcome — a `TimeoutError`, or quietly `undefined`
 * for a move-on scope — only if nothing else cancelled it too, so of nested scopes that
 * expire together only the outermost ends that way and the inner ones see the cancellation.
 * @module
 */
import { isCancelledError, InvalidStateError, TimeoutError, type Coroutine, type Future, checkSignal, checkOptions, checkMs, checkTimeout, type Handle, type Loop, getRunningLoop, type Task, linkSignal, notABody, startBody } from "../core/index.ts";

const CREATED = 0;
const ENTERED = 1;
const EXPIRING = 2;
const EXPIRED = 3;
const EXITED = 4;
const STATE_NAMES = ["created", "active", "expiring", "expired", "finished"] as const;

/**
 * Options of `timeout()` and `timeoutAt()`.
 *
 * @example
 * ```ts
 * import { run, sleep, timeout, type TimeoutOptions } from "loopwork";
 *
 * await run(async () => {
 *   const options: TimeoutOptions = { name: "fetch-with-limit", signal: AbortSignal.timeout(5_000) };
 *   await timeout(1_000, function* () { yield* sleep(10); }, options);
 * });
 * ```
 */
export interface TimeoutOptions {
  /** Name of the scope's task (default `Task-N`). */
  name?: string;
  /** Cancels the scope when aborted (a cancellation, not a timeout): for async callers. */
  signal?: AbortSignal;
}

/**
 * The body of a timeout scope: a generator function or an async function of the scope.
 *
 * @example
 * ```ts
 * import { sleep, type TimeoutBody } from "loopwork";
 *
 * const gen: TimeoutBody<string> = function* () { yield* sleep(10); return "done"; };
 * const fn: TimeoutBody<string> = async (scope) => {
 *   const res = await fetch("https://example.com", { signal: scope.signal });
 *   return res.text();
 * };
 * ```
 */
export type TimeoutBody<R> = (scope: TimeoutScope) => Coroutine<R> | PromiseLike<R>;

function timerFired(arg: unknown): void {
  (arg as TimeoutScope)._onTimeout();
}

/**
 * A running time limit, handed to the body of `timeout()` / `timeoutAt()`: read its
 * deadline, move it, or ask whether it expired. An async body passes `signal` to what it
 * awaits: the signal aborts when the deadline passes (or the scope is cancelled).
 *
 * @example
 * ```ts
 * import { getRunningLoop, run, sleep, timeout } from "loopwork";
 *
 * await run(function* () {
 *   yield* timeout(100, function* (scope) {
 *     yield* sleep(50);
 *     scope.reschedule(getRunningLoop().time() + 100); // more time: the work goes well
 *     yield* sleep(80);
 *     console.log(scope.expired()); // false
 *   });
 * });
 * ```
 */
export class TimeoutScope {
  /** @internal */ _state: number = CREATED;
  /** @internal */ _when: number | null;
  /** @internal */ _task!: Task<unknown>;
  /** @internal cancellation requests the task had on entry */ _cancelling = 0;
  /** @internal */ _timer: Handle | null = null;
  /** @internal */ readonly _loop: Loop;
  /** @internal which function made the scope ("timeout()", ...), for messages */ readonly _what: string;
  /** @internal the limit as given (ms, or a deadline for timeoutAt) */ readonly _limit: number | null;
  /** @internal the expiry ends the scope quietly (moveOnAfter/moveOnAt) */ _quiet = false;
  /** @internal */ _caught = false;

  /** @internal Use `timeout()` or `timeoutAt()`. */
  constructor(loop: Loop, when: number | null, what: string, limit: number | null) {
    this._loop = loop;
    this._when = when;
    this._what = what;
    this._limit = limit;
  }

  /** The deadline on the loop's clock (ms), or `null` for none. */
  when(): number | null {
    return this._when;
  }

  /** Whether the deadline passed while the body ran (even if the body then finished). */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  /**
   * Moves the deadline to loop time `when` (ms), or removes it with `null`. A deadline in
   * the past expires the scope on the next turn of the loop.
   *
   * @throws {InvalidStateError} when the scope already expired or finished
   * @throws {RangeError} for NaN
   */
  reschedule(when: number | null): void {
    if (this._state !== ENTERED) {
      throw new InvalidStateError(
        this._state === CREATED
          ? "reschedule(): the timeout scope has not been entered"
          : `reschedule(): cannot change the deadline of a timeout scope that is ${STATE_NAMES[this._state]}`,
      );
    }
    checkTime("reschedule()", when, "when");
    this._when = when;
    this._timer?.cancel();
    this._timer = null;
    if (when !== null && when !== Infinity) {
      const loop = this._loop;
      // A deadline already passed fires on the next turn, queued now (asyncio's call_soon),
      // so it runs before whatever the body queues after entering the scope.
      this._timer = when <= loop.time()
        ? loop._callSoon1(timerFired, this)
        : loop._callAt1(when, timerFired, this);
    }
  }

  /**
   * Whether the deadline passed and this scope caught the cancellation it caused (Trio's
   * `cancelled_caught`): a move-on scope then returned `undefined`, a `timeout()` scope
   * raised `TimeoutError`. `false` while the scope runs, when the body caught the
   * cancellation and returned, and when another cancellation was pending too (an outer
   * scope's, or the caller's: that one then goes on).
   */
  get cancelledCaught(): boolean {
    return this._caught;
  }

  /** The scope task's signal: aborted when the deadline passes or the scope is cancelled. */
  get signal(): AbortSignal {
    return this._task.signal;
  }

  /** A short description such as `TimeoutScope<active, when=1200>`. */
  toString(): string {
    return this._state === ENTERED
      ? `TimeoutScope<active, when=${this._when}>`
      : `TimeoutScope<${STATE_NAMES[this._state]}>`;
  }

  /** @internal */
  _enter(): void {
    this._state = ENTERED;
    this._cancelling = this._task.cancelling();
    this.reschedule(this._when);
  }

  /** @internal The deadline passed: cancel the body. */
  _onTimeout(): void {
    this._timer = null;
    if (this._state !== ENTERED) return;
    this._task.cancel();
    this._state = EXPIRING;
  }

  /** @internal asyncio's `Timeout.__aexit__`: returns what to throw, when something is thrown. */
  _exit(threw: boolean, error: unknown): unknown {
    this._timer?.cancel();
    this._timer = null;
    if (this._state === EXPIRING) {
      this._state = EXPIRED;
      // Withdraw our own request; convert only if no other cancellation is pending.
      if (this._task.uncancel() <= this._cancelling && threw && isCancelledError(error)) {
        this._caught = true;
        if (this._quiet) return MOVED_ON;
        const name = this._what.slice(0, -2);
        const limit = name === "timeoutAt" ? `${this._limit}` : `${this._limit} ms`;
        return new TimeoutError(`${name}(${limit}) expired`, { cause: error });
      }
    } else if (this._state === ENTERED) {
      this._state = EXITED;
    }
    return error;
  }
}

/** @internal A time limit or deadline: a number (not NaN), or `null` for none. */
export function checkTime(what: string, t: unknown, name: string): asserts t is number | null {
  // Any number but NaN: a deadline already past expires at once, Infinity never does.
  if (t === undefined) checkMs(what, name, t);
  else if (t !== null) checkTimeout(what, name, t, { negative: true });
}

/** What `_exit` gives for an expired move-on scope: end quietly. */
const MOVED_ON: unknown = Symbol("moved on");

function* scopeMain<R>(scope: TimeoutScope, body: TimeoutBody<R>): Coroutine<R> {
  scope._enter();
  let result: R;
  try {
    result = yield* startBody(scope._what, body, scope);
  } catch (e) {
    const out = scope._exit(true, e);
    if (out === MOVED_ON) return undefined as R;
    throw out;
  }
  scope._exit(false, undefined);
  return result;
}

/** @internal Runs `body` as a task under a timeout scope with deadline `when` (`null`: none). */
export function startScope<R>(
  what: string,
  when: number | null,
  limit: number | null,
  body: TimeoutBody<R>,
  options: TimeoutOptions | undefined,
  scope?: TimeoutScope,
): Task<R> {
  if (typeof body !== "function") {
    const hint = what.startsWith("moveOn")
      ? `wrap it, ${what.slice(0, -2)}(…, function* () { return yield* aw; })`
      : "to bound one awaitable, use waitFor(aw, ms)";
    throw notABody(what, body, "scope", hint);
  }
  checkOptions(what, options, ["name", "signal"]);
  const signal = checkSignal(what, options?.signal);
  const loop = getRunningLoop();
  scope ??= new TimeoutScope(loop, when, what, limit);
  const task = loop.createTask(scopeMain(scope, body), options?.name === undefined ? undefined : { name: options.name });
  scope._task = task as Task<unknown>;
  linkSignal(task as Task<unknown>, signal);
  return task;
}

/**
 * Runs `body` with a time limit of `ms` milliseconds and returns its task (asyncio.timeout).
 * When the limit passes, the body is cancelled; the task then fails with a `TimeoutError`
 * whose `cause` is the `CancelledError` the body saw. A body that catches the cancellation
 * and returns normally just returns (check `scope.expired()`). Errors other than the
 * cancellation pass through unchanged. `null` (or `Infinity`) means no limit; a limit of 0
 * or less expires on the next turn of the loop.
 *
 * Nested scopes: of several that expire together, only the outermost raises
 * `TimeoutError`; the inner ones see `CancelledError`. The task that waits on the scope is
 * never left cancelled by the expiry: it catches the `TimeoutError` and carries on.
 *
 * A generator body gets the cancellation at its `yield*`. An async body cannot be
 * interrupted mid-`await`: it must listen to `scope.signal` (pass it to `fetch`, to
 * `abortable()`, ...); the scope waits for it to settle, and a rejection after the signal
 * aborted counts as the cancellation, hence as the timeout.
 *
 * @param ms the limit in milliseconds, or `null` for none
 * @param body generator function or async function receiving the `TimeoutScope`
 * @param options `name` of the scope's task; `signal` to cancel it from async code
 * @throws {RangeError} synchronously for NaN or a non-number limit
 * @example
 * ```ts
 * import { run, sleep, timeout, TimeoutError } from "loopwork";
 *
 * await run(function* () {
 *   try {
 *     yield* timeout(100, function* () {
 *       yield* sleep(1_000);
 *     });
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError); // true, after 100 ms
 *   }
 *   const text = yield* timeout(100, async (scope) => {
 *     const res = await fetch("https://example.com", { signal: scope.signal });
 *     return res.text();
 *   });
 * });
 * ```
 */
export function timeout<R>(ms: number | null, body: TimeoutBody<R>, options?: TimeoutOptions): Task<R> {
  checkTime("timeout()", ms, "ms");
  const loop = getRunningLoop();
  const when = ms === null ? null : loop.time() + ms;
  return startScope("timeout()", when, ms, body, options);
}

/**
 * Like `timeout()`, with the deadline given as a time of the loop's clock
 * (`getRunningLoop().time()` is now), or `null` for none (asyncio.timeout_at).
 *
 * @param when deadline on the loop's clock, in milliseconds, or `null`
 * @param body generator function or async function receiving the `TimeoutScope`
 * @param options `name` of the scope's task; `signal` to cancel it from async code
 * @throws {RangeError} synchronously for NaN or a non-number deadline
 * @example
 * ```ts
 * import { getRunningLoop, run, sleep, timeoutAt } from "loopwork";
 *
 * await run(function* () {
 *   const deadline = getRunningLoop().time() + 500;
 *   yield* timeoutAt(deadline, function* (scope) {
 *     yield* sleep(100);
 *     console.log(scope.when() === deadline); // true
 *   });
 * });
 * ```
 */
export function timeoutAt<R>(when: number | null, body: TimeoutBody<R>, options?: TimeoutOptions): Task<R> {
  checkTime("timeoutAt()", when, "when");
  return startScope("timeoutAt()", when, when, body, options);
}

/**
 * The scope of `moveOnAfter()` / `moveOnAt()`, handed to the body and returned to the
 * caller: `yield*` or `await` it for the body's result (`undefined` when the deadline cut
 * the body short), then read `cancelledCaught`. It is also the body's `TimeoutScope`
 * (`when()`, `reschedule()`, `signal`, ...).
 *
 * @example
 * ```ts
 * import { moveOnAfter, run, sleep } from "loopwork";
 *
 * await run(function* () {
 *   const scope = moveOnAfter(100, function* () {
 *     yield* sleep(1_000);
 *     return "slow";
 *   });
 *   console.log(yield* scope, scope.cancelledCaught); // undefined true, after 100 ms
 * });
 * ```
 */
export class MoveOnScope<R> extends TimeoutScope implements PromiseLike<R | undefined> {
  /** The scope's task: it settles with the body's result, or `undefined` when moved on. */
  get task(): Task<R | undefined> {
    return this._task as Task<R | undefined>;
  }

  /** `yield*`: waits for the scope in a generator task. */
  [Symbol.iterator](): Iterator<Future<unknown>, R | undefined, unknown> {
    return this.task[Symbol.iterator]();
  }

  /** `await`: settles with the body's result, or `undefined` when moved on. */
  then<R1 = R | undefined, R2 = never>(
    onfulfilled?: ((value: R | undefined) => R1 | PromiseLike<R1>) | null,
    // `any`, as in Promise's own `then`.
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.task.then(onfulfilled, onrejected);
  }

  /** Cancels the scope from outside (a cancellation, not an expiry: it is not caught). */
  cancel(msg?: string): boolean {
    return this.task.cancel(msg);
  }
}

function startMoveOn<R>(
  what: string,
  when: number | null,
  limit: number | null,
  body: TimeoutBody<R>,
  options: TimeoutOptions | undefined,
): MoveOnScope<R> {
  const scope = new MoveOnScope<R>(getRunningLoop(), when, what, limit);
  scope._quiet = true;
  startScope(what, when, limit, body, options, scope);
  return scope;
}

/**
 * Runs `body` with a time limit of `ms` milliseconds, ending quietly when it passes
 * (Trio's and AnyIO's `move_on_after`): the body is cancelled as by `timeout()`, and the
 * scope then settles with `undefined` instead of failing; `scope.cancelledCaught` tells
 * that it did. A body that finishes in time gives its result. Errors other than the
 * cancellation pass through; a cancellation from outside (of the caller, or of an outer
 * scope expiring at the same time) stays a cancellation. `null` (or `Infinity`) means no
 * limit. Generator and async bodies are cancelled as `timeout()` describes.
 *
 * @param ms the limit in milliseconds, or `null` for none
 * @param body generator function or async function receiving the scope
 * @param options `name` of the scope's task; `signal` to cancel it from async code
 * @returns the scope: `yield*` or `await` it, then read `cancelledCaught`
 * @throws {RangeError} synchronously for NaN or a non-number limit
 * @example
 * ```ts
 * import { moveOnAfter, run, sleep } from "loopwork";
 *
 * await run(async () => {
 *   const scope = moveOnAfter(100, async (s) => {
 *     const res = await fetch("https://example.com", { signal: s.signal });
 *     return res.status;
 *   });
 *   const status = await scope;
 *   console.log(scope.cancelledCaught ? "gave up after 100 ms" : status);
 * });
 * ```
 */
export function moveOnAfter<R>(ms: number | null, body: TimeoutBody<R>, options?: TimeoutOptions): MoveOnScope<R> {
  checkTime("moveOnAfter()", ms, "ms");
  const when = ms === null ? null : getRunningLoop().time() + ms;
  return startMoveOn("moveOnAfter()", when, ms, body, options);
}

/**
 * Like `moveOnAfter()`, with the deadline given as a time of the loop's clock
 * (`getRunningLoop().time()` is now), or `null` for none (Trio's `move_on_at`).
 *
 * @param when deadline on the loop's clock, in milliseconds, or `null`
 * @param body generator function or async function receiving the scope
 * @param options `name` of the scope's task; `signal` to cancel it from async code
 * @returns the scope: `yield*` or `await` it, then read `cancelledCaught`
 * @throws {RangeError} synchronously for NaN or a non-number deadline
 * @example
 * ```ts
 * import { getRunningLoop, moveOnAt, run, sleep } from "loopwork";
 *
 * await run(function* () {
 *   const deadline = getRunningLoop().time() + 500;
 *   const scope = moveOnAt(deadline, function* () {
 *     for (;;) yield* sleep(100); // polls until the deadline
 *   });
 *   yield* scope;
 *   console.log(scope.cancelledCaught); // true
 * });
 * ```
 */
export function moveOnAt<R>(when: number | null, body: TimeoutBody<R>, options?: TimeoutOptions): MoveOnScope<R> {
  checkTime("moveOnAt()", when, "when");
  return startMoveOn("moveOnAt()", when, when, body, options);
}
