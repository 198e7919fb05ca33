/**
 * What `loopwork compare` shows: the rows it measured as an aligned table, a verdict
 * drawn from the numbers, the JSON document, and a self-contained HTML chart.
 * @module
 */
import { table } from "table";

/** The workloads compared. */
export type WorkloadName = "io" | "cpu" | "mixed";
/** The strategies compared. */
export type StrategyName = "sequential" | "loop" | "threads" | "processes" | "cluster";

/** One measured cell: a workload run under a strategy. */
export interface Row {
  workload: WorkloadName;
  strategy: StrategyName;
  /** Wall time of the whole workload. */
  wallMs: number;
  /** Sequential wall time of the same workload divided by this one. */
  speedup: number;
  /** CPU time of every thread and process that worked, over wall time, in percent. */
  cpuPercent: number;
  /** Worst lag of a timer ticking on the main thread during the run. */
  lagMaxMs: number;
  /** 99th-percentile lag of that timer. */
  lagP99Ms: number;
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
}

/** The whole result, as `--json` prints it. */
export interface CompareReport {
  machine: MachineInfo;
  settings: CompareSettings;
  rows: Row[];
}

const WORKLOAD_TITLE: Record<WorkloadName, string> = {
  io: "I/O-bound",
  cpu: "CPU-bound",
  mixed: "mixed",
};

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits);
}

/** The rows as an aligned text table. */
export function renderTable(rows: Row[]): string {
  const data = [
    ["workload", "strategy", "wall ms", "speed-up", "CPU %", "worst lag ms", "p99 lag ms"],
    ...rows.map((r) => [
      WORKLOAD_TITLE[r.workload],
      r.strategy,
      fmt(r.wallMs),
      `${fmt(r.speedup, 2)}×`,
      fmt(r.cpuPercent),
      fmt(r.lagMaxMs, 1),
      fmt(r.lagP99Ms, 1),
    ]),
  ];
  return table(data, {
    columns: [{}, {}, { alignment: "right" }, { alignment: "right" }, { alignment: "right" }, { alignment: "right" }, { alignment: "right" }],
    // Rule under the header and between workloads (data row i shows rows[i - 1]).
    drawHorizontalLine: (i, size) => i <= 1 || i === size || rows[i - 1]?.workload !== rows[i - 2]?.workload,
  });
}

function find(rows: Row[], w: WorkloadName, s: StrategyName): Row | undefined {
  return rows.find((r) => r.workload === w && r.strategy === s);
}

/**
 * One paragraph that says what the numbers show: where concurrency helped, where
 * parallelism did, and what CPU work on the loop did to its responsiveness.
 */
export function verdict(report: CompareReport): string {
  const { rows, machine } = report;
  const parts: string[] = [];
  const ioLoop = find(rows, "io", "loop");
  const cpuLoop = find(rows, "cpu", "loop");
  const cpuThreads = find(rows, "cpu", "threads");
  const cpuProcs = find(rows, "cpu", "processes");
  const cpuSeq = find(rows, "cpu", "sequential");
  const ioThreads = find(rows, "io", "threads");
  const mixed = rows.filter((r) => r.workload === "mixed");
  const cores = `${machine.cores} core${machine.cores === 1 ? "" : "s"}`;

  if (ioLoop) {
    parts.push(
      ioLoop.speedup >= 1.5
        ? `Concurrency cut I/O wait ${fmt(ioLoop.speedup, 1)}×: the loop overlapped ${report.settings.tasks} requests on one thread.`
        : `Concurrency barely helped I/O here (${fmt(ioLoop.speedup, 2)}×): the waits were too short to overlap.`,
    );
  }
  if (cpuLoop) {
    parts.push(
      cpuLoop.speedup < 1.2
        ? `It did nothing for CPU work (${fmt(cpuLoop.speedup, 2)}×): one thread computes no faster by taking turns.`
        : `Its ${fmt(cpuLoop.speedup, 2)}× on CPU work is measurement noise: one thread computes no faster by taking turns.`,
    );
    const pool = cpuThreads ?? cpuProcs;
    if (pool) {
      const kind = pool.strategy === "threads" ? "thread" : "process";
      parts.push(
        pool.speedup >= 1.2
          ? `Parallelism did: the ${kind} pool sped CPU work up ${fmt(pool.speedup, 2)}× on ${cores}.`
          : `The ${kind} pool did not speed CPU work up here (${fmt(pool.speedup, 2)}× on ${cores}): ` +
            "were the cores busy with other programs, or the calls too small for a worker round trip?",
      );
    }
  }
  if (cpuThreads && cpuProcs) {
    const faster = cpuThreads.wallMs <= cpuProcs.wallMs ? cpuThreads : cpuProcs;
    const slower = faster === cpuThreads ? cpuProcs : cpuThreads;
    const lead = (slower.wallMs / faster.wallMs - 1) * 100;
    parts.push(
      `Threads and processes did the CPU work in ${fmt(cpuThreads.wallMs)} and ${fmt(cpuProcs.wallMs)} ms: ` +
        (lead < 3 ? "level here, once their workers had started." : `${faster.strategy} were ${fmt(lead)}% faster here.`),
    );
  }
  const cpuCluster = find(rows, "cpu", "cluster");
  if (cpuCluster) {
    const local = cpuThreads ?? cpuProcs;
    const perCall = local ? (cpuCluster.wallMs - local.wallMs) / report.settings.tasks : NaN;
    parts.push(
      local === undefined
        ? `The cluster (two local worker processes over Redis) sped CPU work up ${fmt(cpuCluster.speedup, 2)}×.`
        : cpuCluster.wallMs <= local.wallMs * 1.1
        ? `The cluster (two local worker processes over Redis) matched the ${local.strategy === "threads" ? "thread" : "process"} pool ` +
          `(${fmt(cpuCluster.wallMs)} against ${fmt(local.wallMs)} ms): calls this long hide the trip through Redis, ` +
          "so workers on other machines would add their cores."
        : `The cluster (two local worker processes over Redis) took ${fmt(cpuCluster.wallMs)} ms against the ` +
          `${local.strategy === "threads" ? "thread" : "process"} pool's ${fmt(local.wallMs)} ms: the trip through Redis ` +
          `cost about ${fmt(perCall, 1)} ms per call here; distribution pays once calls are long and other machines add cores.`,
    );
    parts.push("(The cluster's CPU % counts this process only: its work ran in the worker processes.)");
  }
  if (ioThreads && ioLoop) {
    parts.push(
      `A pool of ${report.settings.workers} workers waits on at most ${report.settings.workers} requests at a time ` +
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
  if (mixed.length > 1) {
    const best = mixed.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    const calmest = mixed.reduce((a, b) => (b.lagMaxMs < a.lagMaxMs ? b : a));
    let text = `For the mixed workload, ${best.strategy} was fastest (${fmt(best.speedup, 2)}×)`;
    if (best !== calmest && best.lagMaxMs > 4 * calmest.lagMaxMs && best.lagMaxMs > 20) {
      text += ` but froze the main thread for up to ${fmt(best.lagMaxMs)} ms, where ${calmest.strategy} kept it ` +
        `under ${fmt(Math.max(1, calmest.lagMaxMs))} ms: wait on the loop, compute on a pool`;
    }
    parts.push(`${text}.`);
  }
  return parts.join(" ");
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

const COLORS: Record<StrategyName, string> = {
  sequential: "#8c8c8c",
  loop: "#2f7ed8",
  threads: "#e4572e",
  processes: "#7b4fa6",
  cluster: "#2e933c",
};

/** A bar chart (one group per workload, one bar per strategy) as an SVG string. */
function barChart(rows: Row[], value: (r: Row) => number, title: string, unit: string): string {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const width = 720;
  const height = 300;
  const left = 56;
  const bottom = 40;
  const top = 36;
  const plotH = height - top - bottom;
  const max = Math.max(1e-9, ...rows.map(value)) * 1.1;
  const groupW = (width - left - 20) / workloads.length;
  const barW = Math.min(40, (groupW - 20) / strategies.length);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escapeHtml(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(v, v < 10 ? 1 : 0)}${unit}</text>`);
  }
  workloads.forEach((w, gi) => {
    const gx = left + gi * groupW + (groupW - barW * strategies.length) / 2;
    strategies.forEach((s, si) => {
      const r = find(rows, w, s);
      if (!r) return;
      const h = (plotH * value(r)) / max;
      const x = gx + si * barW;
      const y = top + plotH - h;
      out.push(
        `<rect x="${x + 2}" y="${y}" width="${barW - 4}" height="${h}" fill="${COLORS[s]}"><title>${w} / ${s}: ${fmt(value(r), 2)}${unit}</title></rect>`,
      );
      out.push(`<text x="${x + barW / 2}" y="${y - 4}" text-anchor="middle" font-size="10">${fmt(value(r), value(r) < 10 ? 1 : 0)}</text>`);
    });
    out.push(`<text x="${left + gi * groupW + groupW / 2}" y="${height - bottom + 18}" text-anchor="middle" font-size="13">${WORKLOAD_TITLE[w]}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

/** Both charts stacked in one standalone SVG image (for a README or a slide). */
export function renderSvg(report: CompareReport): string {
  const strip = (svg: string) => svg.replace(/^<svg[^>]*>/, "").replace(/<\/svg>$/, "");
  const speed = strip(barChart(report.rows, (r) => r.speedup, "Speed-up over sequential (higher is better)", "×"));
  const lag = strip(barChart(report.rows, (r) => r.lagMaxMs, "Worst lag of the main thread (lower is better)", " ms"));
  const strategies = [...new Set(report.rows.map((r) => r.strategy))];
  const legend = strategies
    .map((s, i) => `<rect x="${60 + i * 130}" y="612" width="12" height="12" fill="${COLORS[s]}"/><text x="${78 + i * 130}" y="623" font-size="13">${s}</text>`)
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 640" font-family="system-ui, sans-serif">
<rect width="720" height="640" fill="#fff"/>
<g>${speed}</g>
<g transform="translate(0 300)">${lag}</g>
${legend}
</svg>
`;
}

/** A self-contained HTML page: the verdict, two charts, the table. Opens in any browser. */
export function renderHtml(report: CompareReport): string {
  const strategies = [...new Set(report.rows.map((r) => r.strategy))];
  const legend = strategies
    .map((s) => `<span class="key"><span class="swatch" style="background:${COLORS[s]}"></span>${s}</span>`)
    .join(" ");
  const rowsHtml = report.rows
    .map(
      (r) =>
        `<tr><td>${WORKLOAD_TITLE[r.workload]}</td><td>${r.strategy}</td><td>${fmt(r.wallMs)}</td><td>${fmt(r.speedup, 2)}×</td><td>${fmt(r.cpuPercent)}</td><td>${fmt(r.lagMaxMs, 1)}</td><td>${fmt(r.lagP99Ms, 1)}</td></tr>`,
    )
    .join("\n");
  const m = report.machine;
  const s = report.settings;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loopwork compare</title>
<style>
body{font-family:system-ui,sans-serif;max-width:780px;margin:2em auto;color:#222}
.key{margin-right:1em;font-size:14px}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;font-size:14px}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
.verdict{background:#f4f7fb;padding:1em;border-left:4px solid #2f7ed8}
</style></head><body>
<h1>loopwork compare</h1>
<p>${escapeHtml(m.runtime)} on ${escapeHtml(m.platform)}, ${m.cores} × ${escapeHtml(m.cpuModel)}, ${m.memoryGiB} GiB.
${s.tasks} tasks per workload, ${s.workers} workers, I/O latency ${s.ioLatencyMs} ms, CPU size ${s.cpuSize}.</p>
<p class="verdict">${escapeHtml(verdict(report))}</p>
<p>${legend}</p>
${barChart(report.rows, (r) => r.speedup, "Speed-up over sequential (higher is better)", "×")}
${barChart(report.rows, (r) => r.lagMaxMs, "Worst lag of the main thread (lower is better)", " ms")}
<table><thead><tr><th>workload</th><th>strategy</th><th>wall ms</th><th>speed-up</th><th>CPU %</th><th>worst lag ms</th><th>p99 lag ms</th></tr></thead>
<tbody>
${rowsHtml}
</tbody></table>
</body></html>
`;
}
