/**
 * A command that owns its process (`loopwork compare`, `loopwork worker`) must not let it end
 * with exit code 0 when something else ended it: a task that calls `process.exit(0)` (or
 * `Deno.exit(0)`) would otherwise read as a clean run to whoever waits for the code.
 * @module
 */

interface DenoExit {
  exitCode: number;
}

/**
 * Calls `f` with the exit code when the process ends while watched (`process.exit()`,
 * `Deno.exit()`, or the end of the program); a number `f` returns becomes the exit code.
 * On Node through the process's `exit` event, on Deno through `unload` (which `Deno.exit()`
 * fires too, unlike `exit`). Returns the function that stops watching.
 *
 * @example
 * ```ts
 * import { onProcessEnd } from "./process-end.ts";
 *
 * const stop = onProcessEnd((code) => {
 *   process.stderr.write(`ended early (exit code ${code})\n`);
 *   return code === 0 ? 1 : undefined;
 * });
 * // ... the work the process must not end during ...
 * stop();
 * ```
 */
export function onProcessEnd(f: (code: number) => number | undefined): () => void {
  const deno = (globalThis as { Deno?: DenoExit }).Deno;
  let done = false;
  const once = (code: number): number | undefined => {
    if (done || exitingOnPurpose) return undefined;
    done = true;
    return f(code);
  };
  if (deno !== undefined) {
    const onUnload = () => {
      const code = once(deno.exitCode);
      if (code !== undefined) deno.exitCode = code;
    };
    const events = globalThis as unknown as EventTarget;
    events.addEventListener("unload", onUnload);
    return () => {
      done = true;
      events.removeEventListener("unload", onUnload);
    };
  }
  const onExit = (exitCode: number) => {
    const code = once(exitCode);
    if (code !== undefined) process.exitCode = code;
  };
  process.on("exit", onExit);
  return () => {
    done = true;
    process.off("exit", onExit);
  };
}

/** Set by `exitOnPurpose`: the watchers of `onProcessEnd` then let the process end silently. */
let exitingOnPurpose = false;

/**
 * Ends the process with `code` on the command's own decision (a second Ctrl-C, a refused
 * permission already reported): not an end `onProcessEnd` should report, however watched.
 *
 * @example
 * ```ts
 * import { exitOnPurpose } from "./process-end.ts";
 *
 * process.stderr.write("loopwork compare: interrupted again: exiting at once\n");
 * exitOnPurpose(130);
 * ```
 */
export function exitOnPurpose(code: number): never {
  exitingOnPurpose = true;
  return process.exit(code);
}
