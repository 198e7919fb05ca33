/**
 * `loopwork compare`: parse the options, run the comparison with a progress bar, print
 * the table and the verdict (or `--json`), and write the chart (`--out report.html`).
 * @module
 */
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { compare } from "./compare.ts";
import { renderHtml, renderSvg, renderTable, type StrategyName, verdict, type WorkloadName } from "./report.ts";

/** Thrown for bad command-line input; the command exits 2 with its message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const WORKLOADS: WorkloadName[] = ["io", "cpu", "mixed"];
const STRATEGIES: StrategyName[] = ["sequential", "loop", "threads", "processes"];

/** The help text of `loopwork compare`. */
export const COMPARE_HELP: string = `usage: loopwork compare [options]

Runs an I/O-bound, a CPU-bound and a mixed workload sequentially, concurrently on the
loop, on a thread pool and on a process pool, and shows why concurrency helps waiting
and parallelism helps computing.

options:
  --tasks N          calls per workload (default 16; --quick 8)
  --workers N        pool size (default: available cores, here ${availableParallelism()})
  --io-latency MS    latency of the local HTTP server (default 100; --quick 50)
  --cpu-size N       CPU work per call, in millions of steps (~1.6 ms each; default 30; --quick 8)
  --only W[,W]       only these workloads: io, cpu, mixed
  --strategies S[,S] only these strategies: sequential, loop, threads, processes (and cluster)
  --connection URL   add the cluster strategy: two local \`loopwork worker\` processes serving
                     a "bullmq" pool on this Redis (e.g. redis://127.0.0.1:6379)
  --quick            small sizes, for a fast look (a few seconds)
  --json             print the result as JSON instead of the table
  --out FILE         write the charts: FILE.html (a page with the table) or FILE.svg (an image)
  --help             this text
`;

/** Settings parsed from the command line. */
export interface CompareArgs {
  tasks: number;
  workers: number;
  ioLatencyMs: number;
  cpuSize: number;
  workloads: WorkloadName[];
  strategies: StrategyName[];
  json: boolean;
  out: string | undefined;
  help: boolean;
  /** Redis for the cluster strategy. */
  connection?: string;
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
  if (out !== undefined && out.trim() === "") throw new UsageError("--out needs a file name");
  const connection = str("connection");
  if (connection !== undefined && !/^rediss?:\/\/\S+$/.test(connection)) {
    throw new UsageError(`--connection must be a redis:// or rediss:// URL, got ${JSON.stringify(connection)}`);
  }
  const allowed: StrategyName[] = connection !== undefined ? [...STRATEGIES, "cluster"] : STRATEGIES;
  if (connection === undefined && str("strategies")?.split(",").some((s) => s.trim() === "cluster")) {
    throw new UsageError("--strategies cluster needs --connection URL (a Redis server)");
  }
  return {
    tasks: int("tasks", str("tasks"), quick ? 8 : 16, 1, 10_000),
    workers: int("workers", str("workers"), availableParallelism(), 1, 256),
    ioLatencyMs: int("io-latency", str("io-latency"), quick ? 50 : 100, 0, 60_000),
    cpuSize: int("cpu-size", str("cpu-size"), quick ? 8 : 30, 1, 100_000),
    workloads: list("only", str("only"), WORKLOADS),
    strategies: list("strategies", str("strategies"), allowed),
    json: values.json === true,
    out,
    help: values.help === true,
    ...(connection !== undefined ? { connection } : {}),
  };
}

/** Runs `loopwork compare` with `argv`; returns the exit code. */
export async function compareMain(argv: string[]): Promise<number> {
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
  const tty = !args.json && process.stderr.isTTY === true;
  const bar = tty
    ? new SingleBar({
      format: "measuring {bar} {value}/{total} {cell}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    })
    : undefined;
  const report = await compare({
    tasks: args.tasks,
    workers: args.workers,
    ioLatencyMs: args.ioLatencyMs,
    cpuSize: args.cpuSize,
    workloads: args.workloads,
    strategies: args.strategies,
    ...(args.connection !== undefined ? { connection: args.connection } : {}),
    onCell(workload, strategy, index, total) {
      const cell = `${workload} / ${strategy}`;
      if (bar) {
        if (index === 0) bar.start(total, 0, { cell });
        else bar.update(index, { cell });
      } else if (!args.json) {
        process.stderr.write(`measuring ${index + 1}/${total}: ${cell}\n`);
      }
    },
  }).finally(() => {
    if (bar) {
      bar.update(bar.getTotal());
      bar.stop();
    }
  });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const m = report.machine;
    process.stdout.write(
      `${m.runtime} on ${m.platform}, ${m.cores} × ${m.cpuModel}; ${args.tasks} calls per workload, ` +
        `${args.workers} workers, I/O latency ${args.ioLatencyMs} ms, CPU size ${args.cpuSize}\n\n`,
    );
    process.stdout.write(renderTable(report.rows));
    process.stdout.write(`\n${wrap(verdict(report), 90)}\n`);
  }
  if (args.out !== undefined) {
    writeFileSync(args.out, args.out.toLowerCase().endsWith(".svg") ? renderSvg(report) : renderHtml(report));
    if (!args.json) process.stdout.write(`\nchart written to ${args.out}\n`);
  }
  return 0;
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}
