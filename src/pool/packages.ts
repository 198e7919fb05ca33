/**
 * The npm packages a pool loads: lazily, when a pool first needs one, so importing loopwork
 * loads none of them, and under Deno as `npm:` specifiers, so a program that imports
 * loopwork by path or URL (with no package.json and no deno.json) finds them too. A missing
 * optional package fails with a message saying what to install.
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BullmqModule, TinypoolModule } from "./package-types.ts";

/** @internal Whether this runs under Deno (the pool and its workers choose by it). */
export const isDeno: boolean = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * Whether loopwork itself was loaded from a node_modules folder (the npm package, run by
 * Deno from a package.json project): there Deno loads it as Node code, whose child
 * processes cannot import `npm:` specifiers (ERR_UNSUPPORTED_ESM_URL_SCHEME), and the bare
 * name finds the dependency npm installed beside it.
 */
const fromNodeModules: boolean = (import.meta as { url?: string }).url?.includes("/node_modules/") === true;

/** The version ranges loopwork is tested with (package.json says the same). */
const RANGES = { tinypool: "^2.2.0", bullmq: "^6.7.0", ioredis: "^6.0.0", vega: "^6.4.0", "vega-lite": "^6.4.3" } as const;

/**
 * @internal The `code` of the error a missing optional package fails with: a setting to fix,
 * not a bug (the command line prints its message alone).
 */
export const MISSING_PACKAGE = "ERR_LOOPWORK_MISSING_PACKAGE";

/** Whether `e` says the package `name` itself could not be found (not one of its imports). */
function isMissing(e: unknown, name: string): boolean {
  if (e === null || typeof e !== "object") return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof message !== "string" || !message.includes(name)) return false;
  return code === "ERR_MODULE_NOT_FOUND" || /not found|cannot find|could not find/i.test(message);
}

/**
 * @internal Imports the npm package `name` (one loopwork knows the range of); if it is not
 * installed, fails with an error saying that `why` needs it and what to install.
 */
export function loadPackage<M>(name: keyof typeof RANGES, why: string, install: string = name): Promise<M> {
  // A variable specifier: Node resolves the bare name from node_modules; Deno fetches the
  // npm package itself, which needs no package.json or import map beside the program.
  const specifier = isDeno && !fromNodeModules ? `npm:${name}@${RANGES[name]}` : name;
  return (import(specifier) as Promise<M>).catch((e: unknown) => {
    if (!isMissing(e, name)) throw e;
    throw Object.assign(new Error(`${why} needs the npm package "${name}", which is not installed: npm install ${install}`, {
      cause: e,
    }), { code: MISSING_PACKAGE });
  });
}

let tinypool: Promise<TinypoolModule> | undefined;
let bullmq: Promise<unknown> | undefined;

/** @internal tinypool: process pools, and thread pools with `backend: "tinypool"`. */
export function loadTinypool(): Promise<TinypoolModule> {
  return (tinypool ??= loadPackage<TinypoolModule>("tinypool", "a thread or process pool"));
}

/**
 * @internal bullmq (with ioredis), optional peer dependencies: the `"bullmq"` kind and `loopwork worker`
 * (which reads it as `typeof import("bullmq")`: the CLI is not part of the library's graph).
 */
export function loadBullmq<M = BullmqModule>(): Promise<M> {
  // bullmq 6 loads ioredis, its own optional peer, when it connects. Fetched by Deno as an
  // `npm:` specifier, bullmq finds it only if ioredis is loaded first: Deno then resolves
  // bullmq with its peer (without, bullmq says "could not load the optional 'ioredis'").
  const why = 'a pool of kind "bullmq" (and `loopwork worker`)';
  return (bullmq ??= (isDeno && !fromNodeModules ? loadPackage<unknown>("ioredis", why, "bullmq ioredis") : Promise.resolve())
    .then(() => loadPackage<unknown>("bullmq", why, "bullmq ioredis"))) as Promise<M>;
}

let tsxRegistered: Promise<void> | null = null;

/**
 * @internal Registers tsx's loader in this thread, once, so Node 20 can import TypeScript.
 * Rejects where tsx is not installed (and tries again when asked again). A variable
 * specifier: Deno never needs tsx, and a literal one would put tsx and esbuild in every Deno
 * program's module graph (downloaded on its first run or check).
 */
export function registerTsx(): Promise<void> {
  if ((globalThis as { __loopworkTsx?: boolean }).__loopworkTsx === true) return Promise.resolve();
  const tsxApi = "tsx/esm/api";
  return (tsxRegistered ??= (import(tsxApi) as Promise<{ register: () => unknown }>).then(
    (api) => {
      api.register();
      (globalThis as { __loopworkTsx?: boolean }).__loopworkTsx = true;
    },
    (e: unknown) => {
      tsxRegistered = null;
      throw e;
    },
  ));
}

/**
 * @internal Why a task module could not be loaded, from the import's error: a `file:` module
 * that is not there says so (not "install tsx" for a `.ts` one, nor Node's "imported from"
 * loopwork's own file), and a `.ts` one whose compiled `.js` is there names it; an ES module that Node read as CommonJS (a `.js` file without
 * `"type": "module"`) says how to mark it; for a TypeScript module that this process's Node
 * cannot import (Node 20 with no loader registered: the inline kind and a `"bullmq"` pool
 * import the module in the caller's own thread), the reason also says what to do, since
 * "Unknown file extension" alone does not.
 */
export function loadFailure(url: string, e: unknown): string {
  const reason = e instanceof Error ? e.message : String(e);
  if (url.startsWith("file:")) {
    try {
      const path = fileURLToPath(url);
      if (!existsSync(path)) {
        // A program compiled by tsc still names its .ts task module, which sits elsewhere.
        const compiled = /\.([mc]?)ts$/.test(path) ? path.replace(/\.([mc]?)ts$/, ".$1js") : null;
        return compiled !== null && existsSync(compiled)
          ? `there is no such file, but there is ${compiled}: a compiled program names its task module as compiled (.js)`
          : "there is no such file";
      }
    } catch {
      // (Not readable here, as under Deno without --allow-read: the import's reason says so.)
    }
  }
  if (e instanceof SyntaxError && /\.js$/i.test(url) && /Unexpected token 'export'|Cannot use import statement outside a module/.test(reason)) {
    return `${reason}: it is an ES module that Node loaded as CommonJS; add "type": "module" to the nearest ` +
      "package.json, or name it .mjs";
  }
  if ((e as { code?: unknown } | null)?.code !== "ERR_UNKNOWN_FILE_EXTENSION" || !/\.[mc]?tsx?$/i.test(url)) {
    return reason;
  }
  return `${reason}: Node ${process.versions.node} cannot import TypeScript on its own, and this module is ` +
    "imported in your program's own thread; start the program with tsx (node --import tsx …), use Node 22.18 " +
    "or later, or point the pool at compiled JavaScript";
}
