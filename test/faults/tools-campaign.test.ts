/**
 * Fault tests from a hostile campaign on src/inspect (task names that draw lines of their
 * own, functions whose name is not a string, tens of thousands of tasks) and src/tools
 * (`loopwork compare` given workloads that throw what cannot be printed, exit the process,
 * or are interrupted by a signal). Each case must end (a generous real-time guard, never a
 * speed check), report only what was measured, and leave no process behind.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dumpTasks, Event, run, spawn, taskTree, yieldNow } from "../../mod.ts";
import { compare } from "../../src/tools/compare/compare.ts";
import { parseCompareArgs, UsageError } from "../../src/tools/compare/command.ts";
import { workerMain } from "../../src/tools/worker-command.ts";
import { CompareInputError } from "../../src/tools/compare/user-module.ts";
import { eventually, runCli, startProcess, within } from "../cluster-helpers.ts";
import { describe, it, runtime } from "../harness.ts";
import { runProgram } from "../subprocess.ts";

const cli = fileURLToPath(new URL("../../src/tools/cli.ts", import.meta.url));
const HOSTILE = fileURLToPath(new URL("../fixtures/compare-hostile.ts", import.meta.url));

/** Whether process `pid` runs (a zombie, ended and not yet reaped, does not). Linux's /proc. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The pids a compare-hostile.ts task printed ("burning in PID"). */
function burning(output: string): number[] {
  return [...new Set([...output.matchAll(/burning in (\d+)/g)].map((m) => Number(m[1])))];
}

describe("tools campaign: the task dump of hostile names", () => {
  it("a name with a line break or an escape sequence stays on its own line, escaped; a huge name is cut", async () => {
    const forged = "evil\nfake: running\u001b[2J";
    const huge = "x".repeat(100_000);
    const dump = await run(function* () {
      const e = new Event();
      spawn(function* () {
        yield* e.wait();
      }, { name: forged });
      const waiter = spawn(function* () {
        yield* e.wait();
      }, { name: huge });
      spawn(function* () {
        yield* waiter;
      }, { name: "on-huge" });
      yield* yieldNow();
      // The tree keeps the names as they are: only the text escapes them.
      const names = taskTree().map((n) => n.name);
      assert.ok(names.includes(forged));
      const text = dumpTasks({ where: false });
      e.set();
      return text;
    }, { clock: "virtual" });
    const lines = dump.split("\n");
    assert.equal(lines[0], "4 tasks at 0 ms (virtual clock)");
    assert.equal(lines.length, 5, `one line per task:\n${dump.slice(0, 2_000)}`);
    assert.ok(!lines.some((l) => l.startsWith("fake")), "no line drawn by a name");
    assert.ok(!dump.includes("\u001b"), "no escape sequence reaches the terminal");
    assert.ok(dump.includes("evil\\nfake: running\\u001b[2J: waiting"), dump.slice(0, 500));
    assert.ok(dump.length < 2_000, `a huge name is cut (${dump.length} characters)`);
    assert.match(dump, /x… \(100000 characters\)/);
  });

  it("a task function whose name is not a string (a throwing toString) or forges a line: the dump still says it is not started", async () => {
    const dump = await run(function* () {
      const e = new Event();
      const hostile = function* () {
        yield* e.wait();
      };
      Object.defineProperty(hostile, "name", {
        value: {
          toString() {
            throw new Error("toString refused");
          },
        },
      });
      const forging = function* () {
        yield* e.wait();
      };
      Object.defineProperty(forging, "name", { value: "f\nfake: running" });
      spawn(hostile, { name: "hostile" });
      spawn(forging, { name: "forging" });
      const text = dumpTasks({ where: false });
      const tree = taskTree();
      assert.equal(tree.length, 3);
      yield* yieldNow();
      e.set();
      return text;
    }, { clock: "virtual" });
    const lines = dump.split("\n");
    assert.equal(lines.length, 4, dump);
    assert.equal(lines[2], "hostile: new — not started: an anonymous function");
    assert.equal(lines[3], "forging: new — not started: f\\nfake: running");
  });

  it(`where: only the first 1000 generator tasks are located, so a dump of thousands of tasks stays quick (${runtime})`, async () => {
    const located = await run(function* () {
      const e = new Event();
      for (let i = 0; i < 1_500; i++) {
        spawn(function* () {
          yield* e.wait();
        });
      }
      yield* yieldNow();
      const tree = taskTree({ where: true });
      e.set();
      return tree.filter((n) => n.where !== null).length;
    }, { clock: "virtual" });
    // Deno locates none (no node:inspector session); Node the first 1000 of the 1500.
    assert.equal(located, runtime === "deno" ? 0 : 1_000);
  });
});

describe("tools campaign: loopwork compare given hostile workloads", () => {
  const settings = { tasks: 2, workers: 1, ioLatencyMs: 0, cpuSize: 1, runs: 1, sweep: null, workloads: [] };

  for (const task of ["throwsNull", "throwsHostile"]) {
    it(`a task that throws what cannot be printed (${task}) is named as failing, not a crash of compare`, async () => {
      const e = await compare({ ...settings, strategies: ["sequential"], user: { module: HOSTILE, task, tasks: 2 } }).then(
        () => assert.fail("compare resolved"),
        (e: unknown) => e,
      );
      assert.ok(e instanceof CompareInputError, `a CompareInputError, got ${String((e as Error)?.stack ?? e)}`);
      assert.match(e.message, new RegExp(`task "${task}" of compare-hostile\\.ts failed under sequential \\(its first call\\): \\[object (Object|Error)\\]`));
    });
  }

  it("a workload that calls process.exit(0) makes compare exit non-zero, saying nothing was reported", async () => {
    const r = await runProgram(cli, ["compare", "--module", HOSTILE, "--task", "exits", "--tasks", "2", "--runs", "1", "--workers", "1", "--json"]);
    assert.notEqual(r.code, 0, `exit code (stderr: ${r.stderr})`);
    assert.equal(r.stdout, "", "no report");
    assert.match(r.stderr, /the process was ended \(exit code 0\) during the comparison: nothing was reported \(does the workload call process\.exit\(\)\?\)/);
  }, 60_000);

  it("a task module that leaves a timer running: compare still exits once it has printed the report", async () => {
    const r = await runCli(
      ["compare", "--module", fileURLToPath(new URL("../fixtures/compare-linger.ts", import.meta.url)), "--task", "quick", "--tasks", "2", "--runs", "1", "--workers", "1", "--strategies", "loop", "--json"],
      30_000,
    );
    assert.equal(r.code, 0, `exit code (-1: still running after 30 s); stderr: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).settings.task, "quick");
  }, 60_000);

  // Node only: on Deno console.log writes to the standard output itself, on every thread.
  if (runtime === "node") it("--json: what the workload prints goes to stderr, so stdout stays one JSON document (node)", async () => {
    const strategies = "loop,threads,processes";
    const r = await runProgram(cli, ["compare", "--module", HOSTILE, "--task", "prints", "--tasks", "2", "--runs", "1", "--workers", "1", "--strategies", strategies, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { rows: { strategy: string }[] };
    assert.deepEqual(report.rows.map((row) => row.strategy), ["sequential", ...strategies.split(",")]);
    assert.match(r.stderr, /a line the task printed/);
  }, 60_000);

  it(`SIGTERM while a process pool computes: its child processes are stopped, nothing is reported, exit code 143 (${runtime})`, async () => {
    const p = await startProcess(
      ["compare", "--module", HOSTILE, "--task", "burnInChild", "--tasks", "2", "--runs", "1", "--workers", "2", "--strategies", "processes"],
      cli,
      /burning in \d+/,
    );
    let pids: number[] = [];
    try {
      await eventually(() => burning(p.output()).length === 2, "both child processes compute", 30_000);
      pids = burning(p.output());
      p.signal("SIGTERM");
      const code = await within(p.exit(), 20_000, "compare's exit after SIGTERM");
      assert.equal(code, 143, p.output());
      await eventually(() => !pids.some(alive), `the pool's child processes ${pids.join(", ")} are gone`, 10_000);
      assert.match(p.output(), /SIGTERM: stopping the pools and worker processes; nothing is reported/);
      assert.doesNotMatch(p.output(), /measuring|verdict|recommend/i, "nothing measured is claimed");
    } finally {
      await p.kill();
      for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
    }
  }, 90_000);
});

describe("tools campaign: a --connection URL that does not parse", () => {
  it("compare and worker refuse it as bad usage (exit 2) naming --connection, without the password", async () => {
    for (const [url, why] of [
      ["redis://user:hunter2@127.0.0.1:99999", /--connection must be a redis:\/\/ or rediss:\/\/ URL, got "redis:\/\/user:\*\*\*@127\.0\.0\.1:99999" \(not a valid URL\)/],
      ["redis://[::1", /--connection must be a redis:\/\/ or rediss:\/\/ URL, got "redis:\/\/\[::1" \(not a valid URL\)/],
      ["redis://127.0.0.1:6379/x", /--connection: the Redis URL redis:\/\/127\.0\.0\.1:6379\/x names no valid database number/],
    ] as const) {
      assert.throws(() => parseCompareArgs(["--connection", url]), (e: Error) => {
        assert.ok(e instanceof UsageError, `${url}: a UsageError, got ${e.name}: ${e.message}`);
        assert.match(e.message, why);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      });
    }
    // The worker says so before it loads anything (its usage text goes to stderr).
    const write = process.stderr.write;
    let err = "";
    process.stderr.write = ((chunk: string) => {
      err += chunk;
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await workerMain(["--connection", "redis://user:hunter2@127.0.0.1:99999", "--queue", "q", "--module", HOSTILE, "--threads", "1"]);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 2, err);
    assert.match(err, /loopwork worker: --connection must be a redis:\/\/ or rediss:\/\/ URL, got "redis:\/\/user:\*\*\*@127\.0\.0\.1:99999" \(not a valid URL\)/);
    assert.doesNotMatch(err, /hunter2/);
  });
});
