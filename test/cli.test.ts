import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "./harness.ts";
import { runProgram } from "./subprocess.ts";

const cli = fileURLToPath(new URL("../src/tools/cli.ts", import.meta.url));
const loopwork = (...args: string[]) => runProgram(cli, args);


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
