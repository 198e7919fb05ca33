import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "./harness.ts";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

function loopwork(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, argv] = deno
    ? [deno.execPath(), ["run", "-A", cli, ...args]]
    : [process.execPath, ["--import", "tsx", cli, ...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("loopwork command line", () => {
  it("--version prints the package version", async () => {
    const { readFileSync } = await import("node:fs");
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const r = await loopwork("--version");
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("an unknown command exits 2 and names it", async () => {
    const r = await loopwork("frobnicate");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /usage: loopwork <command>/);
  });

  it("--help prints the usage and exits 0", async () => {
    const r = await loopwork("--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: loopwork <command>/);
  });
});
