/**
 * The statistics of `loopwork compare`: each cell is measured several times, and a cell is
 * reported as the median of its samples with their range, as hyperfine does. Two cells are
 * called different only when their ranges do not overlap, so a conclusion never rests on
 * less than the spread of the samples supports.
 * @module
 */

/** The summary of a cell's samples of one quantity. */
export interface Spread {
  /** The median of the samples. */
  median: number;
  min: number;
  max: number;
}

/**
 * The median, minimum and maximum of `samples` (at least one).
 *
 * @example
 * ```ts
 * import { summarize } from "./stats.ts";
 *
 * console.log(summarize([3, 1, 2, 10])); // { median: 2.5, min: 1, max: 10 }
 * ```
 */
export function summarize(samples: readonly number[]): Spread {
  if (samples.length === 0) throw new RangeError("summarize(): no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** How far apart a cell's samples are, relative to their median: (max − min) / median. */
export function relativeSpread(s: Spread): number {
  return s.median > 0 ? (s.max - s.min) / s.median : 0;
}

/** A spread of the wall time above this share of the median is reported as wide. */
export const WIDE_SPREAD = 0.25;

/** With a single sample there is no range: medians this far apart (ratio) count as different. */
export const SINGLE_SAMPLE_MARGIN = 1.15;

/**
 * Whether cell `a` was faster than cell `b` beyond the noise: every sample of `a` below
 * every sample of `b` (or, with one sample each, by more than 15%).
 *
 * @example
 * ```ts
 * import { clearlyFaster } from "./stats.ts";
 *
 * console.log(clearlyFaster({ median: 100, min: 90, max: 110 }, { median: 130, min: 120, max: 140 }, 5)); // true
 * console.log(clearlyFaster({ median: 100, min: 90, max: 125 }, { median: 130, min: 120, max: 140 }, 5)); // false
 * ```
 */
export function clearlyFaster(a: Spread, b: Spread, runs: number): boolean {
  if (runs <= 1) return b.median > a.median * SINGLE_SAMPLE_MARGIN;
  return a.max < b.min;
}
