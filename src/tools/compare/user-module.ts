/**
 * The user's own workload for `loopwork compare --module ./tasks.ts --task name`: load the
 * module, check the task and its arguments before anything is measured, and say what is
 * wrong in one sentence that names it (the command exits 2 with that sentence).
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { findUnsendable, safeString } from "../../pool/protocol.ts";
import type { ModuleExports, Workload } from "./strategies.ts";
import { allowTypeScript } from "../typescript.ts";

/**
 * Bad input found while preparing or running the user's workload: a missing module, an
 * unknown task, arguments that cannot cross to a worker, a task that throws. The command
 * prints its message (no stack) and exits 2.
 *
 * @example
 * ```ts
 * import { CompareInputError } from "./user-module.ts";
 *
 * const e = new CompareInputError('--task "resiz": ./tasks.ts exports no function of that name');
 * console.log(e.name); // "CompareInputError"
 * ```
 */
export class CompareInputError extends Error {
  /** Creates the error; the message names the input at fault. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CompareInputError";
  }
}

/** Where the user's workload comes from, as given on the command line. */
export interface UserWorkloadSpec {
  /** The task module's path, as typed (relative to the working directory). */
  module: string;
  /** The exported function to call. */
  task: string;
  /** JSON text of one call's arguments (an array); the same for every call. */
  args?: string;
  /** A module whose default export (or `args` export) makes call i's arguments: `(i) => [...]`. */
  argsModule?: string;
  /** `wait,compute`: the two halves for loop+threads. */
  hybrid?: [string, string];
  /** How many calls. */
  tasks: number;
}

const EXTENSIONS = [".js", ".mjs", ".ts", ".mts"];

/** Reads `o[key]`; undefined when the read throws (a hostile getter or Proxy). */
function field(o: unknown, key: string): unknown {
  try {
    return (o as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * The first line of what was thrown: an error's message, or the value as text. Never throws,
 * whatever was thrown (a null-prototype object, a throwing getter or toString, a symbol).
 */
function firstLine(e: unknown): string {
  let text: string;
  try {
    const message = e instanceof Error ? field(e, "message") : undefined;
    text = typeof message === "string" ? message : safeString(e);
  } catch {
    text = safeString(e); // `instanceof` itself can throw (a revoked Proxy)
  }
  return text.split("\n", 1)[0]!.trim();
}

async function load(option: string, path: string): Promise<{ url: URL; exports: ModuleExports }> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new CompareInputError(`${option} ${path}: no such file (looked for ${abs})`);
  if (!statSync(abs).isFile()) throw new CompareInputError(`${option} ${path}: not a file`);
  const ext = extname(abs).toLowerCase();
  if (!EXTENSIONS.includes(ext)) {
    throw new CompareInputError(`${option} ${path}: a task module is a ${EXTENSIONS.join(", ")} file, got "${ext || "no extension"}"`);
  }
  const url = pathToFileURL(abs);
  const typescript = await allowTypeScript(path);
  if (typescript !== undefined) throw new CompareInputError(`${option} ${typescript}`);
  try {
    return { url, exports: (await import(url.href)) as ModuleExports };
  } catch (e) {
    throw new CompareInputError(`${option} ${path} could not be loaded: ${firstLine(e)}`);
  }
}

function exportedFunction(option: string, path: string, exports: ModuleExports, name: string): void {
  if (typeof exports[name] === "function") return;
  const names = Object.keys(exports).filter((k) => typeof exports[k] === "function").sort();
  throw new CompareInputError(
    `${option} ${JSON.stringify(name)}: ${path} exports no function of that name ` +
      `(${names.length === 0 ? "it exports no functions" : `its functions: ${names.join(", ")}`})`,
  );
}

function checkArgs(where: string, args: unknown): unknown[] {
  if (!Array.isArray(args)) {
    throw new CompareInputError(`${where} must be an array of the call's arguments, got ${describe(args)}`);
  }
  const bad = findUnsendable(args, { left: 100_000 }, "the arguments");
  if (bad !== undefined) throw new CompareInputError(`${where} cannot be sent to a worker: ${bad}`);
  return args;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === "object" ? `an object` : `the ${typeof v} ${String(v)}`;
}

async function callArgs(spec: UserWorkloadSpec): Promise<unknown[][]> {
  if (spec.argsModule !== undefined) {
    const { exports } = await load("--args-module", spec.argsModule);
    const make = typeof exports.default === "function" ? exports.default : exports.args;
    if (typeof make !== "function") {
      throw new CompareInputError(
        `--args-module ${spec.argsModule}: export a function (default, or named "args") that returns call i's arguments`,
      );
    }
    const out: unknown[][] = [];
    for (let i = 0; i < spec.tasks; i++) {
      let args: unknown;
      try {
        args = await (make as (i: number) => unknown)(i);
      } catch (e) {
        throw new CompareInputError(`--args-module ${spec.argsModule}: making call ${i}'s arguments threw: ${firstLine(e)}`);
      }
      out.push(checkArgs(`--args-module ${spec.argsModule}: call ${i}'s arguments`, args));
    }
    return out;
  }
  let args: unknown = [];
  if (spec.args !== undefined) {
    try {
      args = JSON.parse(spec.args);
    } catch (e) {
      throw new CompareInputError(`--args is not valid JSON (${firstLine(e)}): ${spec.args}`);
    }
  }
  const checked = checkArgs("--args", args);
  return Array.from({ length: spec.tasks }, () => checked);
}

/**
 * Loads the user's module and arguments and checks them: the module exists and loads, the
 * task (and the hybrid halves) are exported functions, every call's arguments can cross to
 * a worker. Throws CompareInputError naming the problem.
 */
export async function userWorkload(spec: UserWorkloadSpec): Promise<Workload> {
  const { url, exports } = await load("--module", spec.module);
  exportedFunction("--task", spec.module, exports, spec.task);
  if (spec.hybrid !== undefined) {
    for (const half of spec.hybrid) exportedFunction("--hybrid", spec.module, exports, half);
  }
  return {
    name: spec.task,
    title: `${spec.task}()`,
    exports,
    moduleUrl: url,
    task: spec.task,
    calls: await callArgs(spec),
    ...(spec.hybrid !== undefined ? { hybrid: { wait: spec.hybrid[0], compute: spec.hybrid[1] } } : {}),
    builtin: false,
  };
}

/** Wraps a failure of the user's task under `strategy` into a message that names the task. */
export function taskFailed(w: Workload, strategy: string, e: unknown): CompareInputError {
  let name = "";
  try {
    const n = e instanceof Error ? field(e, "name") : undefined;
    if (typeof n === "string" && n !== "Error") name = `${n}: `;
  } catch {
    // no name can be read: the message alone
  }
  return new CompareInputError(`task ${JSON.stringify(w.task)} of ${w.moduleUrl.pathname.split("/").pop()} failed under ${strategy}: ${name}${firstLine(e)}`, { cause: e });
}
