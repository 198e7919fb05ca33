/**
 * The module a pool worker loads first: the worker entry of its backend
 * (src/pool/worker/thread-worker or tinypool-worker), which imports the task module lazily.
 * Kept apart from the backends so that each finds its entry without loading the other.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeno } from "../packages.ts";

/** @internal Which backend's worker entry: the own thread backend's, or tinypool's. */
export type WorkerEntryKind = "thread" | "tinypool";

const workerEntries = new Map<WorkerEntryKind, string>();

/**
 * @internal The module the backend `kind` loads in each worker (thread-worker.ts or
 * tinypool-worker.ts). Built to JavaScript (dist/), or run by Deno, it is that module itself.
 * Run from the TypeScript sources on Node, it is a tiny `data:` module that registers tsx
 * first, since Node 20 cannot import a `.ts` file on its own.
 */
export function workerEntryUrl(kind: WorkerEntryKind): string {
  const known = workerEntries.get(kind);
  if (known !== undefined) return known;
  const fromSource = import.meta.url.endsWith(".ts");
  const file = kind === "thread" ? "thread-worker" : "tinypool-worker";
  const module = new URL(`./${file}.${fromSource ? "ts" : "js"}`, import.meta.url).href;
  let url = module;
  if (!isDeno && fromSource) {
    const tsxDir = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
    const tsxApi = pathToFileURL(join(tsxDir, "dist/esm/api/index.mjs")).href;
    const source =
      `const { register } = await import(${JSON.stringify(tsxApi)});\n` +
      `if (globalThis.__loopworkTsx !== true) { register(); globalThis.__loopworkTsx = true; }\n` +
      (kind === "tinypool"
        ? `const entry = await import(${JSON.stringify(module)});\nexport default entry.default;\n`
        : `await import(${JSON.stringify(module)});\n`);
    url = `data:text/javascript,${encodeURIComponent(source)}`;
  }
  workerEntries.set(kind, url);
  return url;
}
