/**
 * Runs the benchmark suites, one process per suite and runtime, and writes BENCHMARKS.md.
 *
 *   npm run bench                       # every suite, on Node and Deno, plus Python asyncio
 *   npm run bench -- --suites spawn,switch --runtimes node --no-write
 *
 * Every figure is compared with the baseline of its own suite, measured in the same process
 * and run; the goals of the project are checked against the same figures.
 */
import { execFile } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CHILD_ARGV_ENV, RESULT_MARK, type SuiteResult } from "./lib.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const SUITES = ["spawn", "switch", "memory", "group", "combinators", "roundtrip", "cpu", "sleeps", "sizes", "cluster", "cancel"] as const;
const PYTHON_SUITES = new Set(["spawn", "switch", "memory", "group", "sleeps"]);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const suites = (arg("suites")?.split(",") ?? [...SUITES]).filter((s) => (SUITES as readonly string[]).includes(s));
const runtimes = arg("runtimes")?.split(",") ?? ["node", "deno"];
const withPython = !process.argv.includes("--no-python");
const write = !process.argv.includes("--no-write");

function exec(cmd: string, args: string[]): Promise<string> {
  // A suite that measures its contenders in processes of their own (bench/lib.ts `isolated`)
  // starts them with this same command, so they get the same runtime and flags.
  const env = { ...process.env, [CHILD_ARGV_ENV]: JSON.stringify([cmd, ...args]) };
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: root, env, maxBuffer: 64 << 20, timeout: 900_000 }, (err, stdout, stderr) => {
      process.stderr.write(stderr);
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}`));
      else resolve(stdout);
    });
  });
}

function parse(stdout: string): SuiteResult[] {
  return stdout.split("\n").filter((l) => l.startsWith(RESULT_MARK)).map((l) => JSON.parse(l.slice(RESULT_MARK.length)));
}

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
function command(runtime: string, suite: string): [string, string[]] {
  const file = `bench/suites/${suite}.ts`;
  if (runtime === "deno") {
    return [deno ? deno.execPath() : `${root}node_modules/deno/deno`, ["run", "-A", "--v8-flags=--expose-gc", file]];
  }
  return [deno ? "node" : process.execPath, ["--expose-gc", "--import", "tsx", file]];
}

const results: SuiteResult[] = [];
for (const suite of suites) {
  for (const rt of runtimes) {
    console.error(`running ${suite} on ${rt}…`);
    const before = loadavg()[0]!;
    const out = parse(await exec(...command(rt, suite)));
    const load: [number, number] = [before, loadavg()[0]!];
    for (const r of out) r.load = load;
    results.push(...out);
  }
}
if (withPython && suites.some((s) => PYTHON_SUITES.has(s))) {
  console.error("running Python asyncio…");
  try {
    results.push(...parse(await exec("python3", ["bench/python/asyncio_bench.py"])).filter((r) => suites.includes(r.suite as never)));
  } catch (e) {
    console.error(`Python asyncio skipped: ${(e as Error).message}`);
  }
}

// Suites not run this time keep their last figures (bench/results.json), so one suite can be
// re-measured alone (`--suites cpu`) without losing the rest of the table.
const store = `${root}bench/results.json`;
if (write) {
  let previous: SuiteResult[] = [];
  try {
    previous = JSON.parse(readFileSync(store, "utf8")) as SuiteResult[];
  } catch {
    // first run
  }
  const fresh = new Set(results.map((r) => `${r.suite}|${r.runtime}`));
  const merged = [...previous.filter((r) => !fresh.has(`${r.suite}|${r.runtime}`)), ...results];
  const order = (r: SuiteResult) => (SUITES as readonly string[]).indexOf(r.suite);
  merged.sort((a, b) => order(a) - order(b));
  results.length = 0;
  results.push(...merged);
  writeFileSync(store, JSON.stringify(merged, null, 2) + "\n");
}

// ---- the report ---------------------------------------------------------------------------

// Three significant figures at most, so a small ratio (0.0029×) does not print as "0.00×".
const f = (x: number) =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 || x === 0 ? x.toFixed(2) : x.toPrecision(2);

function entriesOf(suite: string) {
  return results.filter((r) => r.suite === suite).flatMap((r) => r.entries.map((e) => ({ ...e, runtime: r.runtime })));
}

function baselineOf(suite: string, runtime: string) {
  return results.find((r) => r.suite === suite && r.runtime === runtime)?.entries.find((e) => e.baseline);
}

function entry(suite: string, runtime: string | RegExp, name: string | RegExp) {
  return entriesOf(suite).find((e) =>
    (typeof runtime === "string" ? e.runtime === runtime : runtime.test(e.runtime)) &&
    (typeof name === "string" ? e.name === name : name.test(e.name))
  );
}

function value(suite: string, runtime: string | RegExp, name: string | RegExp): number | undefined {
  return entry(suite, runtime, name)?.value;
}

const lines: string[] = [];
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
lines.push("# Benchmarks", "");
lines.push(
  "Written by `npm run bench` (bench/run.ts), not by hand: one process per suite and runtime.",
  "In the suites spawn, switch, memory, group, combinators and sleeps every contender runs in",
  "processes of its own, one per round (same runtime and flags, warm-up inside the process), the",
  "rounds interleaved across contenders: no contender pays for the garbage another left. A figure",
  "is the median over rounds; a ratio is the median of the per-round ratios against the suite's",
  "baseline of the same round, and \"ratio min/max\" is their spread (min/max on a baseline: its",
  "own figure's); \"CPU ratio\" is the same ratio of the main thread's CPU time, which the load of",
  "other processes moves far less than wall time. The other suites measure their contenders in",
  "one process, interleaved. The machine is shared and noisy: expect ±20%.",
  "",
  `Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench\` ` +
    "(or `npm run bench -- --suites cpu` to re-measure one suite; the others keep their last figures).",
  "",
);

const goals: string[] = [];
function goal(label: string, ok: boolean | undefined, detail: string) {
  goals.push(`| ${label} | ${detail} | ${ok === undefined ? "not measured" : ok ? "✓ met" : "✗ not met"} |`);
}

for (const suite of SUITES) {
  const all = entriesOf(suite);
  if (all.length === 0) continue;
  const title = results.find((r) => r.suite === suite)!.title;
  lines.push(`## ${title}`, "", "| contender | runtime | figure | vs. baseline |", "| --- | --- | --- | --- |");
  for (const e of all) {
    const base = baselineOf(suite, e.runtime);
    let ratio = "";
    if (e.baseline) ratio = "baseline";
    else if (base) {
      const r = e.ratio ?? e.value / base.value;
      ratio = e.higherIsBetter ? `${f(r)}× the rate` : `${f(r)}×`;
    }
    const extra = e.extra ? ` (${Object.entries(e.extra).map(([k, v]) => `${k} ${f(v)}`).join(", ")})` : "";
    lines.push(`| ${e.name} | ${e.runtime} | ${f(e.value)} ${e.unit}${extra} | ${ratio} |`);
  }
  for (const r of results.filter((r) => r.suite === suite)) for (const n of r.notes ?? []) lines.push("", `Note (${r.runtime}): ${n}`);
  const loads = results.filter((r) => r.suite === suite && r.load !== undefined)
    .map((r) => `${r.runtime} ${r.load![0].toFixed(2)} → ${r.load![1].toFixed(2)}`);
  if (loads.length > 0) lines.push("", `Load average (1 min) when each run started and ended: ${loads.join("; ")}.`);
  lines.push("");
}

for (const rt of new Set(results.map((r) => r.runtime).filter((r) => !r.startsWith("Python")))) {
  // The shape the peers' rows have (effection, asyncio: spawn each task, await each in turn).
  const each = entry("spawn", rt, /^loopwork generator tasks, cheapest form: spawn\(hoisted fn\), yield\* each/);
  const native = entry("spawn", rt, "native Promise.all");
  const eff = entry("spawn", rt, "effection 4");
  const py = value("spawn", /^Python/, /asyncio/);
  if (each !== undefined && native !== undefined) {
    const r = each.ratio ?? each.value / native.value;
    goal(`spawn(fn), yield* each ≤ 3× native (${rt})`, r <= 3, `${f(r)}×`);
  }
  if (each !== undefined && eff !== undefined) {
    const r = eff.ratio !== undefined && each.ratio !== undefined ? eff.ratio / each.ratio : eff.value / each.value;
    goal(`spawn ≥ 2× faster than effection (${rt})`, r >= 2, `${f(r)}× faster`);
  }
  if (each !== undefined && py !== undefined) goal(`spawn ≥ 5× faster than asyncio (${rt})`, py / each.value >= 5, `${f(py / each.value)}× faster`);
  const sw = entry("switch", rt, "loopwork generator tasks");
  const swNative = value("switch", rt, "native await null");
  if (sw !== undefined && swNative !== undefined) {
    const r = sw.ratio ?? sw.value / swNative;
    goal(`switch rate ≥ 1/3 of native (${rt})`, r >= 1 / 3, `${f(r)} of await null`);
  }
  const mem = value("memory", rt, "loopwork generator tasks");
  const memEff = value("memory", rt, "effection 4");
  const memPy = value("memory", /^Python/, /asyncio/);
  if (mem !== undefined && memEff !== undefined) goal(`memory per task below effection's (${rt})`, mem < memEff, `${f(mem)} B vs ${f(memEff)} B`);
  if (mem !== undefined && memPy !== undefined) goal(`memory per task below asyncio's (${rt})`, mem < memPy, `${f(mem)} B vs ${f(memPy)} B`);
  // Issue 16: the combinators and the task itself, as users write them (ratios taken round by round).
  const ratioOf = (suite: string, name: RegExp) => entry(suite, rt, name)?.ratio;
  const upTo = (label: string, r: number | undefined, max: number, what = "native") => {
    if (r !== undefined) goal(`${label} ≤ ${max}× ${what} (${rt})`, r <= max, `${f(r)}×`);
  };
  upTo("spawn(gen(i)) + gather", ratioOf("spawn", /spawn\(gen\(i\)\) \+ gather/), 2);
  upTo("gather's own cost", ratioOf("combinators", /^loopwork gather alone/), 1.5, "Promise.all's");
  upTo("taskGroup of 100k children", ratioOf("combinators", /^loopwork taskGroup/), 2);
  upTo("spawn(async (signal) => …)", ratioOf("spawn", /async \(signal\)/), 4);
  const yn = ratioOf("switch", /yieldNow/);
  if (yn !== undefined) upTo("yieldNow()", 1 / yn, 1.5, "await null's time");
  // Linear work costs more per item at 200k than at 10k on this machine too (200k items outgrow
  // the young generation and the caches: native Promise.all's own cost per item grows 3–4×), so
  // "flat" is taken against that: a quadratic cost (an array shift() per item) grows ~20×.
  const nativeGrowth = ratioOf("combinators", /^native Promise\.all, 200k/);
  for (const c of ["asCompleted", "wait"]) {
    const r = ratioOf("combinators", new RegExp(`^loopwork ${c}, 200k`));
    if (r !== undefined && nativeGrowth !== undefined) {
      goal(
        `${c}: cost per item, 10k → 200k, grows ≤ 1.5× as much as Promise.all's (${rt})`,
        r / nativeGrowth <= 1.5,
        `${f(r / nativeGrowth)}× (its cost per item ${f(r)}× at 200k; Promise.all's ${f(nativeGrowth)}×)`,
      );
    }
  }
  const memAsync = value("memory", rt, /async \(signal\)/);
  const memNative = value("memory", rt, "native async function");
  if (memAsync !== undefined && memNative !== undefined) {
    goal(`async task with a signal ≤ 2× native memory (${rt})`, memAsync <= 2 * memNative, `${f(memAsync)} B vs ${f(memNative)} B`);
  }
  const ours5 = entry("roundtrip", rt, "loopwork WorkerPool (threads)");
  const raw5 = entry("roundtrip", rt, "raw tinypool (threads)");
  if (ours5 !== undefined && raw5 !== undefined) {
    const r = ours5.ratio ?? ours5.value / raw5.value;
    goal(`pool overhead over raw tinypool ≤ 10% (${rt})`, r >= 0.9, `${f(r * 100)}% of raw tinypool's calls/s`);
  }
  // Issue 16: the thread pool against the machine (the limit: bare worker threads, one call per worker).
  const piscina5 = entry("roundtrip", rt, "piscina 5");
  const x = ours5?.extra ?? {};
  if (x["× limit calls/s"] !== undefined) {
    goal(`threads ≥ 0.8× the one-call-per-worker limit (${rt})`, x["× limit calls/s"] >= 0.8, `${f(x["× limit calls/s"])}×`);
  }
  if (ours5 !== undefined && piscina5 !== undefined) {
    const r = (ours5.ratio ?? 1) / (piscina5.ratio ?? 1);
    goal(`threads ≥ 2× piscina's calls/s (${rt})`, r >= 2, `${f(r)}×`);
  }
  if (x["× limit p50"] !== undefined) goal(`lone-call p50 ≤ 1.2× raw worker_threads (${rt})`, x["× limit p50"] <= 1.2, `${f(x["× limit p50"])}×`);
  if (x["× limit CPU"] !== undefined) goal(`CPU µs per call ≤ 1.3× raw worker_threads (${rt})`, x["× limit CPU"] <= 1.3, `${f(x["× limit CPU"])}×`);
  const seq6 = value("cpu", rt, "sequential, main thread");
  const ours6 = value("cpu", rt, "loopwork WorkerPool (threads)");
  if (seq6 !== undefined && ours6 !== undefined) goal(`CPU speed-up ≥ 1.85 on 2 workers (${rt})`, seq6 / ours6 >= 1.85, `${f(seq6 / ours6)}×`);
  // The cluster against its fair peer (bench/suites/cluster.ts): ratios of the same run.
  const worker = entry("cluster", rt, /^loopwork worker --threads [1-9]/);
  if (worker?.ratio !== undefined) {
    // With the per-round spread and the CPU ratio, which tell a noisy run from a real gap.
    const x = worker.extra ?? {};
    const more = [
      x["ratio min"] !== undefined && x["ratio max"] !== undefined ? `rounds ${f(x["ratio min"])}–${f(x["ratio max"])}` : "",
      x["CPU ratio"] !== undefined ? `CPU ratio ${f(x["CPU ratio"])}` : "",
    ].filter((m) => m !== "").join(", ");
    goal(
      `loopwork worker ≥ 1.1× BullMQ's sandboxed calls/s (${rt})`,
      worker.ratio >= 1.1,
      `${f(worker.ratio)}×${more === "" ? "" : ` (${more})`}`,
    );
    const p50 = worker.extra?.["p50 vs peer"];
    if (p50 !== undefined) goal(`loopwork worker p50 ≤ 1.0× BullMQ's sandboxed (${rt})`, p50 <= 1.0, `${f(p50)}×`);
  }
}
if (goals.length) lines.push("## Goals", "", "| goal | measured | |", "| --- | --- | --- |", ...goals, "");

const text = lines.join("\n");
console.log(text);
if (write) {
  const file = `${root}BENCHMARKS.md`;
  // Keep any section another script owns (marked <!-- keep:NAME --> … <!-- /keep:NAME -->).
  let kept = "";
  try {
    kept = [...readFileSync(file, "utf8").matchAll(/<!-- keep:[\s\S]*?<!-- \/keep:[^>]*-->/g)].map((m) => m[0]).join("\n\n");
  } catch {
    // no previous file
  }
  writeFileSync(file, kept ? `${text}\n${kept}\n` : text);
  console.error("wrote BENCHMARKS.md");
}
