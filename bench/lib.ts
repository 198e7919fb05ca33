/**
 * Shared by the benchmark suites: timing with warm-up and medians, heap measurement, each
 * contender measured in processes of its own (`isolated`), and the one line of JSON a suite
 * prints for `bench/run.ts` to collect.
 */
import { spawn as spawnProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

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

// ---- contenders in processes of their own ---------------------------------------------------

/** Set in a child process to the contender it measures. */
const CONTENDER_ENV = "BENCH_CONTENDER";
/** The command (JSON array) that runs a suite: bench/run.ts sets it, so children get the same flags. */
export const CHILD_ARGV_ENV = "BENCH_CHILD_ARGV";
/**
 * `BENCH_SHARED=1` measures every contender of `isolated` in the suite's one process instead,
 * with the same rounds, warm-up and order: the control of an A/B of the isolation itself.
 */
const SHARED_ENV = "BENCH_SHARED";
/** `BENCH_ONLY=a,b` measures only those contenders of `isolated` (and drops the others' rows). */
/** `BENCH_ROUNDS=n` overrides the number of rounds of `isolated` (for a quick look). */
const ONLY_ENV = "BENCH_ONLY";
const ROUNDS_ENV = "BENCH_ROUNDS";
const CHILD_MARK = "BENCH_CHILD ";

/** One contender of `isolated`: a measurement that returns its figure (ms, bytes, …). */
export interface Contender {
  /** Measures once and returns the figure. */
  measure: () => unknown;
  /** Untimed measurements in the child first (JIT warm-up); default the table's. */
  warmup?: number;
  /** Measurements kept in the child; the child's figure is their median (or minimum); default the table's. */
  reps?: number;
  /**
   * Takes part in only the first `rounds` rounds (for a contender that takes seconds a run);
   * its ratios are still taken against the baseline of the same rounds.
   */
  rounds?: number;
  /** Also report the main thread's CPU time of each measurement (set by `timed`). */
  cpu?: boolean;
}

/** How `isolated` measures. */
export interface IsolatedOptions {
  /** Processes per contender, interleaved across contenders (default 7). */
  rounds?: number;
  /** Untimed measurements at the start of each child (default 2). */
  warmup?: number;
  /** Measurements kept in each child (default 3). */
  reps?: number;
  /** How a child folds its kept measurements into its figure (default the median). */
  reduce?: "median" | "min";
}

/** Per contender, its figure in each round (one child process each), in round order. */
export type Rounds = Record<string, number[]>;

/** What `isolated` returns: the figures, and for timed contenders the main thread's CPU ms, per round. */
export interface Measured {
  figures: Rounds;
  cpu: Rounds;
}

/** A word nobody changes: waiting on it sleeps for the timeout (see `threadCpuNs`). */
const NAP = new Int32Array(new SharedArrayBuffer(4));

/**
 * ns the calling thread has run on a CPU (Linux /proc/thread-self/schedstat), or NaN: unlike
 * wall time it does not grow while the thread waits for a CPU that other processes hold.
 *
 * The kernel adds a running thread's time to that figure at each scheduler tick (4 ms here)
 * and when the thread leaves the CPU, so read as it runs the figure is up to a tick stale:
 * ±15–25% of a 20 ms measurement. A 1 µs sleep first makes the thread leave the CPU, which
 * brings the figure up to date (steps of about 50 µs instead of 4 ms, measured on Node and Deno).
 */
function threadCpuNs(): number {
  try {
    Atomics.wait(NAP, 0, 0, 0.001);
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** The command that runs this suite again: the same runtime, flags and file. */
function childCommand(): [string, string[]] {
  const given = process.env[CHILD_ARGV_ENV];
  if (given) {
    const [cmd, ...args] = JSON.parse(given) as string[];
    return [cmd!, args];
  }
  const deno = (globalThis as { Deno?: { execPath(): string; mainModule: string } }).Deno;
  if (deno) return [deno.execPath(), ["run", "-A", "--v8-flags=--expose-gc", fileURLToPath(deno.mainModule)]];
  return [process.execPath, [...process.execArgv, process.argv[1]!]];
}

/** [figure, CPU ms] of `name` measured in a child process. */
function runChild(name: string): Promise<[number, number]> {
  const [cmd, args] = childCommand();
  return new Promise((resolve, reject) => {
    const child = spawnProcess(cmd, args, {
      env: { ...process.env, [CONTENDER_ENV]: name },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(CHILD_MARK));
      if (code !== 0 || line === undefined) reject(new Error(`bench child for "${name}" exited with ${code} and no figure`));
      else resolve(JSON.parse(line.slice(CHILD_MARK.length)) as [number, number]);
    });
  });
}

/** Runs `c` as a child does: warm-up, then the kept measurements folded into [figure, CPU ms]. */
async function measureHere(c: Contender, options: Required<IsolatedOptions>): Promise<[number, number]> {
  for (let i = 0; i < (c.warmup ?? options.warmup); i++) await c.measure();
  const xs: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < (c.reps ?? options.reps); i++) {
    const cpu0 = c.cpu ? threadCpuNs() : 0;
    xs.push(Number(await c.measure()));
    if (c.cpu) cpus.push((threadCpuNs() - cpu0) / 1e6);
  }
  const fold = options.reduce === "min" ? (v: number[]) => Math.min(...v) : median;
  return [fold(xs), c.cpu ? fold(cpus) : NaN];
}

/**
 * Measures each contender in processes of its own, so that no contender pays for the garbage,
 * the heap growth or the deoptimisations that another left behind (in one shared process a
 * baseline's time moved 2× with the rows run before it). Each round starts one child process
 * per contender (the same runtime, flags and suite file, told by an environment variable which
 * contender it measures), in an order rotated round by round so that the machine's load drift
 * hits all contenders alike. The child runs its contender `warmup` times untimed, then `reps`
 * times, and reports the median (or minimum) of those; the parent returns each contender's
 * figures, one per round. No `gc()` is called between measurements: a full collection
 * deoptimises code whose maps died, which would penalise whichever contender came next.
 *
 * A suite calls this once, with every contender it measures, before any other work: in a
 * child the call measures the one contender and exits the process.
 */
export async function isolated(contenders: Record<string, Contender>, options: IsolatedOptions = {}): Promise<Measured> {
  const opts: Required<IsolatedOptions> = { rounds: 7, warmup: 2, reps: 3, reduce: "median", ...options };
  if (process.env[ROUNDS_ENV]) opts.rounds = Number(process.env[ROUNDS_ENV]);
  const mine = process.env[CONTENDER_ENV];
  if (mine !== undefined) {
    const c = contenders[mine];
    if (c === undefined) throw new Error(`no contender named "${mine}" in this suite`);
    const figure = await measureHere(c, opts);
    process.stdout.write(CHILD_MARK + JSON.stringify(figure) + "\n", () => process.exit(0));
    return new Promise<Measured>(() => {}); // the process exits once the figure is written
  }
  const shared = process.env[SHARED_ENV] === "1";
  const only = process.env[ONLY_ENV]?.split(",");
  const names = Object.keys(contenders).filter((n) => only === undefined || only.includes(n));
  const out: Measured = { figures: {}, cpu: {} };
  for (const n of names) {
    out.figures[n] = [];
    out.cpu[n] = [];
  }
  for (let round = 0; round < opts.rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length]!;
      const c = contenders[n]!;
      if (round >= (c.rounds ?? opts.rounds)) continue;
      const [figure, cpu] = shared ? await measureHere(c, opts) : await runChild(n);
      out.figures[n]!.push(figure);
      out.cpu[n]!.push(cpu);
    }
  }
  return out;
}

/** A timed contender for `isolated`: its figure is the wall time in ms of one call of `fn`. */
export function timed(fn: () => unknown, warmup?: number, reps?: number, rounds?: number): Contender {
  return {
    measure: async () => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    },
    warmup,
    reps,
    rounds,
    cpu: true,
  };
}

/** The median of round-by-round ratios of `xs` to `ref` (`ref` ÷ `xs` with `invert`, for rates), and their spread. */
function ratios(xs: number[], ref: number[], invert: boolean): { ratio: number; lo: number; hi: number } {
  const rs = xs.map((x, i) => (invert ? ref[i]! / x : x / ref[i]!)); // round i of both
  return { ratio: median(rs), lo: Math.min(...rs), hi: Math.max(...rs) };
}

/** How an entry of a suite measured with `isolated` is shown. */
export interface Shown {
  /** The figure's unit ("ms", "B", …). */
  unit: string;
  /** Turns a time in ms into a rate (higher is better); ratios are then the reference's time ÷ this one's. */
  rate?: (ms: number) => number;
}

/**
 * The entries of a suite measured with `isolated`. `baseline` ([name, contender]) is shown by
 * its median over rounds, with its smallest and largest figure as `extra`; each row ([name,
 * contender, against = the baseline's contender]) by its median over rounds, its ratio the
 * median of its per-round ratios against `against` of the same round, and as `extra` the spread
 * of those ratios ("ratio min", "ratio max") and, for timed contenders, the ratio of the main
 * thread's CPU time ("CPU ratio"), which the machine's load moves far less. Rows of contenders
 * not measured (`BENCH_ONLY`) are left out.
 */
export function entriesOf(
  m: Measured,
  shown: Shown,
  baseline: readonly [string, string] | undefined,
  rows: readonly (readonly [string, string, string?])[],
): Entry[] {
  const { rate } = shown;
  const has = (k: string) => (m.figures[k]?.length ?? 0) > 0;
  const out: Entry[] = [];
  const value = (xs: number[]) => (rate ? rate(median(xs)) : median(xs));
  const higher = rate ? { higherIsBetter: true } : {};
  if (baseline !== undefined && has(baseline[1])) {
    const xs = m.figures[baseline[1]]!;
    const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
    const extra = rate ? { min: rate(hi), max: rate(lo) } : { min: lo, max: hi };
    out.push({ name: baseline[0], value: value(xs), unit: shown.unit, baseline: true, ...higher, extra });
  }
  for (const [name, key, against = baseline![1]] of rows) {
    if (!has(key) || !has(against)) continue;
    const xs = m.figures[key]!;
    const r = ratios(xs, m.figures[against]!, rate !== undefined);
    const extra: Record<string, number> = { "ratio min": r.lo, "ratio max": r.hi };
    const cpu = m.cpu[key]!;
    if (cpu.every(Number.isFinite)) extra["CPU ratio"] = ratios(cpu, m.cpu[against]!, rate !== undefined).ratio;
    out.push({ name, value: value(xs), unit: shown.unit, ratio: r.ratio, ...higher, extra });
  }
  return out;
}
