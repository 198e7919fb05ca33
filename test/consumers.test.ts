// The package from outside the repo, as its users meet it. On Node: the packed tarball (packed
// and installed once for the file) by name in a fresh folder: its subpaths resolve, with
// `import` and with `require()`; the loop alone installs no Redis client; the "bullmq" kind
// without bullmq says what to install; TypeScript type-checks it under each module resolution;
// Deno runs and checks it from that folder's node_modules; a bundle that inlines loopwork says
// at `new WorkerPool` to keep it external; a `.ts` task module without tsx says what to do; the
// installed `loopwork` command (npm's bin link, and Deno's npm:loopwork) helps, compares, names
// bad input and missing peers without a stack trace, and `loopwork worker` serves a Redis queue. On
// Deno: a program in a folder with no package.json and no deno.json importing mod.ts and the
// subpath entries by path, running the loop, a thread pool and a process pool on a TypeScript
// task module; and one whose deno.json maps "loopwork" to mod.ts, whose graph has no npm package.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { redisAvailable, redisRequired, startRedis } from "./cluster-helpers.ts";
import { describe, it, runtime, skip } from "./harness.ts";

const repo = fileURLToPath(new URL("..", import.meta.url));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function ok(r: Ran, what: string): Ran {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

const TASKS = `export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
`;

const JS_TASKS = "export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n";

/** The tools of the repo the Node cases run on the consumer folder. */
const tool = {
  deno: fileURLToPath(new URL("../node_modules/deno/deno", import.meta.url)),
  tsc: fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)),
  esbuild: fileURLToPath(new URL("../node_modules/.bin/esbuild", import.meta.url)),
};

let consumer: Promise<string> | undefined;

/**
 * A fresh folder with the packed tarball installed by name, and tasks.js/tasks.ts: packed and
 * installed once, for every Node case of this file (the last case removes it).
 */
function installed(): Promise<string> {
  return (consumer ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "loopwork-consumer-"));
    const packed = ok(await exec("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", dir], repo), "npm pack");
    const tarball = packed.stdout.trim().split("\n").pop()!;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    ok(await exec("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", `./${tarball}`], dir), "npm install");
    writeFileSync(join(dir, "tasks.js"), JS_TASKS);
    writeFileSync(join(dir, "tasks.ts"), TASKS);
    return dir;
  })());
}

describe(`loopwork from a folder outside the repo (${runtime})`, () => {
  if (runtime === "node") {
    it("the packed tarball installs by name: its subpaths work, the loop alone needs no Redis client, and the bullmq kind names its missing peer", async () => {
      const dir = await installed();
      // A bullmq-free install: the optional peer is not installed, nor its Redis client.
      assert.equal(existsSync(join(dir, "node_modules", "bullmq")), false, "bullmq is not installed with loopwork");
      assert.equal(existsSync(join(dir, "node_modules", "ioredis")), false, "ioredis is not installed with loopwork");
      // The files the packed README links to are in the package.
      for (const f of ["README.md", "BENCHMARKS.md", "docs/compare.svg", "examples/README.md"]) {
        assert.ok(existsSync(join(dir, "node_modules", "loopwork", f)), `${f} is in the package`);
      }
      writeFileSync(
        join(dir, "main.mjs"),
        `import { run, sleep, spawn } from "loopwork";
import { delay } from "loopwork/std";
import { WorkerPool } from "loopwork/pool";
import { PoolConnectionError } from "loopwork/cluster";
const v = await run(function* () {
  const t = spawn(function* () { yield* sleep(5); return "loop"; });
  return yield* t;
});
await delay(1);
const pool = new WorkerPool(new URL("./tasks.js", import.meta.url), { maxWorkers: 1 });
try {
  console.log(v, await pool.run("fib", 20));
} finally {
  await pool.destroy();
}
const cluster = new WorkerPool(new URL("./tasks.js", import.meta.url), { kind: "bullmq", connection: "redis://127.0.0.1:1", queue: "q" });
try {
  await cluster.run("fib", 1);
} catch (e) {
  console.log(e.name, e instanceof PoolConnectionError ? "connection" : "other", e.message);
} finally {
  await cluster.destroy();
}
`,
      );
      const r = ok(await exec(process.execPath, ["main.mjs"], dir), "the consumer program");
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines[0], "loop 6765");
      assert.match(lines[1], /bullmq/);
      assert.match(lines[1], /npm install bullmq/);
    }, 300_000);

    it("require() loads loopwork and its subpaths where Node can require ES modules (20.19+), and a pool runs from CommonJS; an older Node says ERR_REQUIRE_ESM", async () => {
      const dir = await installed();
      writeFileSync(
        join(dir, "main.cjs"),
        `const { run, sleep } = require("loopwork");
const { delay } = require("loopwork/std");
const { WorkerPool } = require("loopwork/pool");
const { PoolConnectionError } = require("loopwork/cluster");
const { pathToFileURL } = require("node:url");
(async () => {
  const v = await run(function* () { yield* sleep(1); return "cjs"; });
  await delay(1);
  const pool = new WorkerPool(pathToFileURL(__dirname + "/tasks.js"), { maxWorkers: 1 });
  try {
    console.log(v, await pool.run("fib", 20), typeof PoolConnectionError);
  } finally {
    await pool.destroy();
  }
})();
`,
      );
      const r = await exec(process.execPath, ["main.cjs"], dir);
      if ((process.features as { require_module?: boolean }).require_module === true) {
        assert.equal(ok(r, "the CommonJS consumer").stdout.trim(), "cjs 6765 function");
      } else {
        assert.match(r.stderr, /ERR_REQUIRE_ESM/);
      }
    }, 120_000);

    it("TypeScript type-checks the installed package (strict, skipLibCheck false) under nodenext, node16 and bundler resolution, every subpath has types, and a pool typed by its task module checks its calls", async () => {
      const dir = await installed();
      const pkg = JSON.parse(readFileSync(join(dir, "node_modules", "loopwork", "package.json"), "utf8")) as {
        exports: Record<string, { types?: string } | string>;
        typesVersions: Record<string, Record<string, string[]>>;
      };
      // TypeScript's node10 resolution ignores "exports": typesVersions maps each subpath to
      // the same types (without it, node10 picked the shipped pool.ts sources).
      for (const [sub, target] of Object.entries(pkg.exports)) {
        if (typeof target === "string" || sub === ".") continue;
        assert.deepEqual(pkg.typesVersions["*"]?.[sub.slice(2)], [target.types], `typesVersions maps ${sub}`);
      }
      writeFileSync(
        join(dir, "typed.ts"),
        `import { gather, run, sleep, spawn, WorkerPool as FromRoot } from "loopwork";
import { delay } from "loopwork/std";
import { WorkerPool, type TaskName } from "loopwork/pool";
import { PoolConnectionError, type RedisConnection } from "loopwork/cluster";
const v: string[] = await run(function* () {
  return yield* gather([spawn(function* () { yield* sleep(1); return "a"; })]);
});
await delay(1);
const pool: FromRoot<typeof import("./tasks.js")> = new WorkerPool<typeof import("./tasks.js")>(new URL("./tasks.js", import.meta.url));
const n: number = await pool.run("fib", 20);
// @ts-expect-error: fib takes a number
await pool.run("fib", "20");
// @ts-expect-error: no such task
await pool.run("fob", 20);
const name: TaskName<typeof import("./tasks.js")> = "fib";
const connection: RedisConnection = "redis://127.0.0.1:6379";
console.log(v, n, name, connection, PoolConnectionError.name);
await pool.destroy();
`,
      );
      for (const [module, moduleResolution] of [["nodenext", "nodenext"], ["node16", "node16"], ["esnext", "bundler"]]) {
        const config = `tsconfig.${moduleResolution}.json`;
        writeFileSync(
          join(dir, config),
          JSON.stringify({
            compilerOptions: {
              target: "ES2022", lib: ["ES2022"], module, moduleResolution, strict: true, skipLibCheck: false, noEmit: true,
              exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
              typeRoots: [join(repo, "node_modules", "@types")], types: ["node"],
            },
            files: ["typed.ts", "tasks.ts"],
          }),
        );
        ok(await exec(process.execPath, [tool.tsc, "-p", config], dir), `tsc with ${moduleResolution} resolution`);
      }
    }, 120_000);

    it("Deno type-checks and runs a consumer of the installed package (package.json, node_modules): thread and process pools on .ts and .js task modules", async () => {
      const dir = await installed();
      writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", lock: false }));
      writeFileSync(
        join(dir, "deno-main.ts"),
        `import { run, sleep, spawn } from "loopwork";
import { WorkerPool } from "loopwork/pool";
import type { RedisConnection } from "loopwork/cluster";
const connection: RedisConnection = "redis://127.0.0.1:1";
const v: string = await run(function* () {
  const t = spawn(function* () { yield* sleep(1); return "loop"; });
  return yield* t;
});
for (const file of ["./tasks.ts", "./tasks.js"]) {
  for (const kind of ["thread", "process"] as const) {
    const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL(file, import.meta.url), { maxWorkers: 1, kind });
    try {
      const n: number = await pool.run("fib", 20);
      console.log(v, file, kind, n, typeof connection);
    } finally {
      await pool.destroy();
    }
  }
}
`,
      );
      ok(await exec(tool.deno, ["check", "deno-main.ts"], dir), "deno check");
      const r = ok(await exec(tool.deno, ["run", "-A", "deno-main.ts"], dir), "deno run");
      assert.deepEqual(r.stdout.trim().split("\n"), [
        "loop ./tasks.ts thread 6765 string",
        "loop ./tasks.ts process 6765 string",
        "loop ./tasks.js thread 6765 string",
        "loop ./tasks.js process 6765 string",
      ]);
      rmSync(join(dir, "deno.json"));
    }, 120_000);

    it("esbuild: a bundle that inlines loopwork fails at new WorkerPool naming the missing worker file and the fix; with loopwork external, the bundle runs its pools", async () => {
      const dir = await installed();
      writeFileSync(
        join(dir, "app.mjs"),
        `import { run, sleep } from "loopwork";
import { WorkerPool } from "loopwork/pool";
console.log(await run(function* () { yield* sleep(1); return "loop"; }));
for (const kind of ["thread", "process"]) {
  let pool;
  try {
    pool = new WorkerPool(new URL("./tasks.js", import.meta.url), { maxWorkers: 1, kind });
    console.log(kind, await pool.run("fib", 20));
  } catch (e) {
    console.log(kind, e.message);
  } finally {
    await pool?.destroy();
  }
}
`,
      );
      const out = join(dir, "out");
      const bundle = (file: string, ...flags: string[]) =>
        exec(tool.esbuild, ["app.mjs", "--bundle", "--platform=node", "--format=esm", "--log-level=warning", `--outfile=${join(out, file)}`, ...flags], dir);
      ok(await bundle("inlined.mjs"), "esbuild (loopwork inlined)");
      ok(await bundle("external.mjs", "--packages=external"), "esbuild (packages external)");
      writeFileSync(join(out, "tasks.js"), JS_TASKS);
      const inlined = ok(await exec(process.execPath, ["inlined.mjs"], out), "the inlined bundle").stdout.trim().split("\n");
      assert.equal(inlined[0], "loop");
      for (const [i, kind] of [[1, "thread"], [2, "process"]] as const) {
        assert.match(inlined[i]!, new RegExp(`^${kind} a worker pool cannot start: .*-worker\\.js, which is not there\\. Was loopwork bundled`));
        assert.match(inlined[i]!, /--packages=external/);
      }
      // The external bundle resolves loopwork from the consumer's node_modules.
      writeFileSync(join(dir, "external.mjs"), readFileSync(join(out, "external.mjs")));
      const external = ok(await exec(process.execPath, ["external.mjs"], dir), "the external bundle");
      assert.equal(external.stdout.trim(), "loop\nthread 6765\nprocess 6765");
    }, 120_000);

    it("the installed loopwork command (npm's bin link): help, a real compare table, and bad flags, a missing module, a missing optional peer and a .ts module each named with a non-zero exit, no stack trace; Deno runs it as npm:loopwork", async () => {
      const dir = await installed();
      const bin = join(dir, "node_modules", ".bin", "loopwork");
      const loopwork = (...args: string[]) => exec(process.execPath, [bin, ...args], dir);
      const refused = (r: Ran, code: number, problem: RegExp, what: string) => {
        assert.equal(r.code, code, `${what}: exit ${r.code}:\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, problem, what);
        assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${what}: no stack trace`);
      };
      const help = ok(await loopwork("--help"), "loopwork --help").stdout;
      assert.match(help, /^usage: loopwork <command>/);
      assert.match(help, /compare .*\n.*worker /);
      const { version } = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string };
      assert.equal(ok(await loopwork("--version"), "loopwork --version").stdout.trim(), version);
      // The quickest comparison still prints a real table.
      const quick = ["--quick", "--tasks", "2", "--runs", "1", "--workers", "1", "--cpu-size", "1", "--only", "cpu", "--strategies", "sequential,threads"];
      const table = ok(await loopwork("compare", ...quick), "loopwork compare").stdout;
      assert.match(table, /║ CPU-bound │ sequential │ +│ +\d+ │/);
      assert.match(table, /║ CPU-bound │ threads +│ +1 │ +\d+ │/);
      refused(await loopwork("bogus"), 2, /unknown command "bogus"/, "an unknown command");
      refused(await loopwork("compare", "--bogus"), 2, /Unknown option '--bogus'/, "compare --bogus");
      refused(await loopwork("compare", "--tasks", "x"), 2, /--tasks must be a whole number/, "compare --tasks x");
      refused(await loopwork("compare", "--module", "./nope.js", "--task", "fib"), 2, /--module \.\/nope\.js: no such file/, "compare, a missing module");
      refused(await loopwork("worker", "--bogus"), 2, /Unknown option '--bogus'/, "worker --bogus");
      const serve = (module: string) => loopwork("worker", "--connection", "redis://127.0.0.1:1", "--queue", "q", "--module", module, "--threads", "1");
      refused(await serve("./nope.js"), 2, /the task module \S*nope\.js does not exist/, "worker, a missing module");
      // The optional peers, not installed: said before anything is measured or served.
      const noVega = await loopwork("compare", ...quick, "--out", "r.html");
      refused(noVega, 1, /needs the npm package "vega", which is not installed: npm install vega vega-lite/, "compare --out without vega");
      assert.doesNotMatch(noVega.stderr, /measuring/, "nothing measured before the missing vega is said");
      refused(await serve("./tasks.js"), 1, /needs the npm package "bullmq", which is not installed: npm install bullmq ioredis/, "worker without bullmq");
      const noBullmq = await loopwork("compare", ...quick, "--connection", "redis://127.0.0.1:1");
      refused(noBullmq, 1, /needs the npm package "bullmq", which is not installed/, "compare --connection without bullmq");
      assert.doesNotMatch(noBullmq.stderr, /measuring/, "nothing measured before the missing bullmq is said");
      // A .ts module on the command's own thread: Node 20 needs tsx, and says so.
      const strips = (process.features as { typescript?: unknown }).typescript !== undefined && (process.features as { typescript?: unknown }).typescript !== false;
      const tsCompare = ["compare", "--module", "./tasks.ts", "--task", "fib", "--args", "[10]", "--tasks", "1", "--runs", "1", "--strategies", "sequential"];
      const tsx = /--module \.\/tasks\.ts is TypeScript, which Node [\d.]+ cannot import on its own: install tsx/;
      if (strips) {
        assert.match(ok(await loopwork(...tsCompare), "compare a .ts module").stdout, /║ fib\(\) +│ sequential/);
        refused(await serve("./tasks.ts"), 1, /needs the npm package "bullmq"/, "worker, a .ts module, without bullmq");
      } else {
        refused(await loopwork(...tsCompare), 2, tsx, "compare a .ts module without tsx");
        refused(await serve("./tasks.ts"), 2, /the task module \.\/tasks\.ts is TypeScript, .*install tsx/, "worker, a .ts module, without tsx");
        symlinkSync(join(repo, "node_modules", "tsx"), join(dir, "node_modules", "tsx"), "dir");
        try {
          assert.match(ok(await loopwork(...tsCompare), "compare a .ts module with tsx").stdout, /║ fib\(\) +│ sequential/);
        } finally {
          rmSync(join(dir, "node_modules", "tsx"));
        }
      }
      // Deno: the installed package's command, as a Deno user in that folder runs it.
      const denoHelp = ok(await exec(tool.deno, ["run", "-A", "npm:loopwork", "--help"], dir), "deno run -A npm:loopwork --help");
      assert.match(denoHelp.stdout, /^usage: loopwork <command>/);
      refused(await exec(tool.deno, ["run", "-A", "npm:loopwork", "compare", "--bogus"], dir), 2, /Unknown option '--bogus'/, "deno: compare --bogus");
    }, 120_000);

    const serves = "the installed `loopwork worker` serves a bullmq pool of the consumer's .js task module on a real Redis, and stops on SIGTERM";
    if (!redisAvailable && !redisRequired) skip(`${serves} (redis-server is not installed)`);
    else it(serves, async () => {
      const dir = await installed();
      // bullmq and ioredis installed beside loopwork (as `npm install bullmq ioredis` would).
      const peers = ["bullmq", "ioredis"].map((p) => join(dir, "node_modules", p));
      for (const p of peers) symlinkSync(join(repo, "node_modules", p.split("/").pop()!), p, "dir");
      const redis = await startRedis();
      const queue = `consumer${process.pid}`;
      const bin = join(dir, "node_modules", ".bin", "loopwork");
      const worker = spawn(process.execPath, [bin, "worker", "--connection", redis.url, "--queue", queue, "--module", "./tasks.js", "--threads", "1"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      worker.stdout.on("data", (c: Buffer) => (out += c));
      worker.stderr.on("data", (c: Buffer) => (out += c));
      const exited = new Promise<number | null>((done) => worker.on("close", (code) => done(code)));
      try {
        for (let i = 0; i < 300 && !/loopwork worker: started/.test(out) && worker.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(out, /loopwork worker: started: queue "consumer\d+", 1 threads/);
        writeFileSync(
          join(dir, "cluster-client.mjs"),
          `import { WorkerPool } from "loopwork/pool";
const pool = new WorkerPool(new URL("./tasks.js", import.meta.url), { kind: "bullmq", connection: ${JSON.stringify(redis.url)}, queue: ${JSON.stringify(queue)} });
try { console.log(await pool.run("fib", 20)); } finally { await pool.destroy(); }
`,
        );
        assert.equal(ok(await exec(process.execPath, ["cluster-client.mjs"], dir), "the bullmq client").stdout.trim(), "6765");
        worker.kill("SIGTERM");
        assert.equal(await exited, 0, out);
        assert.match(out, /loopwork worker: stopped: queue/);
      } finally {
        if (worker.exitCode === null) worker.kill("SIGKILL");
        await exited;
        await redis.stop();
        for (const p of peers) rmSync(p);
      }
    }, 120_000);

    it("an ES module task file in a CommonJS package (npm init's \"type\": \"commonjs\") fails its call saying how to mark it", async () => {
      const dir = await installed();
      const app = join(dir, "cjs-app");
      mkdirSync(app);
      try {
        writeFileSync(join(app, "package.json"), JSON.stringify({ name: "cjs-app", type: "commonjs" }));
        writeFileSync(join(app, "tasks.js"), JS_TASKS);
        writeFileSync(
          join(app, "main.mjs"),
          `import { WorkerPool } from "loopwork/pool";
for (const kind of ["thread", "process"]) {
  const pool = new WorkerPool(new URL("./tasks.js", import.meta.url), { maxWorkers: 1, kind });
  await pool.run("fib", 20).then(console.log, (e) => console.log(kind, e.message)).finally(() => pool.destroy());
}
`,
        );
        const r = ok(await exec(process.execPath, ["main.mjs"], app), "the CommonJS package's program");
        const lines = r.stdout.trim().split("\n");
        assert.equal(lines.length, 2, r.stdout);
        for (const [i, kind] of ["thread", "process"].entries()) {
          assert.match(lines[i]!, new RegExp(`^${kind} cannot load the task module \\S*tasks\\.js: Unexpected token 'export': it is an ES module that Node loaded as CommonJS; add "type": "module" to the nearest package\\.json, or name it \\.mjs$`));
        }
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    }, 120_000);

    it("a .ts task module on Node: without tsx it runs where Node strips types (22.18+, 24) and elsewhere fails naming the Node and tsx; with tsx beside loopwork it runs", async () => {
      const dir = await installed();
      try {
        writeFileSync(
          join(dir, "ts-tasks.mjs"),
          `import { WorkerPool } from "loopwork/pool";
for (const kind of ["thread", "process"]) {
  const missing = new WorkerPool(new URL("./missing.ts", import.meta.url), { maxWorkers: 1, kind });
  await missing.run("fib", 1).catch((e) => console.error(kind, e.message)).finally(() => missing.destroy());
  const pool = new WorkerPool(new URL("./tasks.ts", import.meta.url), { maxWorkers: 1, kind });
  try {
    console.log(kind, await pool.run("fib", 20));
  } catch (e) {
    console.log(kind, e.message);
  } finally {
    await pool.destroy();
  }
}
`,
        );
        assert.equal(existsSync(join(dir, "node_modules", "tsx")), false, "tsx is not installed with loopwork");
        const ran = ok(await exec(process.execPath, ["ts-tasks.mjs"], dir), "without tsx");
        const without = ran.stdout.trim();
        // A .ts module that is not there says so, not "install tsx".
        for (const kind of ["thread", "process"]) {
          assert.match(ran.stderr, new RegExp(`^${kind} cannot load the task module \\S*missing\\.ts: there is no such file$`, "m"));
        }
        if ((process.features as { typescript?: unknown }).typescript) {
          assert.equal(without, "thread 6765\nprocess 6765");
        } else {
          for (const line of without.split("\n")) {
            assert.match(line, /^(thread|process) cannot load the task module .*tasks\.ts: it is TypeScript, which Node \d+\.\d+\.\d+ cannot import on its own: install tsx/);
          }
        }
        // tsx installed beside loopwork (as npm would): its workers register it.
        symlinkSync(join(repo, "node_modules", "tsx"), join(dir, "node_modules", "tsx"), "dir");
        const withTsx = ok(await exec(process.execPath, ["ts-tasks.mjs"], dir), "with tsx");
        assert.equal(withTsx.stdout.trim(), "thread 6765\nprocess 6765");
      } finally {
        // The last Node case: the installed folder goes.
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  } else {
    it("a program with no package.json or deno.json imports mod.ts and the subpaths by path, type-checks, and runs the loop, a thread pool and a process pool", async () => {
      const dir = mkdtempSync(join(tmpdir(), "loopwork-deno-consumer-"));
      try {
        writeFileSync(join(dir, "tasks.ts"), TASKS);
        const at = (f: string) => JSON.stringify(new URL(`../${f}`, import.meta.url).href);
        writeFileSync(
          join(dir, "main.ts"),
          `import { run, sleep, spawn } from ${at("mod.ts")};
import { delay } from ${at("std.ts")};
import { WorkerPool } from ${at("pool.ts")};
import type { RedisConnection } from ${at("cluster.ts")};
const connection: RedisConnection = "redis://127.0.0.1:1";
const v = await run(function* () {
  const t = spawn(function* () { yield* sleep(5); return "loop"; });
  return yield* t;
});
await delay(1);
for (const kind of ["thread", "process"] as const) {
  const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url), { maxWorkers: 1, kind });
  try {
    const n: number = await pool.run("fib", 20);
    console.log(v, kind, n, typeof connection);
  } finally {
    await pool.destroy();
  }
}
`,
        );
        assert.deepEqual(readdirSync(dir).sort(), ["main.ts", "tasks.ts"]);
        const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();
        ok(await exec(deno, ["check", "main.ts"], dir), "deno check");
        const r = ok(await exec(deno, ["run", "-A", "main.ts"], dir), "deno run");
        assert.equal(r.stdout.trim(), "loop thread 6765 string\nloop process 6765 string");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a program whose deno.json maps \"loopwork\" and its subpaths to the entry files runs a pool, and its module graph holds no npm package (tsx and esbuild are not fetched)", async () => {
      const dir = mkdtempSync(join(tmpdir(), "loopwork-deno-map-"));
      try {
        const at = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));
        writeFileSync(
          join(dir, "deno.json"),
          JSON.stringify({
            lock: false,
            imports: { loopwork: at("mod.ts"), "loopwork/std": at("std.ts"), "loopwork/pool": at("pool.ts"), "loopwork/cluster": at("cluster.ts") },
          }),
        );
        writeFileSync(join(dir, "tasks.js"), "export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n");
        writeFileSync(
          join(dir, "main.ts"),
          `import { run, sleep } from "loopwork";
import { delay } from "loopwork/std";
import { WorkerPool } from "loopwork/pool";
import type { RetryBackoff } from "loopwork/cluster";
const backoff: RetryBackoff = { type: "fixed", delay: 1 };
const v: string = await run(function* () { yield* sleep(1); return "loop"; });
await delay(1);
const pool = new WorkerPool(new URL("./tasks.js", import.meta.url), { maxWorkers: 1 });
try {
  console.log(v, await pool.run("fib", 20), backoff.type);
} finally {
  await pool.destroy();
}
`,
        );
        const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath();
        // (No `deno check`: the case above type-checks the same sources; it costs seconds.)
        const info = JSON.parse(ok(await exec(deno, ["info", "--json", "main.ts"], dir), "deno info").stdout) as {
          npmPackages: Record<string, unknown>;
        };
        assert.deepEqual(Object.keys(info.npmPackages), [], "no npm package in the graph");
        const r = ok(await exec(deno, ["run", "-A", "main.ts"], dir), "deno run");
        assert.equal(r.stdout.trim(), "loop 6765 fixed");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
