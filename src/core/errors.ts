/**
 * The errors of the loop core. Each has a `name` equal to its class name, so it survives
 * `structuredClone`, logging and `instanceof` checks across realms alike.
 * @module
 */

/**
 * Raised at the suspension point of a task that was cancelled, and by `result()` of a
 * cancelled future. Its `message` is the one passed to `cancel(msg)`.
 *
 * Catch it only to clean up, then rethrow it: swallowing it turns a cancellation into a
 * normal return (which is allowed, as in asyncio, but rarely meant).
 *
 * @example
 * ```ts
 * import { CancelledError, run, sleep, spawn } from "loopwork";
 *
 * await run(function* () {
 *   const task = spawn(function* () {
 *     try {
 *       yield* sleep(1_000);
 *     } catch (e) {
 *       if (e instanceof CancelledError) console.log("cancelled:", e.message);
 *       throw e;
 *     }
 *   });
 *   yield* sleep(10);
 *   task.cancel("no longer needed");
 * });
 * ```
 */
export class CancelledError extends Error {
  /** Creates the error; `message` is the cancel message, empty when none was given. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "", options);
    this.name = "CancelledError";
  }
}

/**
 * Raised when an operation is not allowed in the current state of a future or loop:
 * reading the result of a pending future, setting the result of a done one, running a
 * closed loop.
 *
 * @example
 * ```ts
 * import { Future, InvalidStateError } from "loopwork";
 *
 * const f = new Future<number>();
 * try {
 *   f.result();
 * } catch (e) {
 *   console.log(e instanceof InvalidStateError); // true: "Result is not set."
 * }
 * ```
 */
export class InvalidStateError extends Error {
  /** Creates the error with a message that says which state forbade the operation. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidStateError";
  }
}

/**
 * Raised when a time limit passes: by `timeout()`, `timeoutAt()` and `waitFor()`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "loopwork";
 *
 * const e = new TimeoutError("took longer than 5 ms");
 * console.log(e.name); // "TimeoutError"
 * ```
 */
export class TimeoutError extends Error {
  /** Creates the error; the `cause` is usually the `CancelledError` that the expiry delivered. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "The operation timed out", options);
    this.name = "TimeoutError";
  }
}

/**
 * @internal The message of the cancellation an abort with `reason` makes: an error's message,
 * another value as a string. Never throws: a reason whose `message` getter (or `String()`)
 * throws, such as a Proxy, makes a cancellation without a message.
 */
export function abortMessage(reason: unknown): string | undefined {
  try {
    if (reason instanceof Error) return reason.message;
    return reason === undefined ? undefined : String(reason);
  } catch {
    return undefined;
  }
}

/**
 * @internal The rule of an async task's cancellation, in one place: a rejection that comes
 * after its signal was aborted is the cancellation, with the rejection as its cause.
 */
export function asCancellation(e: unknown, message: string | undefined): CancelledError {
  return isCancelledError(e) ? e : new CancelledError(message, { cause: e });
}

/**
 * @internal Is `e` a `CancelledError`? Never throws: user code may throw anything, and a
 * Proxy whose `getPrototypeOf` trap throws made `instanceof` throw inside the loop's step, so
 * the failing task never ended (and `run()` never did). Such a value is not a cancellation.
 */
export function isCancelledError(e: unknown): e is CancelledError {
  if (e === null || (typeof e !== "object" && typeof e !== "function")) return false;
  try {
    return e instanceof CancelledError;
  } catch {
    return false;
  }
}
