/**
 * The default report of an error with nowhere else to go: what a loop's exception handler
 * does when none was set, and what a done callback that throws outside any running loop
 * gets (so it is reported, never an uncaught exception that ends the process).
 * @module
 */
import type { ExceptionContext, Loop } from "./loop.ts";

/** @internal Writes `context` to stderr with `console.error`, as a loop does by default. */
export function defaultExceptionReport(context: ExceptionContext): void {
  const name = context.task?.name ?? context.taskName;
  const where = name !== undefined ? ` (task ${name})` : "";
  console.error(`loopwork: ${context.message}${where}`, context.exception ?? "");
}

/**
 * @internal Reports an error with nowhere else to go to `loop`'s exception handler (the loop
 * that was running where it arose), or by default outside any loop: for user code a helper
 * calls on its own (a throttled function's rejection), which would otherwise be lost or end
 * the process as an unhandled rejection.
 */
export function reportException(loop: Loop | undefined, context: ExceptionContext): void {
  if (loop !== undefined && !loop.isClosed()) loop.callExceptionHandler(context);
  else defaultExceptionReport(context);
}
