import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseCompareArgs } from "../src/compare/command.ts";
import { type CompareReport, renderHtml, renderSvg, renderTable, type Row, verdict } from "../src/compare/report.ts";
import { startLatencyServer } from "../src/compare/server.ts";
import { describe, it } from "./harness.ts";
import { runProgram } from "./subprocess.ts";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const loopwork = (...args: string[]) => runProgram(cli, args);


const STRATEGIES = ["sequential", "loop", "threads", "processes"];

describe("loopwork compare", () => {
  it("--quick --json prints every workload under every strategy, in the documented shape", async () => {
    const r = await loopwork("compare", "--quick", "--json", "--tasks", "4", "--cpu-size", "2", "--io-latency", "20");
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as CompareReport;
    assert.equal(typeof report.machine.cores, "number");
    assert.match(report.machine.runtime, /^(Node|Deno) /);
    assert.deepEqual(report.settings, { tasks: 4, workers: report.settings.workers, ioLatencyMs: 20, cpuSize: 2 });
    const cells = report.rows.map((row) => `${row.workload}/${row.strategy}`);
    const expected = ["io", "cpu", "mixed"].flatMap((w) => STRATEGIES.map((s) => `${w}/${s}`));
    assert.deepEqual(cells, expected);
    for (const row of report.rows) {
      for (const key of ["wallMs", "speedup", "cpuPercent", "lagMaxMs", "lagP99Ms"] as const) {
        assert.ok(Number.isFinite(row[key]) && row[key] >= 0, `${row.workload}/${row.strategy}.${key} = ${row[key]}`);
      }
      if (row.strategy === "sequential") assert.equal(row.speedup, 1);
    }
  }, 130_000);

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
    assert.deepEqual(d.workloads, ["io", "cpu", "mixed"]);
    const q = parseCompareArgs(["--quick", "--only", "cpu,io", "--strategies", "loop"]);
    assert.equal(q.tasks, 8);
    assert.deepEqual(q.workloads, ["io", "cpu"], "kept in canonical order");
    assert.deepEqual(q.strategies, ["loop"]);
    assert.throws(() => parseCompareArgs(["--cpu-size", "1.5"]), /--cpu-size must be a whole number/);
    assert.throws(() => parseCompareArgs(["--out", ""]), /--out needs a file name/);
  });
});

function row(workload: Row["workload"], strategy: Row["strategy"], wallMs: number, lagMaxMs: number, cpuPercent = 100): Row {
  return { workload, strategy, wallMs, speedup: 0, cpuPercent, lagMaxMs, lagP99Ms: lagMaxMs };
}

function report(rows: Row[]): CompareReport {
  for (const r of rows) r.speedup = rows.find((b) => b.workload === r.workload && b.strategy === "sequential")!.wallMs / r.wallMs;
  return {
    machine: { runtime: "Node v20", platform: "linux-x64", cpuModel: "Test CPU", cores: 2, memoryGiB: 8 },
    settings: { tasks: 16, workers: 2, ioLatencyMs: 100, cpuSize: 30 },
    rows,
  };
}

const sample = report([
  row("io", "sequential", 1600, 2),
  row("io", "loop", 163, 3),
  row("io", "threads", 800, 2),
  row("cpu", "sequential", 800, 790),
  row("cpu", "loop", 790, 780),
  row("cpu", "threads", 420, 4),
  row("cpu", "processes", 440, 3),
  row("mixed", "sequential", 2400, 50),
  row("mixed", "loop", 900, 790),
  row("mixed", "threads", 1200, 8),
]);

describe("compare: the report", () => {
  it("the verdict is drawn from the numbers", () => {
    const v = verdict(sample);
    assert.match(v, /Concurrency cut I\/O wait 9\.8×/);
    assert.match(v, /It did nothing for CPU work \(1\.01×\)/);
    assert.match(v, /the thread pool sped CPU work up 1\.90× on 2 cores/);
    assert.match(v, /threads were 5% faster here/);
    assert.match(v, /froze it for up to 790 ms/);
    assert.match(v, /mixed workload, loop was fastest \(2\.67×\) but froze the main thread for up to 790 ms, where threads kept it under 8 ms/);
  });

  it("the verdict changes with the numbers", () => {
    const v = verdict(report([row("io", "sequential", 100, 1), row("io", "loop", 95, 1)]));
    assert.match(v, /Concurrency barely helped I\/O here \(1\.05×\)/);
    const w = verdict(report([row("cpu", "sequential", 100, 90), row("cpu", "loop", 100, 90), row("cpu", "threads", 98, 3)]));
    assert.match(w, /The thread pool did not speed CPU work up here \(1\.02× on 2 cores\)/);
    const level = verdict(report([row("cpu", "sequential", 800, 790), row("cpu", "threads", 401, 3), row("cpu", "processes", 402, 3)]));
    assert.match(level, /Threads and processes did the CPU work in 401 and 402 ms: level here/);
  });

  it("the table aligns one line per row with the headings", () => {
    const t = renderTable(sample.rows);
    assert.match(t, /workload .* strategy .* wall ms .* speed-up .* CPU % .* worst lag ms .* p99 lag ms/);
    const lines = t.trim().split("\n");
    assert.equal(new Set(lines.map((l) => [...l].length)).size, 1, "every line is as wide as the others");
    assert.ok(t.includes("9.82×"));
  });

  it("the HTML chart is self-contained: inline SVG, no external resources", () => {
    const html = renderHtml(sample);
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.doesNotMatch(html, /<script|<link|src=|href=/);
    assert.match(html, /Concurrency cut I\/O wait 9\.8×/);
  });
});

describe("compare: the SVG image", () => {
  it("holds both charts and a legend in one standalone SVG", () => {
    const svg = renderSvg(sample);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((svg.match(/<svg/g) ?? []).length, 1, "no nested svg elements");
    assert.match(svg, /Speed-up over sequential/);
    assert.match(svg, /Worst lag of the main thread/);
    for (const s of ["sequential", "loop", "threads", "processes"]) assert.ok(svg.includes(`>${s}</text>`), s);
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
      writeFileSync(page, renderHtml(sample));
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
