import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { classify, fewestLevel, kindOf } from "../src/tools/compare/classify.ts";
import { parseCompareArgs } from "../src/tools/compare/command.ts";
import { toRows } from "../src/tools/compare/compare.ts";
import { type CompareReport, renderHtml, renderSvg, renderTable, type Row, type Sample, verdict, warnings } from "../src/tools/compare/report.ts";
import { clearlyFaster, summarize } from "../src/tools/compare/stats.ts";
import { startLatencyServer } from "../src/tools/compare/server.ts";
import { describe, it } from "./harness.ts";
import { runProgram } from "./subprocess.ts";

const cli = fileURLToPath(new URL("../src/tools/cli.ts", import.meta.url));
const loopwork = (...args: string[]) => runProgram(cli, args);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));


const STRATEGIES = ["sequential", "loop", "threads", "processes"];

describe("loopwork compare", () => {
  it("--json prints every workload under every strategy with its samples, the classification and the verdict", async () => {
    const r = await loopwork("compare", "--quick", "--json", "--tasks", "2", "--cpu-size", "1", "--io-latency", "10", "--runs", "2");
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as CompareReport;
    assert.equal(typeof report.machine.cores, "number");
    assert.match(report.machine.runtime, /^(Node|Deno) /);
    assert.deepEqual(report.settings, {
      tasks: 2, workers: report.settings.workers, ioLatencyMs: 10, cpuSize: 1, runs: 2, sweep: null,
    });
    const cells = report.rows.map((row) => `${row.workload}/${row.strategy}`);
    const expected = ["io", "cpu", "mixed"].flatMap((w) => [...STRATEGIES, ...(w === "mixed" ? ["loop+threads"] : [])].map((s) => `${w}/${s}`));
    assert.deepEqual(cells, expected, "loop+threads only where the workload has two halves");
    for (const row of report.rows) {
      for (const key of ["wallMs", "wallMinMs", "wallMaxMs", "speedup", "cpuPercent", "lagMaxMs", "lagP99Ms"] as const) {
        assert.ok(Number.isFinite(row[key]) && row[key] >= 0, `${row.workload}/${row.strategy}.${key} = ${row[key]}`);
      }
      assert.equal(row.samples.length, 2, "one sample per run");
      assert.ok(row.wallMinMs <= row.wallMs && row.wallMs <= row.wallMaxMs);
      assert.equal(row.workers === null, row.strategy === "sequential" || row.strategy === "loop");
      if (row.strategy === "sequential") assert.equal(row.speedup, 1);
    }
    assert.deepEqual(report.classifications.map((c) => c.workload), ["io", "cpu", "mixed"]);
    for (const c of report.classifications) {
      assert.ok(["CPU-bound", "I/O-bound", "mixed"].includes(c.kind), c.kind);
      assert.match(c.sentence, /; run it /);
    }
    assert.ok(report.verdict.length > 0 && Array.isArray(report.warnings));
    assert.ok(Number.isFinite(report.load.before.loadAverage) || report.load.before.loadAverage === null);
  }, 130_000);

  it("--module runs the user's own .ts task, classifies I/O work as I/O-bound and recommends the loop", async () => {
    const r = await loopwork(
      "compare", "--module", fixture("compare-tasks.ts"), "--task", "nap", "--args", "[40]",
      "--tasks", "3", "--runs", "1", "--strategies", "sequential,loop", "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as CompareReport;
    assert.deepEqual(report.rows.map((row) => `${row.workload}/${row.strategy}`), ["nap/sequential", "nap/loop"]);
    assert.equal(report.settings.task, "nap");
    const [c] = report.classifications;
    assert.equal(c!.kind, "I/O-bound", c!.sentence);
    assert.ok(c!.cpuShare < 0.25, `CPU share ${c!.cpuShare}`);
    assert.match(report.verdict, /nap\(\) is I\/O-bound/);
  }, 130_000);

  it("--module classifies CPU work as CPU-bound (time spent waiting for a core does not count)", async () => {
    const r = await loopwork(
      "compare", "--module", fixture("compare-tasks.ts"), "--task", "spin", "--args", "[200]",
      "--tasks", "2", "--runs", "1", "--strategies", "sequential,threads", "--workers", "1", "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as CompareReport;
    assert.equal(report.classifications[0]!.kind, "CPU-bound", report.classifications[0]!.sentence);
  }, 130_000);

  it("--module with a .js module, --args-module and --hybrid runs loop+threads on the user's two halves", async () => {
    const js = await loopwork(
      "compare", "--module", fixture("compare-tasks.js"), "--task", "nap", "--args-module", fixture("compare-args.ts"),
      "--tasks", "2", "--runs", "1", "--strategies", "sequential,threads", "--workers", "1", "--json",
    );
    assert.equal(js.code, 0, js.stderr);
    assert.deepEqual((JSON.parse(js.stdout) as CompareReport).rows.map((r) => r.strategy), ["sequential", "threads"]);
    const hybrid = await loopwork(
      "compare", "--module", fixture("compare-tasks.ts"), "--task", "napThenSpin", "--args", "[20, 10]",
      "--hybrid", "napHalf,spinHalf", "--tasks", "2", "--runs", "1", "--strategies", "sequential,loop+threads",
      "--workers", "1", "--json",
    );
    assert.equal(hybrid.code, 0, hybrid.stderr);
    const report = JSON.parse(hybrid.stdout) as CompareReport;
    assert.deepEqual(report.rows.map((r) => `${r.workload}/${r.strategy}/${r.workers}`), [
      "napThenSpin/sequential/null",
      "napThenSpin/loop+threads/1",
    ]);
    assert.match(report.classifications[0]!.sentence, /^napThenSpin\(\) is (CPU-bound|I\/O-bound|mixed): one call kept the CPU busy \d+% of its time/);
  }, 130_000);

  it("bad input names the problem, exits 2 without a stack trace and leaves nothing running", async () => {
    const tasks = fixture("compare-tasks.ts");
    for (const [args, message] of [
      [["--module", "no-such-tasks.ts", "--task", "x"], /--module no-such-tasks\.ts: no such file/],
      [["--module", tasks, "--task", "resize"], /--task "resize": .*compare-tasks\.ts exports no function of that name \(its functions: explode, mainOnly, nap/],
      [["--module", tasks, "--task", "version"], /--task "version": .* exports no function of that name/],
      [["--module", tasks, "--task", "nap", "--args", "[1"], /--args is not valid JSON/],
      [["--module", tasks, "--task", "nap", "--args", "{\"ms\": 1}"], /--args must be an array of the call's arguments, got an object/],
      [["--module", tasks, "--task", "nap", "--args-module", fixture("compare-bad-args.ts")], /call 0's arguments cannot be sent to a worker: .*callback cannot be cloned \(it is a function\)/],
      [["--module", tasks, "--task", "explode", "--args", "[\"lava\"]"], /task "explode" of compare-tasks\.ts failed under sequential \(its first call\): RangeError: cannot handle lava/],
      [["--module", tasks, "--task", "mainOnly", "--strategies", "threads"], /task "mainOnly" of compare-tasks\.ts failed under threads: .*needs the main thread's state/],
      [["--module", tasks, "--task", "nap", "--hybrid", "napHalf,nope"], /--hybrid "nope": .* exports no function of that name/],
      [["--task", "nap"], /--task needs --module FILE/],
      [["--out", "chart.png"], /--out chart\.png: write a \.html page or a \.svg image \(got "\.png"\)/],
      [["--out", "/no/such/dir/r.html"], /--out \/no\/such\/dir\/r\.html: the folder \/no\/such\/dir does not exist/],
      [["--sweep", "threads=2"], /--sweep takes workers=N,N,\.\.\./],
    ] as const) {
      const r = await loopwork("compare", ...args, "--tasks", "2", "--runs", "1", "--workers", "1");
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  }, 300_000);

  it("bad values exit 2 with a message naming the option", async () => {
    for (const [args, message] of [
      [["--tasks", "0"], /--tasks must be a whole number from 1 to 10000, got "0"/],
      [["--workers", "two"], /--workers must be a whole number/],
      [["--only", "gpu"], /--only: unknown value "gpu"; choose from io, cpu, mixed/],
      [["--bogus"], /Unknown option '--bogus'/],
    ] as const) {
      const r = await loopwork("compare", ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}`);
      assert.match(r.stderr, message);
    }
  }, 130_000);
});

describe("compare: option parsing", () => {
  it("defaults, --quick sizes and lists", () => {
    const d = parseCompareArgs([]);
    assert.equal(d.tasks, 16);
    assert.equal(d.ioLatencyMs, 100);
    assert.equal(d.runs, 5);
    assert.equal(d.sweep, null);
    assert.deepEqual(d.workloads, ["io", "cpu", "mixed"]);
    assert.deepEqual(d.strategies, ["sequential", "loop", "threads", "processes", "loop+threads"]);
    const q = parseCompareArgs(["--quick", "--only", "cpu,io", "--strategies", "loop"]);
    assert.equal(q.tasks, 8);
    assert.equal(q.runs, 3);
    assert.deepEqual(q.workloads, ["io", "cpu"], "kept in canonical order");
    assert.deepEqual(q.strategies, ["loop"]);
    assert.throws(() => parseCompareArgs(["--cpu-size", "1.5"]), /--cpu-size must be a whole number/);
    assert.throws(() => parseCompareArgs(["--out", ""]), /--out needs a file name/);
    assert.throws(() => parseCompareArgs(["--runs", "0"]), /--runs must be a whole number from 1/);
  });

  it("--sweep workers=… sorts and dedupes the counts; --module takes --task, --args or --args-module, --hybrid", () => {
    assert.deepEqual(parseCompareArgs(["--sweep", "workers=4,1,2,2,8"]).sweep, [1, 2, 4, 8]);
    assert.throws(() => parseCompareArgs(["--sweep", "workers=0,2"]), /--sweep must be a whole number from 1 to 256, got "0"/);
    const u = parseCompareArgs(["--module", "t.ts", "--task", "go", "--args", "[1]", "--hybrid", "a, b"]);
    assert.deepEqual(u.user, { module: "t.ts", task: "go", args: "[1]", hybrid: ["a", "b"] });
    assert.throws(() => parseCompareArgs(["--module", "t.ts"]), /--module needs --task NAME/);
    assert.throws(() => parseCompareArgs(["--module", "t.ts", "--task", "go", "--args", "[]", "--args-module", "a.ts"]), /not both/);
    assert.throws(() => parseCompareArgs(["--module", "t.ts", "--task", "go", "--only", "cpu"]), /--only picks built-in workloads/);
    assert.throws(() => parseCompareArgs(["--module", "t.ts", "--task", "go", "--hybrid", "a"]), /--hybrid takes WAIT,COMPUTE/);
    assert.throws(() => parseCompareArgs(["--args", "[]"]), /--args needs --module FILE/);
  });
});

/** A cell measured `walls.length` times, with the same lag and CPU each time. */
function cell(workload: string, strategy: Row["strategy"], walls: number[], lagMaxMs: number, cpuShare = 1, workers: number | null = null) {
  const w = workers ?? (["sequential", "loop"].includes(strategy) ? null : 2);
  const samples: Sample[] = walls.map((wallMs) => ({ wallMs, cpuMs: wallMs * cpuShare, coreWaitMs: 0, lagMaxMs, lagP99Ms: lagMaxMs }));
  return { workload, strategy, workers: w, samples };
}

function report(cells: ReturnType<typeof cell>[], over: Partial<CompareReport["settings"]> = {}, loadAverage = 0.1): CompareReport {
  const runs = cells[0]!.samples.length;
  const r: CompareReport = {
    machine: { runtime: "Node v20", platform: "linux-x64", cpuModel: "Test CPU", cores: 2, memoryGiB: 8 },
    settings: { tasks: 16, workers: 2, ioLatencyMs: 100, cpuSize: 30, runs, sweep: null, ...over },
    load: { before: { loadAverage, otherCores: 0 }, after: { loadAverage, otherCores: 0 } },
    rows: toRows(cells),
    classifications: [],
    warnings: [],
    verdict: "",
  };
  const names = [...new Set(r.rows.map((row) => row.workload))];
  r.classifications = names.map((n) => classify(r, n, n));
  r.warnings = warnings(r);
  r.verdict = verdict(r);
  return r;
}

/** A CPU workload swept over thread counts: `walls[i]` are the samples of the i-th count of `sweep`. */
function threadSweep(sweep: number[], walls: number[][]): CompareReport {
  return report([
    cell("cpu", "sequential", [800, 801, 799], 790),
    ...walls.map((w, i) => cell("cpu", "threads", w, 3, 1, sweep[i]!)),
  ], { sweep });
}

const sample = report([
  cell("io", "sequential", [1600, 1610, 1590], 2, 0.05),
  cell("io", "loop", [163, 160, 170], 3, 0.3),
  cell("io", "threads", [800, 805, 810], 2),
  cell("cpu", "sequential", [800, 805, 795], 790),
  cell("cpu", "loop", [790, 800, 810], 780),
  cell("cpu", "threads", [420, 418, 422], 4),
  cell("cpu", "processes", [440, 442, 438], 3),
  cell("mixed", "sequential", [2400, 2410, 2390], 50, 0.33),
  cell("mixed", "loop", [900, 905, 895], 790),
  cell("mixed", "threads", [1200, 1210, 1190], 8),
  cell("mixed", "loop+threads", [700, 705, 695], 6),
]);

describe("compare: statistics", () => {
  it("a cell is its median with min and max; faster means beyond every sample", () => {
    assert.deepEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5 });
    assert.deepEqual(summarize([4, 1, 3, 10]), { median: 3.5, min: 1, max: 10 });
    assert.throws(() => summarize([]), /no samples/);
    assert.equal(clearlyFaster({ median: 10, min: 9, max: 11 }, { median: 13, min: 12, max: 14 }, 3), true);
    assert.equal(clearlyFaster({ median: 10, min: 9, max: 12 }, { median: 13, min: 12, max: 14 }, 3), false, "ranges touch");
    assert.equal(clearlyFaster({ median: 10, min: 10, max: 10 }, { median: 11, min: 11, max: 11 }, 1), false, "one sample: within 15%");
    assert.equal(clearlyFaster({ median: 10, min: 10, max: 10 }, { median: 12, min: 12, max: 12 }, 1), true);
  });
});

describe("compare: classification", () => {
  it("the kind comes from the CPU share of one call", () => {
    assert.equal(kindOf(0.98, 1.0), "CPU-bound");
    assert.equal(kindOf(0.03, 9.8), "I/O-bound");
    assert.equal(kindOf(0.4, 2.6), "mixed");
    assert.equal(kindOf(0.98, 2.1), "CPU-bound", "a loop gain a busy call cannot have is noise, not waiting");
    assert.equal(kindOf(NaN, 5), "I/O-bound", "without a CPU share, overlap on one thread means waiting");
  });

  it("CPU-bound, I/O-bound and mixed work each get the strategy that measured best, in one sentence with the numbers", () => {
    const [io, cpu, mixed] = sample.classifications;
    assert.equal(io!.kind, "I/O-bound");
    assert.equal(io!.strategy, "loop");
    assert.match(io!.sentence, /^io is I\/O-bound: one call kept the CPU busy 5% of its time, the loop ran the calls 9\.82× as fast as sequential and threads 1\.99×; run it as tasks on the loop, no workers needed \(9\.82× sequential's speed/);
    assert.equal(cpu!.kind, "CPU-bound");
    assert.equal(cpu!.strategy, "threads", "threads and processes are apart, threads faster");
    assert.equal(cpu!.workers, 2);
    assert.match(cpu!.sentence, /run it on a thread pool of 2 workers \(1\.90× sequential's speed, the main thread's worst lag 4\.0 ms\)/);
    assert.equal(mixed!.kind, "mixed");
    assert.equal(mixed!.strategy, "loop+threads");
    assert.match(mixed!.sentence, /run it waiting on the loop and computing on a thread pool of 2 workers/);
  });

  it("a strategy that froze the main thread is not recommended when a calm one is level with it", () => {
    const r = report([
      cell("m", "sequential", [1000, 1010, 990], 60, 0.5),
      cell("m", "loop", [500, 620, 480], 500),
      cell("m", "loop+threads", [510, 600, 490], 5),
    ]);
    assert.equal(r.classifications[0]!.strategy, "loop+threads");
  });

  it("nothing is recommended over sequential when the spread does not support it", () => {
    const r = report([
      cell("t", "sequential", [100, 140, 90], 1, 0.9),
      cell("t", "threads", [80, 120, 95], 1),
    ]);
    assert.equal(r.classifications[0]!.strategy, "sequential");
    assert.match(r.classifications[0]!.sentence, /no strategy beat sequential beyond the spread of the samples/);
    assert.match(r.warnings.join(" "), /spread wider than 25% of the median .*t \/ sequential 90–140 ms/);
  });

  it("a sweep recommends the fewest workers level with the fastest", () => {
    const r = threadSweep([1, 2, 4, 8], [[800, 801, 799], [410, 412, 408], [405, 415, 409], [408, 414, 411]]);
    assert.equal(r.classifications[0]!.workers, 2);
    assert.match(r.verdict, /CPU-bound on threads: 1 → 1\.00×, 2 → 1\.95×, 4 → 1\.96×, 8 → 1\.95× — no faster beyond 2 workers on 2 cores\./);
  });
});

describe("compare: the report", () => {
  it("the verdict is drawn from the numbers", () => {
    const v = sample.verdict;
    assert.match(v, /Concurrency cut I\/O wait 9\.8×/);
    assert.match(v, /It did nothing for CPU work \(1\.00×\)/);
    assert.match(v, /the thread pool sped CPU work up 1\.90× on 2 cores/);
    assert.match(v, /threads were 5% faster here/);
    assert.match(v, /froze it for up to 790 ms/);
    assert.match(v, /mixed workload, loop\+threads was fastest \(3\.43×\) and kept the main thread's worst lag at 6\.0 ms/);
    assert.doesNotMatch(v, /Caution/);
  });

  it("the verdict changes with the numbers, and claims no difference the spread does not support", () => {
    const v = report([cell("io", "sequential", [100, 101, 99], 1), cell("io", "loop", [90, 95, 104], 1)]).verdict;
    assert.match(v, /Concurrency did not measurably help I\/O here \(1\.05×, within the spread\)/);
    const w = report([cell("cpu", "sequential", [100, 101, 99], 90), cell("cpu", "loop", [100, 101, 99], 90), cell("cpu", "threads", [98, 99, 97], 3)]).verdict;
    assert.match(w, /The thread pool did not measurably speed CPU work up here \(1\.02× on 2 cores\)/);
    const level = report([cell("cpu", "sequential", [800, 801, 799], 790), cell("cpu", "threads", [380, 401, 420], 3), cell("cpu", "processes", [390, 402, 430], 3)]).verdict;
    assert.match(level, /Threads and processes did the CPU work in 401 and 402 ms: level within the spread/);
    const noisy = report([cell("cpu", "sequential", [800, 801, 799], 790), cell("cpu", "threads", [300, 401, 420], 3), cell("cpu", "processes", [410, 460, 700], 3)]).verdict;
    assert.match(noisy, /level within the spread/, "a 15% gap with overlapping samples is not a lead");
    assert.match(noisy, /^Caution: one thing makes these numbers less sure/);
  });

  it("warns on one sample per cell and on a busy machine", () => {
    const one = report([cell("io", "sequential", [100], 1), cell("io", "loop", [10], 1)]);
    assert.match(one.warnings[0]!, /One sample per cell: there is no spread to judge/);
    const busy = report([cell("io", "sequential", [100, 101], 1), cell("io", "loop", [10, 11], 1)], {}, 3.5);
    assert.match(busy.warnings.join(" "), /The machine was busy: its load average was 3\.50 on 2 cores/);
  });

  it("the table aligns one line per row with the headings and marks wide spreads", () => {
    const t = renderTable(sample.rows, sample);
    assert.match(t, /workload .* strategy .* workers .* wall ms .* min–max .* speed-up .* CPU % .* worst lag ms .* p99 lag ms/);
    const lines = t.trim().split("\n");
    assert.equal(new Set(lines.map((l) => [...l].length)).size, 1, "every line is as wide as the others");
    assert.ok(t.includes("9.82×"));
    assert.ok(t.includes("160–170"));
    assert.doesNotMatch(t, / !/);
    const noisy = report([cell("io", "sequential", [100, 150], 1), cell("io", "loop", [10, 11], 1)]);
    assert.match(renderTable(noisy.rows, noisy), /100–150 !/);
  });

  it("the HTML chart is self-contained: inline SVG, no external resources", async () => {
    const html = await renderHtml(sample);
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2, "speed-up and lag; no sweep chart without --sweep");
    assert.doesNotMatch(html, /<script|<link|src=|href=/);
    assert.match(html, /Concurrency cut I\/O wait 9\.8×/);
    assert.match(html, /run it waiting on the loop and computing on a thread pool/);
  });

  it("the sweep line and the recommendation name the same worker count", () => {
    // 4 workers have the best median (5% ahead of 2), but the samples of 2 are level with them.
    const r = threadSweep([1, 2, 4], [[800, 801, 799], [405, 430, 460], [390, 400, 410]]);
    assert.equal(r.classifications[0]!.workers, 2);
    assert.match(r.classifications[0]!.sentence, /thread pool of 2 workers/);
    assert.match(r.verdict, /no faster beyond 2 workers/);
    assert.equal(fewestLevel(r.rows.filter((x) => x.strategy === "threads"), 3).workers, 2);
  });
});

describe("compare: the SVG image", () => {
  it("holds both charts, error bars, a legend, the machine line and the verdict in one standalone SVG", async () => {
    const svg = await renderSvg(sample);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((svg.match(/<svg/g) ?? []).length, 1, "no nested svg elements");
    assert.match(svg, /Speed-up over sequential/);
    assert.match(svg, /Worst lag of the main thread, ms \(lower is better; log axis\)/);
    assert.doesNotMatch(svg, /Speed-up against workers/, "no sweep chart without --sweep");
    // Error bars: rule marks (speed-up whiskers, lag whiskers, the 1× line) beside the axes' own rules.
    assert.ok((svg.match(/class="mark-rule role-mark/g) ?? []).length >= 3, "error bars from the samples");
    // The lag axis is logarithmic with round ticks: 1, 10, 100 and 1000 ms all labelled.
    for (const tick of ["1", "10", "100", "1000"]) assert.match(svg, new RegExp(`>${tick}</text>`), `tick ${tick}`);
    assert.match(svg, /Node v20 on linux-x64, 2 × Test CPU; 16 calls per workload, 2 workers/);
    assert.match(svg, /Concurrency cut I\/O wait/);
    for (const s of ["sequential", "loop", "threads", "processes", "loop+threads"]) assert.ok(svg.includes(`>${s}</text>`), s);
  });

  it("with --sweep, a third chart draws speed-up against workers with the core count marked", async () => {
    const r = threadSweep([1, 2, 4], [[800, 801, 799], [410, 412, 408], [405, 415, 409]]);
    const svg = await renderSvg(r);
    assert.match(svg, /Speed-up against workers/);
    assert.match(svg, /dashed: 2 cores/);
    assert.ok(svg.includes(">workers</text>"), "the workers axis");
    assert.match(svg, /class="mark-line role-mark/, "the speed-up curve");
    assert.equal(((await renderHtml(r)).match(/<svg /g) ?? []).length, 3);
  });
});

describe("compare: the latency server", () => {
  it("answers after its latency and counts the answers", async () => {
    const server = await startLatencyServer(30);
    try {
      const t0 = performance.now();
      const res = await fetch(server.url);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /waited 30 ms/);
      assert.ok(performance.now() - t0 >= 29);
      assert.equal(server.answered(), 1);
    } finally {
      await server.close();
    }
  });
});

describe("compare: the chart in a browser", () => {
  it("headless Chromium opens the HTML chart and renders it to a screenshot", async () => {
    const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
    if (chromium === undefined) {
      console.log("SKIPPED: no Chromium on this machine (apt-get install chromium) — the chart was not opened in a browser");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "loopwork-chart-"));
    try {
      const page = join(dir, "report.html");
      const png = join(dir, "shot.png");
      writeFileSync(page, await renderHtml(sample));
      await new Promise<void>((resolve, reject) => {
        execFile(chromium, [
          "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          `--user-data-dir=${join(dir, "profile")}`, "--window-size=820,1400", `--screenshot=${png}`, `file://${page}`,
        ], { timeout: 60_000 }, (err) => (err ? reject(err) : resolve()));
      });
      const bytes = readFileSync(png);
      assert.equal(bytes.subarray(1, 4).toString("latin1"), "PNG");
      assert.equal(bytes.readUInt32BE(16), 820, "screenshot width");
      assert.ok(bytes.length > 20_000, `a rendered page, not a blank one (${bytes.length} bytes)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
