/**
 * The loop's clocks. The real clock is the host's monotonic `performance.now()`. The
 * virtual clock starts at 0 and moves only when the loop advances it to the next timer,
 * which it does once nothing is runnable: `sleep(60_000)` then takes no wall time and the
 * order of events is exact, which is how tests test time.
 * @module
 */

/**
 * Which clock a loop keeps time with: the host's monotonic clock, or virtual time that jumps to the next timer when every task waits.
 *
 * @example
 * ```ts
 * import { type ClockKind, run, sleep } from "loopwork";
 *
 * const clock: ClockKind = "virtual";
 * await run(function* () { yield* sleep(60_000); }, { clock }); // returns at once
 * ```
 */
export type ClockKind = "real" | "virtual";

/** A source of monotonic milliseconds. */
export interface Clock {
  readonly kind: ClockKind;
  now(): number;
}

/** The host's monotonic clock, in milliseconds. */
export class RealClock implements Clock {
  readonly kind: "real" = "real";
  now(): number {
    return performance.now();
  }
}

/** A clock that moves only when told to, starting at 0. */
export class VirtualClock implements Clock {
  readonly kind: "virtual" = "virtual";
  private t = 0;
  now(): number {
    return this.t;
  }
  /** Moves the clock forward to `t`; never backward. */
  advanceTo(t: number): void {
    if (t > this.t) this.t = t;
  }
}

/** Creates the clock named by `kind`, with a clear error for anything else. */
export function createClock(kind: ClockKind | undefined): RealClock | VirtualClock {
  if (kind === undefined || kind === "real") return new RealClock();
  if (kind === "virtual") return new VirtualClock();
  throw new TypeError(`clock must be "real" or "virtual", got ${JSON.stringify(kind)}`);
}
