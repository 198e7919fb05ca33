/**
 * Every public name of every entry point has a JSDoc comment with an `@example`: read from
 * `deno doc --json`, which sees what a reader of the package (or JSR) sees.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "./harness.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ??
  fileURLToPath(new URL("../node_modules/deno/deno", import.meta.url));

interface DocSymbol {
  name: string;
  declarations?: Array<{ jsDoc?: { tags?: Array<{ kind: string }> } }>;
}

function docOf(entry: string): Promise<DocSymbol[]> {
  return new Promise((resolve, reject) => {
    execFile(deno, ["doc", "--json", entry], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`deno doc ${entry} failed: ${stderr || err.message}`));
      const nodes = (JSON.parse(stdout) as { nodes: Record<string, { symbols?: DocSymbol[] }> }).nodes;
      resolve(Object.values(nodes)[0]?.symbols ?? []);
    });
  });
}

describe("documentation", () => {
  for (const entry of ["mod.ts", "std.ts", "pool.ts", "cluster.ts"]) {
    it(`every public name of ${entry} has JSDoc with an @example`, async () => {
      const symbols = await docOf(entry);
      assert.ok(symbols.length > 3, `deno doc found ${symbols.length} symbols in ${entry}`);
      const missing = symbols
        .filter((s) => !(s.declarations ?? []).some((d) => (d.jsDoc?.tags ?? []).some((t) => t.kind === "example")))
        .map((s) => s.name);
      assert.deepEqual(missing, [], `${entry}: public names without an @example`);
    }, 120_000);
  }
});
