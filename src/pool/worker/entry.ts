/**
 * The module every pool worker loads first: src/pool/worker/runtime, which imports the task module
 * lazily. Kept apart from the backends so that each finds it without loading the other.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeno } from "../packages.ts";

let workerEntry: string | undefined;

/**
 * @internal The module tinypool (or the own thread backend) loads in each worker. Built to
 * JavaScript (dist/), or run by Deno, it is src/pool/worker/runtime itself. Run from the TypeScript
 * sources on Node, it is a tiny `data:` module that registers tsx first, since Node 20
 * cannot import a `.ts` file on its own.
 */
export function workerEntryUrl(): string {
  if (workerEntry !== undefined) return workerEntry;
  const fromSource = import.meta.url.endsWith(".ts");
  const runtime = new URL(`./runtime.${fromSource ? "ts" : "js"}`, import.meta.url).href;
  if (isDeno || !fromSource) return (workerEntry = runtime);
  const tsxDir = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const tsxApi = pathToFileURL(join(tsxDir, "dist/esm/api/index.mjs")).href;
  const source =
    `const { register } = await import(${JSON.stringify(tsxApi)});\n` +
    `if (globalThis.__loopworkTsx !== true) { register(); globalThis.__loopworkTsx = true; }\n` +
    `const runtime = await import(${JSON.stringify(runtime)});\n` +
    `export default runtime.default;\n`;
  return (workerEntry = `data:text/javascript,${encodeURIComponent(source)}`);
}

