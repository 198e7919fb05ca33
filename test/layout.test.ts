/**
 * The layers stay visible (README, "Architecture"): these checks read the source tree as
 * text, so a change that reaches across a boundary fails here with the file and line.
 * - the folders of src/ import each other only down the layers: core; structured, sync,
 *   std on core; inspect on core and structured; pool on core; cluster on pool; tools on anything;
 * - src/core imports nothing outside src/core, and the rest imports it only through
 *   src/core/index.ts;
 * - outside src/core, nothing writes a future's state or value, or walks its callback
 *   slots (the core offers methods for what the other layers need);
 * - every option that is a duration ends in `Ms`, except names kept for compatibility
 *   with asyncio, @std/async, BullMQ or tinypool;
 * - no file in src/ names an issue or promises work for later.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { describe, it } from "./harness.ts";

const root = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const files = sources("src").map((f) => ({ file: f.replaceAll("\\", "/"), text: readFileSync(join(root, f), "utf8") }));

function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s*"(\.[^"]+)"|import\("(\.[^"]+)"\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

function where(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

describe("layout", () => {
  it("reads the whole source tree", () => {
    assert.ok(files.length > 60, `only ${files.length} files found under src/`);
    assert.ok(files.some((f) => f.file === "src/core/loop.ts"));
  });

  it("folders import each other only down the layers", () => {
    const allowed: Record<string, readonly string[]> = {
      core: [],
      structured: ["core"],
      sync: ["core"],
      std: ["core"],
      inspect: ["core", "structured"],
      pool: ["core"],
      cluster: ["core", "pool"],
      tools: ["core", "structured", "sync", "std", "inspect", "pool", "cluster"],
    };
    const bad: string[] = [];
    for (const { file, text } of files) {
      const from = file.split("/")[1]!;
      for (const spec of importsOf(text)) {
        const target = relative(root, join(root, dirname(file), spec)).replaceAll("\\", "/");
        const to = target.split("/")[1]!;
        if (!target.startsWith("src/") || to === from) continue;
        if (!(from in allowed)) bad.push(`${file}: folder src/${from} is not in the layer table`);
        else if (!allowed[from]!.includes(to)) bad.push(`${file} (src/${from}) imports ${target} (src/${to})`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("src/core imports nothing outside src/core", () => {
    const bad: string[] = [];
    for (const { file, text } of files) {
      if (!file.startsWith("src/core/")) continue;
      for (const spec of importsOf(text)) {
        const target = relative(root, join(root, dirname(file), spec)).replaceAll("\\", "/");
        if (!target.startsWith("src/core/")) bad.push(`${file} imports ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("outside src/core, the core is imported only through src/core/index.ts", () => {
    const bad: string[] = [];
    for (const { file, text } of files) {
      if (file.startsWith("src/core/")) continue;
      for (const spec of importsOf(text)) {
        const target = relative(root, join(root, dirname(file), spec)).replaceAll("\\", "/");
        if (target.startsWith("src/core/") && target !== "src/core/index.ts") bad.push(`${file} imports ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("outside src/core nothing writes a future's state or walks its callbacks", () => {
    const bad: string[] = [];
    const rule = /\b(?!this\b)\w+\._(?:state|value)\s*=(?!=)|\._cb0\b|\._cbs\b/g;
    for (const { file, text } of files) {
      if (file.startsWith("src/core/")) continue;
      for (const m of text.matchAll(rule)) bad.push(`${file}:${where(text, m.index!)}: ${m[0]}`);
    }
    assert.deepEqual(bad, []);
  });

  it("durations are named …Ms, but for compatibility names", () => {
    const compatible = new Set(["interval", "maxTimeout", "minTimeout", "timeout", "delay", "idleTimeout", "timeframe"]);
    const bad: string[] = [];
    const rule = /^\s*(?:readonly\s+)?(\w*(?:[Tt]imeout|[Dd]elay|[Ii]nterval|[Gg]race|[Tt]ime|[Ee]very|[Aa]fter)\w*)\??:\s*number\b/gm;
    for (const { file, text } of files) {
      for (const m of text.matchAll(rule)) {
        const name = m[1]!;
        if (name.endsWith("Ms") || compatible.has(name)) continue;
        bad.push(`${file}:${where(text, m.index!)}: ${name}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it("no file in src/ names an issue or promises work for later", () => {
    const bad: string[] = [];
    const rule = /\bissue \d+\b(?! *:)|\bLater:|\bin later modules\b|\bno commands yet\b|\bTODO\b|\bFIXME\b/g;
    for (const { file, text } of files) {
      for (const m of text.matchAll(rule)) bad.push(`${file}:${where(text, m.index!)}: ${m[0]}`);
    }
    assert.deepEqual(bad, []);
  });
});
