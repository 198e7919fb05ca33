/**
 * A window of the latest durations, for the percentiles of `pool.stats()`.
 * @module
 */

/** @internal Keeps the last `size` samples; percentiles are computed on demand. */
export class LatencyWindow {
  private readonly _samples: Float64Array;
  private _count = 0;

  constructor(size = 1024) {
    this._samples = new Float64Array(size);
  }

  add(ms: number): void {
    this._samples[this._count % this._samples.length] = ms;
    this._count++;
  }

  /** The `p`-th percentile (0–100) of the window, nearest-rank; 0 when empty. */
  percentile(p: number): number {
    const n = Math.min(this._count, this._samples.length);
    if (n === 0) return 0;
    const sorted = this._samples.slice(0, n).sort();
    const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    return sorted[rank]!;
  }
}
