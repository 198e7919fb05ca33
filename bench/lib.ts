/**
 * Shared by the benchmark suites: timing with warm-up and medians, heap measurement, each
 * contender measured in processes of its own (`isolated`), and the one line of JSON a suite
 * prints for `bench/run.ts` to collect.
 */
import { spawn as spawnProcess } from "node:child_process";
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

function runChild(name: string): Promise<number[]> {
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
      else resolve(JSON.parse(line.slice(CHILD_MARK.length)) as number[]);
    });
  });
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
export async function isolated(contenders: Record<string, Contender>, options: IsolatedOptions = {}): Promise<Rounds> {
  const { rounds = 7, warmup = 2, reps = 3, reduce = "median" } = options;
  const mine = process.env[CONTENDER_ENV];
  if (mine !== undefined) {
    const c = contenders[mine];
    if (c === undefined) throw new Error(`no contender named "${mine}" in this suite`);
    for (let i = 0; i < (c.warmup ?? warmup); i++) await c.measure();
    const xs: number[] = [];
    for (let i = 0; i < (c.reps ?? reps); i++) xs.push(Number(await c.measure()));
    process.stdout.write(CHILD_MARK + JSON.stringify([reduce === "min" ? Math.min(...xs) : median(xs)]) + "\n", () => process.exit(0));
    return new Promise<Rounds>(() => {}); // the process exits once the figure is written
  }
  const names = Object.keys(contenders);
  const out: Rounds = {};
  for (const n of names) out[n] = [];
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length]!;
      if (round < (contenders[n]!.rounds ?? rounds)) out[n]!.push((await runChild(n))[0]!);
    }
  }
  return out;
}

/** A timed contender for `isolated`: its figure is the wall time in ms of one call of `fn`. */
export function timed(fn: () => unknown, warmup?: number, reps?: number, rounds?: number): Contender {
  return {
    rounds,
    measure: async () => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    },
    warmup,
    reps,
  };
}

/** A contender's figures over the rounds of `isolated`, against a reference contender's of the same rounds. */
export interface Summary {
  /** The median over rounds of the figure. */
  value: number;
  /** The median over rounds of figure ÷ the reference's figure of the same round. */
  ratio: number;
  /** The smallest and largest per-round ratio (the spread). */
  lo: number;
  hi: number;
}

/** Sums up `rounds[name]` against `rounds[against]`, round by round; `invert` takes reference ÷ figure (for rates). */
export function summary(rounds: Rounds, name: string, against: string, invert = false): Summary {
  const xs = rounds[name]!;
  const ref = rounds[against]!;
  const rs = xs.map((x, i) => (invert ? ref[i]! / x : x / ref[i]!)); // round i of both
  return { value: median(xs), ratio: median(rs), lo: Math.min(...rs), hi: Math.max(...rs) };
}

/** The spread of a summary, for an entry's `extra`. */
export function spread(s: Summary): Record<string, number> {
  return { "ratio min": s.lo, "ratio max": s.hi };
}

/** The smallest and largest figure over the rounds, for a baseline entry's `extra`. */
export function range(xs: number[]): Record<string, number> {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}
