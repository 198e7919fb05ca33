/**
 * `loopwork compare`: parse the options, run the comparison with a progress bar, print
 * the table and the verdict (or `--json`), and write the chart (`--out report.html`).
 * @module
 */
import { writeFileSync, existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
// A timer that can be unref'd on Deno too (its global setTimeout returns a number).
import { setTimeout as nodeSetTimeout } from "node:timers";
import { SingleBar } from "cli-progress";
import { dirname, extname, resolve } from "node:path";
import type { BuiltinName } from "./builtin.ts";
import { loadChartPackages } from "./charts.ts";
import { compare } from "./compare.ts";
import { ClusterWorkerLost } from "./cluster.ts";
import { loadBullmq } from "../../pool/packages.ts";
import { type CompareSettings, describeRun, renderHtml, renderSvg, renderTable, type StrategyName, wrapLines } from "./report.ts";
import { CompareInputError, type UserWorkloadSpec } from "./user-module.ts";
import { connectionProblem } from "../worker-command.ts";
import { exitOnPurpose, onProcessEnd } from "../process-end.ts";

/** Thrown for bad command-line input; the command exits 2 with its message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const WORKLOADS: BuiltinName[] = ["io", "cpu", "mixed"];
const STRATEGIES: StrategyName[] = ["sequential", "loop", "threads", "processes", "loop+threads"];

/** The help text of `loopwork compare`. */
export const COMPARE_HELP: string = `usage: loopwork compare [options]
       loopwork compare --module ./tasks.ts --task NAME [--args JSON | --args-module FILE] [options]

Runs an I/O-bound, a CPU-bound and a mixed workload (or your own exported function)
sequentially, concurrently on the loop, on a thread pool, on a process pool, and waiting on
the loop while a thread pool computes; shows why concurrency helps waiting and parallelism
helps computing, classifies the work and recommends how to run it.

your own workload:
  --module FILE      a task module (.js, .mjs, .ts, .mts) exporting the function to compare
  --task NAME        the exported function each call runs
  --args JSON        one call's arguments as a JSON array, the same for every call (default [])
  --args-module FILE a module whose default export (or \`args\` export) returns call i's arguments
  --hybrid W,C       for loop+threads: the exported halves; W(...args) runs on the loop,
                     C(what W returned) on the thread pool

options:
  --tasks N          calls per workload (default 16; --quick 8)
  --workers N        pool size (default: available cores, here ${availableParallelism()})
  --runs N           measured runs per cell after a warm-up (default 5; --quick 3)
  --sweep workers=A,B,...  run the pool strategies with each worker count (e.g. workers=1,2,4,8)
  --io-latency MS    latency of the local HTTP server (default 100; --quick 50)
  --cpu-size N       CPU work per call, in millions of steps (~1.6 ms each; default 30; --quick 8)
  --only W[,W]       only these built-in workloads: io, cpu, mixed
  --strategies S[,S] only these strategies: sequential, loop, threads, processes, loop+threads
                     (and cluster)
  --connection URL   add the cluster strategy: two local \`loopwork worker\` processes serving
                     a "bullmq" pool on this Redis (e.g. redis://127.0.0.1:6379)
  --quick            small sizes, for a fast look (a few seconds)
  --json             print the result as JSON (samples, classification, verdict) instead of the table
                     (what the workload prints goes to stderr; on Node)
  --out FILE         write the charts: FILE.html (a page with the table) or FILE.svg (an image)
  --help             this text
`;

/** Settings parsed from the command line: those the comparison runs with, and what to run and print. */
export interface CompareArgs extends Omit<CompareSettings, "module" | "task"> {
  workloads: BuiltinName[];
  strategies: StrategyName[];
  json: boolean;
  out: string | undefined;
  help: boolean;
  /** Redis for the cluster strategy. */
  connection?: string;
  /** The user's own workload. */
  user?: Omit<UserWorkloadSpec, "tasks">;
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function list<T extends string>(name: string, raw: string | undefined, allowed: T[]): T[] {
  if (raw === undefined) return allowed;
  const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${allowed.join(", ")}`);
  for (const item of items) {
    if (!(allowed as string[]).includes(item)) {
      throw new UsageError(`--${name}: unknown value ${JSON.stringify(item)}; choose from ${allowed.join(", ")}`);
    }
  }
  return allowed.filter((a) => items.includes(a));
}

/** Parses the arguments of `loopwork compare`; throws `UsageError` on bad input. */
export function parseCompareArgs(argv: string[]): CompareArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        tasks: { type: "string" },
        workers: { type: "string" },
        "io-latency": { type: "string" },
        "cpu-size": { type: "string" },
        only: { type: "string" },
        strategies: { type: "string" },
        runs: { type: "string" },
        sweep: { type: "string" },
        module: { type: "string" },
        task: { type: "string" },
        args: { type: "string" },
        "args-module": { type: "string" },
        hybrid: { type: "string" },
        quick: { type: "boolean" },
        json: { type: "boolean" },
        out: { type: "string" },
        connection: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const quick = values.quick === true;
  const str = (k: string) => values[k] as string | undefined;
  const out = str("out");
  if (out !== undefined) checkOut(out);
  const connection = str("connection");
  const badConnection = connection === undefined ? undefined : connectionProblem(connection);
  if (badConnection !== undefined) throw new UsageError(badConnection);
  const allowed: StrategyName[] = connection !== undefined ? [...STRATEGIES, "cluster"] : STRATEGIES;
  if (connection === undefined && str("strategies")?.split(",").some((s) => s.trim() === "cluster")) {
    throw new UsageError("--strategies cluster needs --connection URL (a Redis server)");
  }
  const user = userArgs(str);
  return {
    tasks: int("tasks", str("tasks"), quick ? 8 : 16, 1, 10_000),
    workers: int("workers", str("workers"), availableParallelism(), 1, 256),
    ioLatencyMs: int("io-latency", str("io-latency"), quick ? 50 : 100, 0, 60_000),
    cpuSize: int("cpu-size", str("cpu-size"), quick ? 8 : 30, 1, 100_000),
    runs: int("runs", str("runs"), quick ? 3 : 5, 1, 1_000),
    sweep: sweep(str("sweep")),
    workloads: list("only", str("only"), WORKLOADS),
    strategies: list("strategies", str("strategies"), allowed),
    json: values.json === true,
    out,
    help: values.help === true,
    ...(connection !== undefined ? { connection } : {}),
    ...(user !== undefined ? { user } : {}),
  };
}

/** `--out` is checked before anything is measured: its extension, and a folder to write in. */
function checkOut(out: string): void {
  if (out.trim() === "") throw new UsageError("--out needs a file name");
  const ext = extname(out).toLowerCase();
  if (![".html", ".htm", ".svg"].includes(ext)) {
    throw new UsageError(`--out ${out}: write a .html page or a .svg image (got "${ext || "no extension"}")`);
  }
  const dir = dirname(resolve(out));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--out ${out}: the folder ${dir} does not exist`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out}: is a folder`);
}

function sweep(raw: string | undefined): number[] | null {
  if (raw === undefined) return null;
  const m = /^workers=([\d,\s]+)$/.exec(raw.trim());
  const counts = m?.[1]!.split(",").map((s) => s.trim()).filter(Boolean) ?? [];
  if (m === null || counts.length === 0) {
    throw new UsageError(`--sweep takes workers=N,N,... (e.g. workers=1,2,4,8), got ${JSON.stringify(raw)}`);
  }
  const ns = counts.map((c) => int("sweep", c, 0, 1, 256));
  return [...new Set(ns)].sort((a, b) => a - b);
}

function userArgs(str: (k: string) => string | undefined): Omit<UserWorkloadSpec, "tasks"> | undefined {
  const module = str("module");
  const task = str("task");
  if (module === undefined) {
    for (const k of ["task", "args", "args-module", "hybrid"]) {
      if (str(k) !== undefined) throw new UsageError(`--${k} needs --module FILE (the module that exports your task)`);
    }
    return undefined;
  }
  if (task === undefined || task.trim() === "") throw new UsageError("--module needs --task NAME (the exported function to compare)");
  if (str("only") !== undefined) throw new UsageError("--only picks built-in workloads; with --module, your task is the workload");
  if (str("args") !== undefined && str("args-module") !== undefined) {
    throw new UsageError("give --args or --args-module, not both");
  }
  const hybridRaw = str("hybrid");
  let hybrid: [string, string] | undefined;
  if (hybridRaw !== undefined) {
    const parts = hybridRaw.split(",").map((s) => s.trim());
    if (parts.length !== 2 || parts.some((p) => p === "")) {
      throw new UsageError(`--hybrid takes WAIT,COMPUTE (two exported function names), got ${JSON.stringify(hybridRaw)}`);
    }
    hybrid = [parts[0]!, parts[1]!];
  }
  const args = str("args");
  const argsModule = str("args-module");
  return {
    module,
    task: task.trim(),
    ...(args !== undefined ? { args } : {}),
    ...(argsModule !== undefined ? { argsModule } : {}),
    ...(hybrid !== undefined ? { hybrid } : {}),
  };
}

/**
 * Runs `loopwork compare` with `argv`; returns the exit code. It owns the process: once it
 * has measured, anything left holding the process open (a timer the user's task module
 * started when it was loaded) is ended a second after its output is written, by exiting
 * with that code.
 */
export async function compareMain(argv: string[]): Promise<number> {
  let code = 1; // unless it returns: the command line reports what it threw
  try {
    code = await compareCommand(argv);
    return code;
  } finally {
    // Written out first (a pipe may take a while), then the process may go.
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    exitSoon(code);
  }
}

async function compareCommand(argv: string[]): Promise<number> {
  let args: CompareArgs;
  try {
    args = parseCompareArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`loopwork compare: ${e.message}\n\n${COMPARE_HELP}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  // The optional packages the options need, before anything is measured.
  if (args.out !== undefined) await loadChartPackages();
  if (args.connection !== undefined) await loadBullmq();
  const tty = !args.json && process.stderr.isTTY === true;
  const bar = tty
    ? new SingleBar({
      format: "measuring {bar} {value}/{total} {cell}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    })
    : undefined;
  // Ctrl-C (SIGINT) or SIGTERM stops the comparison: its pools, worker processes and server
  // are stopped, nothing is reported, and the exit code says which signal (130, 143); a
  // second one exits at once. A workload that ends the process itself (process.exit) is
  // named, and the exit code is never 0: no result was reported.
  const interrupt = new AbortController();
  let cell: string | undefined;
  const onSignal = (name: "SIGINT" | "SIGTERM") => {
    const code = name === "SIGINT" ? 130 : 143;
    if (interrupt.signal.aborted) exitOnPurpose(code);
    process.stderr.write(`\nloopwork compare: ${name}: stopping the pools and worker processes; nothing is reported (again to exit at once)\n`);
    interrupt.abort(new Interrupted(name, code));
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  const onExit = (code: number): number | undefined => {
    process.stderr.write(
      `\nloopwork compare: the process was ended (exit code ${code}) during the comparison${cell === undefined ? "" : ` (at ${cell})`}: ` +
        `nothing was reported (does the workload call process.exit()?)\n`,
    );
    return code === 0 ? 1 : undefined;
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  const stopWatching = onProcessEnd(onExit);
  // With --json, standard output carries the report alone: what the workload prints while it
  // is measured (on this thread, or piped from a pool's threads and processes, which write
  // through this process's stdout) goes to standard error. (Not on Deno, whose console
  // writes to the standard output itself.)
  const write = process.stdout.write;
  if (args.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof write;
  let report;
  try {
    report = await compare({
      signal: interrupt.signal,
      tasks: args.tasks,
      workers: args.workers,
      ioLatencyMs: args.ioLatencyMs,
      cpuSize: args.cpuSize,
      runs: args.runs,
      sweep: args.sweep,
      workloads: args.workloads,
      strategies: args.strategies,
      ...(args.user !== undefined ? { user: { ...args.user, tasks: args.tasks } } : {}),
      ...(args.connection !== undefined ? { connection: args.connection } : {}),
      onCell(workload, strategy, index, total) {
        cell = `${workload} / ${strategy}`;
        if (bar) {
          if (index === 0) bar.start(total, 0, { cell });
          else bar.update(index, { cell });
        } else if (!args.json) {
          process.stderr.write(`measuring ${index + 1}/${total}: ${cell}\n`);
        }
      },
    });
  } catch (e) {
    // What the workload left running on this thread (a call that never ends) must not keep
    // the process (see compareMain): everything of the comparison's own is stopped by now.
    if (e instanceof Interrupted) return e.code;
    if (e instanceof CompareInputError) {
      process.stderr.write(`loopwork compare: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ClusterWorkerLost) {
      process.stderr.write(`loopwork compare: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    stopWatching();
    process.stdout.write = write;
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    if (bar) {
      bar.update(bar.getTotal());
      bar.stop();
    }
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`${describeRun(report)}\n\n`);
    process.stdout.write(renderTable(report.rows, report));
    for (const w of report.warnings) process.stdout.write(`\n${wrap(`warning: ${w}`, 90)}\n`);
    process.stdout.write(`\n${wrap(report.verdict, 90)}\n`);
    if (report.settings.task === undefined) {
      process.stdout.write(`\n${report.classifications.map((c) => wrap(`- ${c.sentence}`, 90).replace(/\n/g, "\n  ")).join("\n")}\n`);
    }
  }
  if (args.out !== undefined) {
    const content = args.out.toLowerCase().endsWith(".svg") ? await renderSvg(report) : await renderHtml(report);
    try {
      writeFileSync(args.out, content);
    } catch (e) {
      process.stderr.write(`loopwork compare: could not write ${args.out}: ${(e as Error).message}\n`);
      return 1;
    }
    if (!args.json) process.stdout.write(`\nchart written to ${args.out}\n`);
  }
  return 0;
}

/** The comparison was stopped by a signal; `code` is the exit code that says which. */
class Interrupted extends Error {
  readonly code: number;
  constructor(signal: string, code: number) {
    super(`interrupted by ${signal}`);
    this.name = "Interrupted";
    this.code = code;
  }
}

/** Exits with `code` after `ms` if something still holds the process open: an unref'd timer. */
function exitSoon(code: number, ms = 1_000): void {
  nodeSetTimeout(() => process.exit(code), ms).unref();
}

function wrap(text: string, width: number): string {
  return wrapLines(text, width).join("\n");
}
