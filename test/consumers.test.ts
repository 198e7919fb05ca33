// The package from outside the repo, as its users meet it. On Node: the packed tarball installed
// by name into a fresh folder (its subpaths resolve; the loop alone installs no Redis client;
// the "bullmq" kind without bullmq fails with a message saying what to install). On Deno: a
// program in a folder with no package.json and no deno.json importing mod.ts and the subpath
// entries by path, running the loop, a thread pool and a process pool on a TypeScript task module.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it, runtime } from "./harness.ts";

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

describe(`loopwork from a folder outside the repo (${runtime})`, () => {
  if (runtime === "node") {
    it("the packed tarball installs by name: its subpaths work, the loop alone needs no Redis client, and the bullmq kind names its missing peer", async () => {
      const dir = mkdtempSync(join(tmpdir(), "loopwork-consumer-"));
      try {
        const packed = ok(await exec("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", dir], repo), "npm pack");
        const tarball = packed.stdout.trim().split("\n").pop()!;
        writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
        ok(await exec("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", `./${tarball}`], dir), "npm install");
        // A bullmq-free install: the optional peer is not installed, nor its Redis client.
        assert.equal(existsSync(join(dir, "node_modules", "bullmq")), false, "bullmq is not installed with loopwork");
        assert.equal(existsSync(join(dir, "node_modules", "ioredis")), false, "ioredis is not installed with loopwork");
        // The files the packed README links to are in the package.
        for (const f of ["README.md", "BENCHMARKS.md", "docs/compare.svg", "examples/README.md"]) {
          assert.ok(existsSync(join(dir, "node_modules", "loopwork", f)), `${f} is in the package`);
        }
        writeFileSync(join(dir, "tasks.js"), "export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n");
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
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
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
  }
});
