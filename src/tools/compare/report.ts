/**
 * What `loopwork compare` shows: the rows it measured as an aligned table, a verdict
 * drawn from the numbers, the JSON document, and a self-contained HTML chart.
 * @module
 */
import { table } from "table";

import { renderCharts, renderImage } from "./charts.ts";
import { type Classification, fewestLevel } from "./classify.ts";
import type { MachineLoad } from "./load.ts";
import { clearlyFaster, relativeSpread, WIDE_SPREAD } from "./stats.ts";

/** A workload's name: `io`, `cpu`, `mixed`, or the user's task name. */
export type WorkloadName = string;
/** The strategies compared. */
export type StrategyName = "sequential" | "loop" | "threads" | "processes" | "loop+threads" | "cluster";

/** One measured run of a cell. */
export interface Sample {
  /** Wall time of the whole run. */
  wallMs: number;
  /** CPU time of every thread and process that worked (a user module's child processes are not seen). */
  cpuMs: number;
  /** Time the main thread was ready to run but waited for a core (Linux); null where unknown. */
  coreWaitMs: number | null;
  /** Worst lag of a 5 ms timer on the main thread during the run. */
  lagMaxMs: number;
  /** 99th-percentile lag of that timer. */
  lagP99Ms: number;
}

/** One measured cell: a workload run under a strategy, `runs` times; values are medians. */
export interface Row {
  workload: WorkloadName;
  strategy: StrategyName;
  /** The pool's size, for a pool strategy; null for sequential and loop. */
  workers: number | null;
  /** Median wall time of the whole workload. */
  wallMs: number;
  /** Fastest sample's wall time. */
  wallMinMs: number;
  /** Slowest sample's wall time. */
  wallMaxMs: number;
  /** Sequential median wall time of the same workload divided by this one's. */
  speedup: number;
  /** Median CPU time over wall time, in percent. */
  cpuPercent: number;
  /** Median over the samples of the main thread's worst lag. */
  lagMaxMs: number;
  /** Median over the samples of the 99th-percentile lag. */
  lagP99Ms: number;
  /** Every measured run. */
  samples: Sample[];
}

/** The machine the comparison ran on. */
export interface MachineInfo {
  runtime: string;
  platform: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
}

/** The settings the comparison ran with. */
export interface CompareSettings {
  tasks: number;
  workers: number;
  ioLatencyMs: number;
  cpuSize: number;
  /** Measured runs per cell, after a warm-up. */
  runs: number;
  /** Worker counts of `--sweep workers=…`, or null. */
  sweep: number[] | null;
  /** The user's module and task, when it is compared instead of the built-in workloads. */
  module?: string;
  task?: string;
}

/** The whole result, as `--json` prints it. */
export interface CompareReport {
  machine: MachineInfo;
  settings: CompareSettings;
  /** How busy the machine was just before and just after the measurements. */
  load: { before: MachineLoad; after: MachineLoad };
  rows: Row[];
  /** Each workload's kind and the strategy recommended for it. */
  classifications: Classification[];
  /** What makes these numbers less trustworthy: wide spreads, a busy machine, one sample. */
  warnings: string[];
  /** What the numbers show, in one paragraph. */
  verdict: string;
}

const WORKLOAD_TITLE: Record<string, string> = {
  io: "I/O-bound",
  cpu: "CPU-bound",
  mixed: "mixed",
};

function title(report: Pick<CompareReport, "settings">, w: string): string {
  return report.settings.task === w ? `${w}()` : WORKLOAD_TITLE[w] ?? w;
}

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits);
}

function spreadOf(r: Row) {
  return { median: r.wallMs, min: r.wallMinMs, max: r.wallMaxMs };
}

function wide(r: Row): boolean {
  return r.samples.length > 1 && relativeSpread(spreadOf(r)) > WIDE_SPREAD;
}

/** The rows as an aligned text table; `!` marks a cell whose samples spread wide. */
export function renderTable(rows: Row[], report?: Pick<CompareReport, "settings">): string {
  const showWorkers = rows.some((r) => r.workers !== null);
  const head = ["workload", "strategy", ...(showWorkers ? ["workers"] : []), "wall ms", "min–max", "speed-up", "CPU %", "worst lag ms", "p99 lag ms"];
  const data = [
    head,
    ...rows.map((r) => [
      report ? title(report, r.workload) : WORKLOAD_TITLE[r.workload] ?? r.workload,
      r.strategy,
      ...(showWorkers ? [r.workers === null ? "" : String(r.workers)] : []),
      fmt(r.wallMs),
      `${fmt(r.wallMinMs)}–${fmt(r.wallMaxMs)}${wide(r) ? " !" : "  "}`,
      `${fmt(r.speedup, 2)}×`,
      fmt(r.cpuPercent),
      fmt(r.lagMaxMs, 1),
      fmt(r.lagP99Ms, 1),
    ]),
  ];
  const left = showWorkers ? 3 : 2;
  return table(data, {
    columns: head.map((_, i) => (i < left && i !== 2 ? {} : { alignment: "right" as const })),
    // Rule under the header and between workloads (data row i shows rows[i - 1]).
    drawHorizontalLine: (i, size) => i <= 1 || i === size || rows[i - 1]?.workload !== rows[i - 2]?.workload,
  });
}

/** The row of `w` under `s`: at the settings' worker count if swept, else the only one. */
function find(report: CompareReport, w: string, s: StrategyName): Row | undefined {
  const rows = report.rows.filter((r) => r.workload === w && r.strategy === s);
  return rows.find((r) => r.workers === null || r.workers === report.settings.workers) ?? rows[rows.length - 1];
}

/**
 * What makes the numbers less trustworthy: cells whose samples spread wider than 25% of
 * their median, a single sample per cell, a busy machine (load average above half the
 * cores, or other processes using a quarter of a core or more while this one was idle).
 */
export function warnings(report: CompareReport): string[] {
  const out: string[] = [];
  const { cores } = report.machine;
  if (report.settings.runs <= 1) {
    out.push("One sample per cell: there is no spread to judge, so differences under 15% count as noise (use --runs 5).");
  }
  const spread = report.rows.filter(wide);
  if (spread.length > 0) {
    const list = spread
      .map((r) => `${title(report, r.workload)} / ${r.strategy}${r.workers !== null && report.settings.sweep ? ` ×${r.workers}` : ""} ${fmt(r.wallMinMs)}–${fmt(r.wallMaxMs)} ms`)
      .join(", ");
    out.push(`The samples of ${spread.length} cell${spread.length === 1 ? "" : "s"} spread wider than ${fmt(WIDE_SPREAD * 100)}% of the median (marked ! in the table): ${list}.`);
  }
  const { before, after } = report.load;
  const loadAvg = before.loadAverage;
  if (Number.isFinite(loadAvg) && loadAvg > cores * 0.5) {
    out.push(`The machine was busy: its load average was ${fmt(loadAvg, 2)} on ${cores} core${cores === 1 ? "" : "s"} when the comparison started.`);
  }
  const other = Math.max(before.otherCores ?? 0, after.otherCores ?? 0);
  if (other >= 0.25) {
    out.push(`Other processes used ${fmt(other * 100)}% of a core while this one stood idle, just before or after the measurements: the cores were shared.`);
  }
  return out;
}

/**
 * One paragraph that says what the numbers show: where concurrency helped, where
 * parallelism did, what CPU work on the loop did to its responsiveness, how speed-up grew
 * with workers — and only what the spread of the samples supports.
 */
export function verdict(report: CompareReport): string {
  const { machine } = report;
  const runs = report.settings.runs;
  const faster = (a: Row, b: Row) => clearlyFaster(spreadOf(a), spreadOf(b), runs);
  const parts: string[] = [];
  if (report.warnings.length > 0) {
    parts.push(`Caution: ${report.warnings.length === 1 ? "one thing makes" : `${report.warnings.length} things make`} these numbers less sure (see the warnings).`);
  }
  const user = report.settings.task;
  const ioSeq = find(report, "io", "sequential");
  const ioLoop = find(report, "io", "loop");
  const cpuLoop = find(report, "cpu", "loop");
  const cpuThreads = find(report, "cpu", "threads");
  const cpuProcs = find(report, "cpu", "processes");
  const cpuSeq = find(report, "cpu", "sequential");
  const ioThreads = find(report, "io", "threads");
  const mixed = report.rows.filter((r) => r.workload === "mixed");
  const cores = `${machine.cores} core${machine.cores === 1 ? "" : "s"}`;

  if (user !== undefined) {
    for (const c of report.classifications) parts.push(c.sentence);
  }
  if (ioLoop && ioSeq) {
    parts.push(
      faster(ioLoop, ioSeq)
        ? `Concurrency cut I/O wait ${fmt(ioLoop.speedup, 1)}×: the loop overlapped ${report.settings.tasks} requests on one thread.`
        : `Concurrency did not measurably help I/O here (${fmt(ioLoop.speedup, 2)}×, within the spread): the waits were too short to overlap.`,
    );
  }
  if (cpuLoop && cpuSeq) {
    parts.push(
      !faster(cpuLoop, cpuSeq)
        ? `It did nothing for CPU work (${fmt(cpuLoop.speedup, 2)}×): one thread computes no faster by taking turns.`
        : `The loop measured ${fmt(cpuLoop.speedup, 2)}× on CPU work, beyond the spread; one thread computes no faster by ` +
          "taking turns, so the machine's load changed during the run: measure again on a quieter machine.",
    );
  }
  if (cpuSeq) {
    const pool = cpuThreads ?? cpuProcs;
    if (pool) {
      const kind = pool.strategy === "threads" ? "thread" : "process";
      parts.push(
        faster(pool, cpuSeq)
          ? `Parallelism did: the ${kind} pool sped CPU work up ${fmt(pool.speedup, 2)}× on ${cores}.`
          : `The ${kind} pool did not measurably speed CPU work up here (${fmt(pool.speedup, 2)}× on ${cores}): ` +
            "were the cores busy with other programs, or the calls too small for a worker round trip?",
      );
    }
  }
  if (cpuThreads && cpuProcs) {
    const first = cpuThreads.wallMs <= cpuProcs.wallMs ? cpuThreads : cpuProcs;
    const second = first === cpuThreads ? cpuProcs : cpuThreads;
    const lead = (second.wallMs / first.wallMs - 1) * 100;
    parts.push(
      `Threads and processes did the CPU work in ${fmt(cpuThreads.wallMs)} and ${fmt(cpuProcs.wallMs)} ms: ` +
        (faster(first, second) ? `${first.strategy} were ${fmt(lead)}% faster here.` : "level within the spread, once their workers had started."),
    );
  }
  const cpuCluster = find(report, "cpu", "cluster");
  if (cpuCluster) {
    const local = cpuThreads ?? cpuProcs;
    const perCall = local ? (cpuCluster.wallMs - local.wallMs) / report.settings.tasks : NaN;
    const name = local?.strategy === "threads" ? "thread" : "process";
    parts.push(
      local === undefined
        ? `The cluster (two local worker processes over Redis) sped CPU work up ${fmt(cpuCluster.speedup, 2)}×.`
        : !faster(local, cpuCluster)
        ? `The cluster (two local worker processes over Redis) matched the ${name} pool ` +
          `(${fmt(cpuCluster.wallMs)} against ${fmt(local.wallMs)} ms): calls this long hide the trip through Redis, ` +
          "so workers on other machines would add their cores."
        : `The cluster (two local worker processes over Redis) took ${fmt(cpuCluster.wallMs)} ms against the ` +
          `${name} pool's ${fmt(local.wallMs)} ms: the trip through Redis ` +
          `cost about ${fmt(perCall, 1)} ms per call here; distribution pays once calls are long and other machines add cores.`,
    );
    parts.push("(The cluster's CPU % counts this process only: its work ran in the worker processes.)");
  }
  if (ioThreads && ioLoop) {
    parts.push(
      `A pool of ${ioThreads.workers} workers waits on at most ${ioThreads.workers} requests at a time ` +
        `(${fmt(ioThreads.speedup, 1)}× on I/O), while the loop waited on all of them.`,
    );
  }
  if ((cpuSeq || cpuLoop) && (cpuThreads ?? cpuProcs)) {
    const pool = (cpuThreads ?? cpuProcs)!;
    const frozen = Math.max(cpuSeq?.lagMaxMs ?? 0, cpuLoop?.lagMaxMs ?? 0);
    parts.push(
      `CPU work on the main thread froze it for up to ${fmt(frozen)} ms at a time; with the work on the ` +
        `${pool.strategy === "threads" ? "thread" : "process"} pool, the main thread's worst lag was ${fmt(pool.lagMaxMs, 1)} ms.`,
    );
  }
  if (mixed.length > 1) parts.push(mixedVerdict(mixed, faster));
  if (user !== undefined && report.rows.some((r) => r.strategy === "processes")) {
    parts.push("(For your module, the processes' CPU % counts this process only: the child processes' CPU is not seen.)");
  }
  parts.push(...sweepVerdict(report));
  return parts.join(" ");
}

function mixedVerdict(mixed: Row[], faster: (a: Row, b: Row) => boolean): string {
  const best = mixed.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const calmest = mixed.reduce((a, b) => (b.lagMaxMs < a.lagMaxMs ? b : a));
  const level = mixed.filter((r) => r !== best && !faster(best, r)).map((r) => r.strategy);
  let text = `For the mixed workload, ${best.strategy} was fastest (${fmt(best.speedup, 2)}×`;
  text += level.length > 0 ? `, level within the spread with ${[...new Set(level)].join(" and ")})` : ")";
  if (best.strategy === "loop+threads") {
    text += ` and kept the main thread's worst lag at ${fmt(best.lagMaxMs, 1)} ms: the loop waited on every request ` +
      "while the thread pool computed";
  } else if (best !== calmest && best.lagMaxMs > 4 * calmest.lagMaxMs && best.lagMaxMs > 20) {
    text += ` but froze the main thread for up to ${fmt(best.lagMaxMs)} ms, where ${calmest.strategy} kept it ` +
      `under ${fmt(Math.max(1, calmest.lagMaxMs))} ms: wait on the loop, compute on a pool`;
  }
  return `${text}.`;
}

/**
 * One sentence per swept strategy and workload: its speed-up at each worker count, and where
 * it stopped growing (the fewest workers level with its fastest, as the recommendation picks).
 */
export function sweepVerdict(report: CompareReport): string[] {
  const sweep = report.settings.sweep;
  if (sweep === null || sweep.length < 2) return [];
  const out: string[] = [];
  for (const w of [...new Set(report.rows.map((r) => r.workload))]) {
    for (const s of ["threads", "processes", "loop+threads"] as StrategyName[]) {
      const rows = report.rows.filter((r) => r.workload === w && r.strategy === s && r.workers !== null)
        .sort((a, b) => a.workers! - b.workers!);
      if (rows.length < 2) continue;
      const curve = rows.map((r) => `${r.workers} → ${fmt(r.speedup, 2)}×`).join(", ");
      const flat = fewestLevel(rows, report.settings.runs);
      const tail = flat.workers === rows[rows.length - 1]!.workers
        ? `still growing at ${flat.workers} workers`
        : `no faster beyond ${flat.workers} worker${flat.workers === 1 ? "" : "s"}` +
          (w === "io" || s === "loop+threads" ? "" : ` on ${report.machine.cores} cores`);
      out.push(`${title(report, w)} on ${s}: ${curve} — ${tail}.`);
    }
  }
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function machineLine(report: CompareReport): string {
  const m = report.machine;
  const s = report.settings;
  const what = s.task !== undefined ? `${s.task}() of ${s.module}` : `I/O latency ${s.ioLatencyMs} ms, CPU size ${s.cpuSize}`;
  return `${m.runtime} on ${m.platform}, ${m.cores} × ${m.cpuModel}; ${s.tasks} calls per workload, ` +
    `${s.sweep ? `workers ${s.sweep.join(",")}` : `${s.workers} worker${s.workers === 1 ? "" : "s"}`}, ${what}; median of ${s.runs} run${s.runs === 1 ? "" : "s"} after a warm-up`;
}

/** The line that says where and how the numbers were measured. */
export function describeRun(report: CompareReport): string {
  return machineLine(report);
}

/** `text` cut into lines of at most `width` characters, at spaces. */
export function wrapLines(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The charts in one standalone SVG image (for a README or a slide): the machine line and
 * settings on top, the verdict under the charts. Drawn with Vega-Lite (loaded on first use).
 */
export async function renderSvg(report: CompareReport): Promise<string> {
  return await renderImage(report, (w) => title(report, w), wrapLines(machineLine(report), 110), wrapLines(report.verdict, 112));
}

/** A self-contained HTML page: the verdict, the recommendations, two charts, the table. Opens in any browser. */
export async function renderHtml(report: CompareReport): Promise<string> {
  const rowsHtml = report.rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(title(report, r.workload))}</td><td>${r.strategy}</td><td>${r.workers ?? ""}</td><td>${fmt(r.wallMs)}</td><td>${fmt(r.wallMinMs)}–${fmt(r.wallMaxMs)}${wide(r) ? " !" : ""}</td><td>${fmt(r.speedup, 2)}×</td><td>${fmt(r.cpuPercent)}</td><td>${fmt(r.lagMaxMs, 1)}</td><td>${fmt(r.lagP99Ms, 1)}</td></tr>`,
    )
    .join("\n");
  const charts = await renderCharts(report, (w) => title(report, w));
  const list = (items: string[], cls: string) =>
    items.length === 0 ? "" : `<ul class="${cls}">${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loopwork compare</title>
<style>
body{font-family:system-ui,sans-serif;max-width:780px;margin:2em auto;color:#222}
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:14px}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
.verdict{background:#f4f7fb;padding:1em;border-left:4px solid #2f7ed8}.warnings{color:#8a4b00}
</style></head><body>
<h1>loopwork compare</h1>
<p>${escapeHtml(machineLine(report))}; ${report.machine.memoryGiB} GiB.</p>
${list(report.warnings, "warnings")}
<p class="verdict">${escapeHtml(report.verdict)}</p>
${list(report.classifications.map((c) => c.sentence), "classifications")}
${charts.map((c) => `<figure>${c}</figure>`).join("\n")}
<table><thead><tr><th>workload</th><th>strategy</th><th>workers</th><th>wall ms</th><th>min–max</th><th>speed-up</th><th>CPU %</th><th>worst lag ms</th><th>p99 lag ms</th></tr></thead>
<tbody>
${rowsHtml}
</tbody></table>
</body></html>
`;
}
