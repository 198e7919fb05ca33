/**
 * What a newcomer meets first, from a folder of their own: a task module that is not there
 * says so, whatever its extension and kind (not "install tsx", nor Node's "imported from"
 * loopwork's own file). Under Deno: a pool started without the permissions its workers need
 * says at `new WorkerPool`, as Deno's own `NotCapable`, every flag it lacks (a process pool
 * once died as a "crashed worker" naming one flag at a time, and without --allow-run threw out
 * of tinypool); the `loopwork` command without them says so in one line (it threw a stack
 * trace); and loopwork imported over the network, as JSR serves it (here from a local HTTP
 * server), runs thread pools (own and tinypool backends), process pools and `toThread`
 * (Deno's worker threads once refused the https: entry: "The URL must be one of scheme file
 * or data").
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { run, toThread, WorkerPool } from "../../mod.ts";
import { describe, it, runtime, skip } from "../harness.ts";
import { redisAvailable, redisRequired, startRedis } from "../cluster-helpers.ts";
import { runProgram } from "../subprocess.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));

const TASKS = "export function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\n";

interface Ran {
  code: number;
  /** What it wrote to stdout, then to stderr. */
  out: string;
  stdout: string;
}

/**
 * Runs Deno in `cwd` with `args`, stdin closed (so no permission prompt), colours off; through
 * `Deno.Command`, since Deno's child_process hands its own permissions to a Deno it starts.
 */
async function deno(args: string[], cwd: string): Promise<Ran> {
  const { Deno } = globalThis as unknown as {
    Deno: {
      execPath(): string;
      Command: new (cmd: string, o: object) => { output(): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> };
    };
  };
  const command = new Deno.Command(Deno.execPath(), { args, cwd, stdin: "null", env: { NO_COLOR: "1" } });
  const r = await command.output();
  const text = new TextDecoder();
  const stdout = text.decode(r.stdout);
  return { code: r.code, out: stdout + text.decode(r.stderr), stdout };
}

describe(`a newcomer's first program (${runtime})`, () => {
  it("a task module that is not there fails its call saying so, whatever its extension, on threads, processes and inline; a .ts one whose compiled .js is there names it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-newcomer-"));
    try {
      // A program compiled by tsc names its .ts task module, whose compiled .js is beside it.
      writeFileSync(join(dir, "compiled.js"), "export function fib(n) { return n; }\n");
      writeFileSync(join(dir, "compiled.mjs"), "export function fib(n) { return n; }\n");
      const compiled = (js: string) => `there is no such file, but there is ${join(dir, js)}: a compiled program names its task module as compiled (.js)`;
      for (const [file, reason] of [
        ["nope.js", "there is no such file"],
        ["nope.ts", "there is no such file"],
        ["nope.mjs", "there is no such file"],
        ["compiled.ts", compiled("compiled.js")],
        ["compiled.mts", compiled("compiled.mjs")],
      ]) {
        for (const kind of ["thread", "process", "inline"] as const) {
          const pool = new WorkerPool(pathToFileURL(join(dir, file!)), { kind, maxWorkers: 1 });
          try {
            await assert.rejects(pool.run("fib", 1), (e: Error) => {
              assert.equal(e.message, `cannot load the task module ${join(dir, file!)}: ${reason}`, `${kind} ${file}`);
              return true;
            });
          } finally {
            await pool.destroy();
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("loopwork worker without --connection or --queue says which is required, not 'got null'", async () => {
    const cli = join(repo, "src", "tools", "cli.ts");
    for (const [args, said] of [
      [[], "--connection is required (the Redis URL, e.g. redis://127.0.0.1:6379)"],
      [["--connection", "redis://127.0.0.1:1"], "--queue is required (the pool's queue option)"],
      [["--connection", "redis://127.0.0.1:1", "--queue", "q"], "--module is required (the task module's path)"],
    ] as const) {
      const r = await runProgram(cli, ["worker", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split("\n")[0], `loopwork worker: ${said}`);
    }
  }, 60_000);

  it("toThread() of a function that uses a variable of its scope fails naming the variable and why it is not there", async () => {
    const factor = 3;
    await assert.rejects(
      run(function* () {
        return yield* toThread((n: number) => n * factor, 2);
      }),
      (e: Error) => {
        assert.ok(e instanceof ReferenceError, String(e));
        assert.equal(
          e.message,
          "factor is not defined: toThread() sends a function as its source, without the variables, imports and " +
            "functions of its scope; pass them as arguments, or put the function in a task module",
        );
        return true;
      },
    );
    // Passed as an argument, it is there.
    assert.equal(await run(function* () { return yield* toThread((n: number, f: number) => n * f, 2, factor); }), 6);
  }, 60_000);

  it("a generator task's call is typed as what the generator returns, which is what it resolves to", async () => {
    await using pool = new WorkerPool<typeof import("../fixtures/newcomer-tasks.ts")>(
      new URL("../fixtures/newcomer-tasks.ts", import.meta.url),
      { maxWorkers: 1 },
    );
    // (Typed as the Generator object itself before, so this did not type-check.)
    const n: number = await pool.run("double", 21);
    const both: number[] = await pool.run("pair", 2);
    assert.equal(n, 42);
    assert.deepEqual(both, [2, 2]);
    assert.equal(await run(function* () { return (yield* pool.run("double", 1)) + 1; }), 3);
  }, 60_000);

  if (runtime !== "deno") return;

  it("without the permissions its workers need, new WorkerPool names every missing flag (a thread pool --allow-read, on tinypool also --allow-env; a process pool --allow-read, --allow-run and --allow-env), and with them it runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-newcomer-deno-"));
    try {
      writeFileSync(join(dir, "tasks.ts"), TASKS);
      writeFileSync(
        join(dir, "main.ts"),
        `import { WorkerPool } from ${JSON.stringify(pathToFileURL(join(repo, "mod.ts")).href)};
const kind = Deno.args[0] as "thread" | "process";
const backend = (Deno.args[1] ?? "loopwork") as "loopwork" | "tinypool";
try {
  await using pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url), { maxWorkers: 1, kind, ...(kind === "thread" ? { backend } : {}) });
  console.log(kind, await pool.run("fib", 20));
} catch (e) {
  console.log(kind, "refused:", e instanceof Deno.errors.NotCapable ? "NotCapable" : "not NotCapable", (e as Error).message);
}
`,
      );
      const refused = async (kind: string, flags: string[], missing: string[], all: string, backend = "loopwork") => {
        const r = await deno(["run", ...flags, "main.ts", kind, backend], dir);
        const what = `${kind} pool with ${flags.join(" ") || "no flags"}:\n${r.out}`;
        assert.equal(r.code, 0, what);
        assert.match(r.out, new RegExp(`^${kind} refused: NotCapable a ${kind} pool cannot start: Deno has not granted `), what);
        const named = r.out.slice(0, r.out.indexOf(": run again with "));
        for (const flag of ["--allow-read", "--allow-run", "--allow-env"]) {
          assert.equal(named.includes(`${flag} (`), missing.includes(flag), `${what}\n(${flag} named as missing: ${missing.includes(flag)})`);
        }
        assert.ok(r.out.trimEnd().endsWith(`: run again with ${all} (or -A)`), what);
        assert.doesNotMatch(r.out, /died|Uncaught|Requires/, what);
      };
      await refused("thread", [], ["--allow-read"], "--allow-read");
      await refused("process", [], ["--allow-read", "--allow-run", "--allow-env"], "--allow-read --allow-run --allow-env");
      await refused("process", ["--allow-read"], ["--allow-run", "--allow-env"], "--allow-read --allow-run --allow-env");
      // Once a crash of a worker that never ran, then an exception out of tinypool.
      await refused("process", ["--allow-read", "--allow-env"], ["--allow-run"], "--allow-read --allow-run --allow-env");
      await refused("process", ["--allow-read", "--allow-run"], ["--allow-env"], "--allow-read --allow-run --allow-env");
      // tinypool's threads read an environment variable (once an uncaught error in the worker).
      await refused("thread", ["--allow-read"], ["--allow-env"], "--allow-read --allow-env", "tinypool");
      assert.equal((await deno(["run", "--allow-read", "main.ts", "thread"], dir)).out.trim(), "thread 6765");
      assert.equal((await deno(["run", "--allow-read", "--allow-env", "main.ts", "thread", "tinypool"], dir)).out.trim(), "thread 6765");
      assert.equal((await deno(["run", "--allow-read", "--allow-run", "--allow-env", "main.ts", "process"], dir)).out.trim(), "process 6765");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("the loopwork command run without Deno's permissions says in one line which one it was refused and to run it with -A, exit 1, no stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-newcomer-cli-"));
    try {
      writeFileSync(join(dir, "tasks.ts"), TASKS);
      const cli = join(repo, "src", "tools", "cli.ts");
      const compare = ["compare", "--quick", "--tasks", "1", "--runs", "1", "--only", "cpu", "--strategies", "sequential,threads"];
      const worker = ["worker", "--connection", "redis://127.0.0.1:1", "--queue", "q", "--module", "./tasks.ts", "--threads", "1"];
      for (const [flags, args, refusal] of [
        [[], compare, /^loopwork compare: Requires net access to "127\.0\.0\.1:0": /],
        [["--allow-net"], compare, /^loopwork compare: a thread pool cannot start: Deno has not granted --allow-read \(/],
        [[], worker, /^loopwork worker: cannot serve the queue: Deno has not granted --allow-read \(to read your task module \S*tasks\.ts\), --allow-net \(to reach Redis at 127\.0\.0\.1:1\), --allow-env \(.*\) or --allow-sys \(.*\): /],
      ] as const) {
        const r = await deno(["run", ...flags, cli, ...args], dir);
        const what = `deno run ${flags.join(" ")} loopwork ${args[0]}:\n${r.out}`;
        assert.equal(r.code, 1, what);
        assert.match(r.out, refusal, what);
        assert.match(r.out, /: the command reads files, uses the network and starts workers: run it with deno run -A npm:loopwork\n$/, what);
        assert.equal(r.out.trim().split("\n").length, 1, what);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  const byPath = "a program that imports loopwork by path (no package.json, no deno.json) runs a bullmq pool against `loopwork worker` run from the sources: bullmq finds its peer ioredis";
  if (!redisAvailable && !redisRequired) skip(`${byPath} (redis-server is not installed)`);
  else it(byPath, async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-newcomer-bullmq-"));
    const redis = await startRedis();
    const { Deno } = globalThis as unknown as {
      Deno: {
        execPath(): string;
        Command: new (cmd: string, o: object) => {
          spawn(): { stdout: ReadableStream<Uint8Array>; status: Promise<{ code: number }>; kill(signal: string): void };
        };
      };
    };
    const worker = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(repo, "src", "tools", "cli.ts"), "worker", "--connection", redis.url, "--queue", "newcomer", "--module", "./tasks.ts", "--threads", "1"],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
      env: { NO_COLOR: "1" },
    });
    writeFileSync(join(dir, "tasks.ts"), TASKS);
    const child = worker.spawn();
    let out = "";
    const reading = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
    })();
    try {
      // Its start (or its exit), within a generous bound: a guard against a hang, not a speed check.
      for (let i = 0; i < 300 && !/loopwork worker: started/.test(out); i++) {
        const exited = await Promise.race([child.status.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
        if (exited) break;
      }
      assert.match(out, /loopwork worker: started/, `the worker from the sources:\n${out}`);
      writeFileSync(
        join(dir, "client.ts"),
        `import { WorkerPool } from ${JSON.stringify(pathToFileURL(join(repo, "mod.ts")).href)};
await using pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url), { kind: "bullmq", connection: ${JSON.stringify(redis.url)}, queue: "newcomer", connectTimeoutMs: 10_000 });
console.log(await pool.run("fib", 20));
`,
      );
      const r = await deno(["run", "-A", "client.ts"], dir);
      assert.equal(r.code, 0, r.out);
      assert.equal(r.stdout.trim(), "6765", r.out);
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // (it had exited)
      }
      await child.status;
      await reading;
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("loopwork imported over HTTP, as JSR serves it, runs thread pools (own and tinypool backends), a process pool and toThread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-newcomer-url-"));
    // The repo's files, served with the content types JSR gives them.
    const server: Server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      readFile(join(repo, path)).then(
        (body) => {
          res.writeHead(200, { "content-type": path.endsWith(".ts") ? "application/typescript" : "application/javascript" });
          res.end(body);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      writeFileSync(join(dir, "tasks.ts"), TASKS);
      writeFileSync(
        join(dir, "main.ts"),
        `import { run, toThread, WorkerPool } from "http://${host}/mod.ts";
for (const options of [{ kind: "thread" }, { kind: "thread", backend: "tinypool" }, { kind: "process" }] as const) {
  await using pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url), { maxWorkers: 1, ...options });
  console.log(JSON.stringify(options), await pool.run("fib", 20));
}
console.log("toThread", await run(function* () { return yield* toThread((n: number) => n * 2, 21); }));
`,
      );
      const r = await deno(["run", `--reload=http://${host}`, `--allow-import=${host}`, "--allow-read", "--allow-run", "--allow-env", "main.ts"], dir);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(r.out.split("\n").filter((l) => !l.startsWith("Download")).join("\n").trim().split("\n"), [
        '{"kind":"thread"} 6765',
        '{"kind":"thread","backend":"tinypool"} 6765',
        '{"kind":"process"} 6765',
        "toThread 42",
      ]);
    } finally {
      await new Promise((closed) => server.close(closed));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
