/**
 * The charts of `loopwork compare`, drawn with Vega-Lite and rendered to SVG by Vega on the
 * server side (no DOM, no browser, no canvas): speed-up over sequential with error bars from
 * the samples, the main thread's worst lag on a log axis, and, with `--sweep`, speed-up
 * against workers with the core count marked. Vega is loaded lazily, here only: the library's
 * import graph never reaches it.
 * @module
 */
import { loadPackage } from "../../pool/packages.ts";
import type { CompareReport, Row, StrategyName } from "./report.ts";

/** Each strategy's colour, the same in every chart. */
export const COLORS: Record<StrategyName, string> = {
  sequential: "#8c8c8c",
  loop: "#2f7ed8",
  threads: "#e4572e",
  processes: "#7b4fa6",
  "loop+threads": "#e8a33d",
  cluster: "#2e933c",
};

const FONT = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif";
const WIDTH = 620;

// A Vega-Lite specification: plain JSON (the library checks it when it compiles).
type Spec = Record<string, unknown>;

/** How a chart names a workload: the user's task as `task()`, the built-in ones by kind. */
export type TitleOf = (workload: string) => string;

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits);
}

function colorScale(report: CompareReport) {
  const domain = [...new Set(report.rows.map((r) => r.strategy))];
  return { domain, range: domain.map((s) => COLORS[s]) };
}

/** The speed-up range of a row from its samples: sequential's median over each sample's wall time. */
function speedRange(report: CompareReport, r: Row): [number, number] {
  const base = report.rows.find((b) => b.workload === r.workload && b.strategy === "sequential");
  return base ? [base.wallMs / r.wallMaxMs, base.wallMs / r.wallMinMs] : [r.speedup, r.speedup];
}

function lagRange(r: Row): [number, number] {
  const lags = r.samples.map((s) => s.lagMaxMs);
  return [Math.min(...lags), Math.max(...lags)];
}

/** Lags below this are drawn at it: a log axis has no zero, and a timer resolves no finer. */
const LAG_FLOOR_MS = 0.1;

const xWorkload = (order: string[]) => ({
  field: "workload",
  type: "nominal",
  sort: order,
  title: null,
  axis: { labelAngle: 0, labelFontSize: 12, labelLimit: 200 },
});
const xOffset = (order: string[]) => ({ field: "strategy", sort: order });

function speedSpec(report: CompareReport, rows: Row[], titleOf: TitleOf): Spec {
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const workloads = [...new Set(rows.map((r) => titleOf(r.workload)))];
  const values = rows.map((r) => {
    const [lo, hi] = speedRange(report, r);
    return { workload: titleOf(r.workload), strategy: r.strategy, value: r.speedup, lo, hi, label: `${fmt(r.speedup, r.speedup < 10 ? 1 : 0)}×` };
  });
  const x = xWorkload(workloads);
  return {
    title: { text: "Speed-up over sequential (higher is better)", subtitle: "bar: median of the runs; whisker: slowest to fastest run" },
    width: WIDTH,
    height: 220,
    data: { values },
    encoding: { x, xOffset: xOffset(strategies) },
    layer: [
      {
        mark: { type: "bar", width: { band: 0.85 } },
        encoding: {
          y: { field: "value", type: "quantitative", title: "speed-up (×)", scale: { nice: true, zero: true }, axis: { tickCount: 6, format: "~g" } },
          color: { field: "strategy", type: "nominal", scale: colorScale(report), title: "strategy" },
          tooltip: [{ field: "strategy" }, { field: "label", title: "speed-up" }],
        },
      },
      { mark: { type: "rule", color: "#222", strokeWidth: 1.2 }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
      { mark: { type: "tick", color: "#222", thickness: 1.2, size: 7, orient: "horizontal" }, encoding: { y: { field: "lo", type: "quantitative" } } },
      { mark: { type: "tick", color: "#222", thickness: 1.2, size: 7, orient: "horizontal" }, encoding: { y: { field: "hi", type: "quantitative" } } },
      {
        mark: { type: "text", dy: -6, fontSize: 10, baseline: "bottom" },
        encoding: { y: { field: "hi", type: "quantitative" }, text: { field: "label" } },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: "rule", strokeDash: [4, 3], color: "#555" },
        encoding: { x: null, xOffset: null, y: { field: "one", type: "quantitative" } },
      },
    ],
  };
}

/** A log axis's domain: whole powers of ten around the values. */
function logDomain(values: { lo: number; hi: number }[]): [number, number] {
  const lo = Math.min(...values.map((v) => v.lo));
  const hi = Math.max(...values.map((v) => v.hi));
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
}

/** Round ticks on a log axis: 1, 2 and 5 times each power of ten in the domain (only the powers over 4 decades). */
function logTicks(values: { lo: number; hi: number }[]): number[] {
  const [lo, hi] = logDomain(values);
  const decades = Math.round(Math.log10(hi / lo));
  const steps = decades > 4 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let p = lo; p <= hi * 1.0001; p *= 10) for (const m of steps) if (p * m <= hi * 1.0001) out.push(Number((p * m).toPrecision(3)));
  return out;
}

function lagSpec(report: CompareReport, rows: Row[], titleOf: TitleOf): Spec {
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const workloads = [...new Set(rows.map((r) => titleOf(r.workload)))];
  const floor = (v: number) => Math.max(LAG_FLOOR_MS, v);
  const values = rows.map((r) => {
    const [lo, hi] = lagRange(r);
    return {
      workload: titleOf(r.workload),
      strategy: r.strategy,
      value: floor(r.lagMaxMs),
      lo: floor(lo),
      hi: floor(hi),
      label: r.lagMaxMs < 10 ? fmt(r.lagMaxMs, 1) : fmt(r.lagMaxMs),
    };
  });
  const x = xWorkload(workloads);
  return {
    title: { text: "Worst lag of the main thread, ms (lower is better; log axis)", subtitle: "dot: median of the runs; whisker: lowest to highest run" },
    width: WIDTH,
    height: 200,
    data: { values },
    encoding: { x, xOffset: xOffset(strategies) },
    layer: [
      { mark: { type: "rule", strokeWidth: 1.5 }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: { field: "strategy", type: "nominal", scale: colorScale(report) } } },
      {
        mark: { type: "point", filled: true, size: 60, opacity: 1 },
        encoding: {
          y: { field: "value", type: "quantitative", title: "worst lag (ms)", scale: { type: "log", domain: logDomain(values) }, axis: { values: logTicks(values), format: "~g", grid: true } },
          color: { field: "strategy", type: "nominal", scale: colorScale(report), title: "strategy" },
          tooltip: [{ field: "strategy" }, { field: "label", title: "worst lag ms" }],
        },
      },
      { mark: { type: "text", dx: 9, align: "left", fontSize: 10 }, encoding: { y: { field: "value", type: "quantitative" }, text: { field: "label" } } },
    ],
  };
}

/** The swept rows: one curve per workload and pool strategy, speed-up against workers. */
function sweepSpec(report: CompareReport, titleOf: TitleOf): Spec | undefined {
  const sweep = report.settings.sweep;
  if (sweep === null || sweep.length < 2) return undefined;
  const rows = report.rows.filter((r) => r.workers !== null && r.strategy !== "cluster");
  if (rows.length === 0) return undefined;
  const values = rows.map((r) => {
    const [lo, hi] = speedRange(report, r);
    return { workload: titleOf(r.workload), strategy: r.strategy, workers: r.workers, value: r.speedup, lo, hi };
  });
  const workloads = [...new Set(values.map((v) => v.workload))];
  const cores = report.machine.cores;
  const x = {
    field: "workers",
    type: "quantitative",
    title: "workers",
    scale: { type: "log", base: 2, domain: [Math.min(...sweep) / 1.25, Math.max(...sweep) * 1.25] },
    axis: { values: sweep, format: "d", grid: false },
  };
  const y = { field: "value", type: "quantitative", title: "speed-up (×)", scale: { zero: true, nice: true }, axis: { tickCount: 5, format: "~g" } };
  const color = { field: "strategy", type: "nominal", scale: colorScale(report), title: "strategy" };
  const cols = Math.min(workloads.length, 3);
  return {
    title: {
      text: "Speed-up against workers",
      subtitle: `dashed: ${cores} core${cores === 1 ? "" : "s"}, beyond which more workers only take turns; whisker: slowest to fastest run`,
    },
    data: { values },
    facet: { field: "workload", type: "nominal", sort: workloads, title: null, header: { labelFontSize: 12 } },
    columns: cols,
    spec: {
      width: Math.floor((WIDTH - 80 * (cols - 1)) / cols),
      height: 170,
      layer: [
        { mark: { type: "line", point: { filled: true, size: 40 } }, encoding: { x, y, color } },
        { mark: { type: "rule", strokeWidth: 1.2 }, encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color } },
        { mark: { type: "rule", strokeDash: [4, 3], color: "#555" }, encoding: { x: { datum: cores, type: "quantitative", scale: x.scale } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

/** The verdict as a text block under the charts (Vega-Lite has no paragraph mark: one text row per line). */
function textSpec(lines: string[]): Spec {
  return {
    width: WIDTH,
    height: lines.length * 14,
    data: { values: lines.map((t, i) => ({ t, i })) },
    mark: { type: "text", align: "left", baseline: "top", fontSize: 11, limit: 0 },
    encoding: {
      text: { field: "t" },
      x: { value: 0 },
      y: { field: "i", type: "ordinal", axis: null, scale: { paddingInner: 0, paddingOuter: 0 } },
    },
  };
}

let chartPackages: Promise<[typeof import("vega"), typeof import("vega-lite")]> | undefined;

/**
 * Loads Vega and Vega-Lite (optional peer dependencies: only the charts need them), once;
 * `loopwork compare --out` calls it before it measures, so a missing one is said at once.
 *
 * @example
 * await loadChartPackages(); // fails: ... needs the npm package "vega", which is not installed: npm install vega vega-lite
 */
export function loadChartPackages(): Promise<[typeof import("vega"), typeof import("vega-lite")]> {
  const why = "the charts of `loopwork compare --out`";
  return (chartPackages ??= Promise.all([
    loadPackage<typeof import("vega")>("vega", why, "vega vega-lite"),
    loadPackage<typeof import("vega-lite")>("vega-lite", why, "vega vega-lite"),
  ]));
}

async function toSvg(spec: Spec): Promise<string> {
  const [vega, vegaLite] = await loadChartPackages();
  const full = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 12,
    config: {
      font: FONT,
      title: { anchor: "start", fontSize: 14, subtitleFontSize: 11, subtitleColor: "#555", offset: 8 },
      axis: { labelFontSize: 11, titleFontSize: 11, gridColor: "#e6e6e6" },
      legend: { orient: "top", labelFontSize: 12, titleFontSize: 12, symbolType: "square" },
      view: { stroke: null },
    },
    ...spec,
  };
  const { spec: vgSpec } = vegaLite.compile(full as never, { logger: quiet(vega) });
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none", logger: quiet(vega) });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// Vega-Lite warns on stderr about choices made on purpose (a log scale on a layered chart);
// errors still throw.
function quiet(vega: typeof import("vega")) {
  return vega.logger(vega.None);
}

/** The chart rows: one per workload and strategy, at the settings' worker count. */
function chartRows(report: CompareReport): Row[] {
  const out: Row[] = [];
  for (const r of report.rows) {
    const same = report.rows.filter((o) => o.workload === r.workload && o.strategy === r.strategy);
    const row = same.find((o) => o.workers === null || o.workers === report.settings.workers) ?? same[same.length - 1]!;
    if (!out.includes(row)) out.push(row);
  }
  return out;
}

/**
 * The charts of a report, each a standalone SVG string: speed-up, worst lag, and the sweep
 * (when `--sweep` was given).
 */
export async function renderCharts(report: CompareReport, titleOf: TitleOf): Promise<string[]> {
  const rows = chartRows(report);
  const specs = [speedSpec(report, rows, titleOf), lagSpec(report, rows, titleOf), sweepSpec(report, titleOf)];
  return await Promise.all(specs.filter((s): s is Spec => s !== undefined).map(toSvg));
}

/**
 * One standalone SVG image (for a README or a slide): a heading, the machine line and
 * settings, every chart, and the verdict under them.
 */
export async function renderImage(report: CompareReport, titleOf: TitleOf, machine: string[], verdict: string[]): Promise<string> {
  const rows = chartRows(report);
  const charts = [speedSpec(report, rows, titleOf), lagSpec(report, rows, titleOf), sweepSpec(report, titleOf)]
    .filter((s): s is Spec => s !== undefined);
  const svg = await toSvg({
    title: { text: "loopwork compare", subtitle: machine, fontSize: 17, subtitleFontSize: 11, offset: 14 },
    vconcat: [...charts, textSpec(verdict)],
    spacing: 26,
    resolve: { scale: { color: "shared" }, legend: { color: "shared" } },
  });
  return `${svg}\n`;
}
