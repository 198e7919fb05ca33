/**
 * The time source of the utilities: the running loop's clock and timers when a loop runs
 * (so a virtual clock drives them), the host's otherwise; and the checks of their common
 * arguments.
 * @module
 */
import { MAX_HOST_TIMEOUT, tryGetRunningLoop } from "../core/index.ts";

/** @internal A scheduled callback that can be called off. */
export interface Timer {
  cancel(): void;
}

/** @internal Milliseconds on the running loop's clock, or on the host's monotonic clock. */
export function now(): number {
  const loop = tryGetRunningLoop();
  return loop !== undefined ? loop.time() : performance.now();
}

/**
 * @internal Milliseconds on the running loop's clock, or `Date.now()` outside a loop: the
 * clock base of @std/async's throttle (`lastExecution`).
 */
export function clockNow(): number {
  const loop = tryGetRunningLoop();
  return loop !== undefined ? loop.time() : Date.now();
}

interface Unrefable {
  unref?(): void;
}
declare const Deno: { unrefTimer(id: number): void } | undefined;

/**
 * @internal Runs `cb` after `ms`: on the running loop's clock when a loop runs, else with a
 * host timer (which `persistent: false` unrefs, so it does not keep the process alive).
 */
export function setTimer(ms: number, cb: () => void, persistent: boolean = true): Timer {
  const loop = tryGetRunningLoop();
  if (loop !== undefined) return loop.callLater(ms, cb);
  // Hosts fire a timer longer than 2^31 - 1 ms at once, and Node may fire one a millisecond
  // early by Date.now: wait in steps of at most 2^31 - 1 ms, as @std/async does, until `ms`
  // have passed on Date.now (a wall clock set back costs at most `ms` more).
  const start = Date.now();
  let id: ReturnType<typeof setTimeout>;
  const arm = (left: number): void => {
    id = setTimeout(step, Math.min(left, MAX_HOST_TIMEOUT));
    if (!persistent) {
      if (typeof (id as Unrefable).unref === "function") (id as Unrefable).unref!();
      else if (typeof Deno !== "undefined") Deno.unrefTimer(id as unknown as number);
    }
  };
  const step = (): void => {
    const left = ms - (Date.now() - start);
    if (left > 0) arm(Math.min(left, ms));
    else cb();
  };
  arm(ms);
  return { cancel: () => clearTimeout(id) };
}


