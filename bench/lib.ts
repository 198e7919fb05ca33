/**
 * Shared by the benchmark suites: timing with warm-up and medians, heap measurement, and
 * the one line of JSON a suite prints for `bench/run.ts` to collect.
 */

/** One contender's figure in a suite. */
export interface Entry {
  /** Who: "loopwork (generator tasks)", "native Promise.all", "effection 4", … */
  name: string;
  /** The figure, in `unit`. */
  value: number;
  /** ms, M/s, B, … */
  unit: string;
  /** Is this the suite's baseline (ratios are taken against it)? */
  baseline?: boolean;
  /** Is a higher value better (rates) or a lower one (times, bytes)? */
  higherIsBetter?: boolean;
  /**
   * The median, over interleaved rounds, of this figure divided by the baseline's figure of
   * the same round; the report uses it instead of the ratio of the two medians.
   */
  ratio?: number;
  /** Extra figures worth printing, e.g. p99 latency. */
  extra?: Record<string, number>;
}

/** What a suite prints. */
export interface SuiteResult {
  suite: string;
  title: string;
  runtime: string;
  entries: Entry[];
  notes?: string[];
  /** The machine's 1-minute load average when the suite's process started and ended (set by bench/run.ts). */
  load?: [number, number];
}

export const RESULT_MARK = "BENCH_RESULT ";

/** The runtime's name and version. */
export const runtime: string = (globalThis as { Deno?: { version: { deno: string } } }).Deno
  ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : `Node ${process.version}`;

/** Is this suite running on Deno? */
export const isDeno: boolean = runtime.startsWith("Deno");

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The q-quantile of `xs` (0 < q ≤ 1). */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Runs `fn` `warmup` times, then `rounds` times, and returns the median wall time in ms. */
export async function timeMedian(fn: () => unknown, rounds = 7, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether the heap can be measured precisely (`--expose-gc`). */
export const gcExposed: boolean = gc !== undefined;

/** Heap in use after a full collection, in bytes. */
export function heapUsed(): number {
  gc?.();
  gc?.();
  const deno = (globalThis as { Deno?: { memoryUsage(): { heapUsed: number } } }).Deno;
  return deno ? deno.memoryUsage().heapUsed : process.memoryUsage().heapUsed;
}

/** Prints the suite's result for the runner (and readably for a person). */
export function emit(result: SuiteResult): void {
  for (const e of result.entries) {
    const extra = e.extra ? " " + Object.entries(e.extra).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(" ") : "";
    console.error(`  ${result.suite}: ${e.name}: ${e.value.toFixed(2)} ${e.unit}${extra}`);
  }
  console.log(RESULT_MARK + JSON.stringify(result));
}

/** Calls per second of `call` over `n` calls with `window` of them in flight at once. */
export async function throughput(call: () => PromiseLike<unknown>, n: number, window: number): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < n) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return n / ((performance.now() - t0) / 1000);
}

/** Appends to `out` the latency (µs) of each of `n` calls made one after the other. */
export async function latencies(call: () => PromiseLike<unknown>, n: number, out: number[] = []): Promise<number[]> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    out.push((performance.now() - t0) * 1000);
  }
  return out;
}

/**
 * Times contenders in interleaved rounds (each round runs every contender once, in order),
 * after `warmup` such rounds. Returns, per contender, the median time in ms and the median
 * over rounds of its time divided by `baseline`'s time in the same round: on a shared,
 * noisy machine a ratio taken round by round is far steadier than a ratio of medians.
 */
export async function timeInterleaved(
  contenders: Record<string, () => unknown>,
  baseline: string,
  rounds = 7,
  warmup = 2,
): Promise<Record<string, { ms: number; ratio: number }>> {
  const names = Object.keys(contenders);
  const times: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  for (const n of names) {
    times[n] = [];
    ratios[n] = [];
  }
  for (let round = 0; round < warmup + rounds; round++) {
    const t: Record<string, number> = {};
    for (const n of names) {
      const t0 = performance.now();
      await contenders[n]!();
      t[n] = performance.now() - t0;
    }
    if (round < warmup) continue;
    for (const n of names) {
      times[n]!.push(t[n]!);
      ratios[n]!.push(t[n]! / t[baseline]!);
    }
  }
  const out: Record<string, { ms: number; ratio: number }> = {};
  for (const n of names) out[n] = { ms: median(times[n]!), ratio: median(ratios[n]!) };
  return out;
}

// deno-lint-ignore require-await
async function nativeTask(i: number): Promise<number> {
  return i;
}

/** The baseline of the task suites: `n` trivial async functions, then `Promise.all`. */
export async function nativeSpawnAll(n: number): Promise<void> {
  const ps: Promise<number>[] = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = nativeTask(i);
  await Promise.all(ps);
}
