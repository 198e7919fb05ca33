/**
 * The README's "Errors" table is the one place that lists every error loopwork throws: this
 * test fails when an entry point exports an error class the table does not name, or the
 * table names one that no entry point exports.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "./harness.ts";
import * as main from "../mod.ts";
import * as std from "../std.ts";
import * as pool from "../pool.ts";
import * as cluster from "../cluster.ts";

function errorClasses(mod: Record<string, unknown>): string[] {
  return Object.entries(mod)
    .filter(([, v]) => typeof v === "function" && (v as { prototype?: unknown }).prototype instanceof Error)
    .map(([k]) => k);
}

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("\n## Errors\n"), readme.indexOf("\n## ", readme.indexOf("\n## Errors\n") + 1));
const listed = new Set([...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((n) => n[1]!)));

describe("the errors table", () => {
  const exported = new Set([main, std, pool, cluster].flatMap((m) => errorClasses(m as Record<string, unknown>)));

  it("finds the section and the exported errors", () => {
    assert.ok(section.length > 200, "README has an Errors section");
    assert.ok(exported.has("CancelledError") && exported.has("WorkerCrashedError"), [...exported].join(", "));
  });

  it("names every exported error class, and only those", () => {
    assert.deepEqual([...exported].filter((n) => !listed.has(n)).sort(), [], "exported but not in the README's Errors table");
    assert.deepEqual([...listed].filter((n) => !exported.has(n)).sort(), [], "in the table but not exported");
  });

  it("names follow the rule: …Error, but asyncio's queue names", () => {
    const asyncio = new Set(["QueueFull", "QueueEmpty", "QueueShutDown"]);
    assert.deepEqual([...exported].filter((n) => !n.endsWith("Error") && !asyncio.has(n)), []);
  });
});
