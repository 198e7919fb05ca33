/**
 * The module a pool worker loads first: the worker entry of its backend
 * (src/pool/worker/thread-worker or tinypool-worker), which imports the task module lazily.
 * Kept apart from the backends so that each finds its entry without loading the other.
 * @module
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isDeno } from "../packages.ts";
import { checkWorkerPermissions } from "../permissions.ts";

/** @internal Which backend's worker entry: the own thread backend's, or tinypool's. */
export type WorkerEntryKind = "thread" | "tinypool";

const workerEntries = new Map<WorkerEntryKind, string>();

/** The URL of the worker entry of the backend `kind` beside this file ("" if none), and its file name. */
function entryModule(kind: WorkerEntryKind): { module: string; file: string; fromSource: boolean } {
  const here = (import.meta as { url?: string }).url ?? "";
  const fromSource = here.endsWith(".ts");
  const file = `${kind === "thread" ? "thread-worker" : "tinypool-worker"}.${fromSource ? "ts" : "js"}`;
  return { module: URL.canParse(file, here) ? new URL(file, here).href : "", file, fromSource };
}

/**
 * @internal Checks, when a pool is made, that the workers of the backend `kind` can start:
 * under Deno, that it grants them the permissions they need (a process pool's, with
 * `processes`); then that their entry file is there (see `workerEntryUrl`).
 *
 * @throws {Error} naming the Deno permissions missing, or the worker file missing
 */
export function checkWorkerStart(kind: WorkerEntryKind, processes: boolean): void {
  if (isDeno) checkWorkerPermissions(entryModule(kind).module, processes, kind === "tinypool");
  workerEntryUrl(kind);
}

/**
 * @internal The module the backend `kind` loads in each worker (thread-worker.ts or
 * tinypool-worker.ts). Built to JavaScript (dist/), or run by Deno, it is that module itself.
 * Run from the TypeScript sources on Node, it is a tiny `data:` module that registers tsx
 * first, since Node 20 cannot import a `.ts` file on its own.
 *
 * @throws {Error} when that module is not a file beside this one: loopwork was bundled
 *   into one file, and its workers have nothing to load (the message says what to do)
 */
export function workerEntryUrl(kind: WorkerEntryKind): string {
  const known = workerEntries.get(kind);
  if (known !== undefined) return known;
  const { module, file, fromSource } = entryModule(kind);
  if (module === "" || (module.startsWith("file:") && !existsSync(fileURLToPath(module)))) {
    throw new Error(
      `a worker pool cannot start: its workers load loopwork's file ${module === "" ? file : fileURLToPath(module)}, ` +
        "which is not there. Was loopwork bundled into one file? Keep it out of the bundle " +
        "(esbuild --external:loopwork or --packages=external) and install it beside the bundle",
    );
  }
  let url = module;
  if (isDeno && !/^(file|data):/.test(module)) {
    // Served over the network (JSR, a URL import): Deno's worker threads take only file: and
    // data: URLs, so the worker starts on a data: module that imports the entry from there.
    url = `data:text/javascript,${encodeURIComponent(
      kind === "tinypool"
        ? `const entry = await import(${JSON.stringify(module)});\nexport default entry.default;\n`
        : `await import(${JSON.stringify(module)});\n`,
    )}`;
  } else if (!isDeno && fromSource) {
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
