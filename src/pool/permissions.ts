/**
 * The Deno permissions a pool's workers need, checked when the pool is made: a thread pool
 * reads loopwork's worker file (`--allow-read`); a process pool also starts `deno` child
 * processes (`--allow-run`) and reads `NODE_V8_COVERAGE` as it starts one (`--allow-env`);
 * tinypool's threads read `PISCINA_DISABLE_ATOMICS` (`--allow-env`). A `"bullmq"` pool, and
 * `loopwork worker`, need theirs too (see `checkBullmqPermissions`). Without them, Deno would refuse deep inside a worker's start, one permission at a time:
 * as a crash of a worker that never ran, as an exception thrown out of tinypool (a process
 * pool lacking `--allow-run`), or as an uncaught error in a worker that ends the program
 * (tinypool's threads lacking `--allow-env`); here the pool says at `new WorkerPool` every
 * flag it lacks.
 * @module
 */
import { fileURLToPath } from "node:url";
import { connectionOptions } from "./backends/bullmq-wire.ts";
import type { BullmqConnection } from "./package-types.ts";

type PermissionDescriptor =
  | { name: "read"; path: string }
  | { name: "run"; command: string }
  | { name: "env"; variable?: string }
  | { name: "net"; host: string }
  | { name: "sys"; kind: "hostname" };

interface DenoPermissions {
  permissions: {
    querySync(d: PermissionDescriptor): { state: "granted" | "prompt" | "denied" };
    requestSync(d: PermissionDescriptor): { state: "granted" | "prompt" | "denied" };
  };
  execPath(): string;
  errors?: { NotCapable?: new (message: string) => Error };
}

/** One permission: its flag, what it is for, and what Deno is asked. */
type Need = [flag: string, why: string, d: PermissionDescriptor];

/** Whether Deno grants `d`: asked for (a prompt, in a terminal) where it may still be. */
function granted(deno: DenoPermissions, d: PermissionDescriptor): boolean {
  const { state } = deno.permissions.querySync(d);
  return state === "granted" || (state === "prompt" && deno.permissions.requestSync(d).state === "granted");
}

/** Deno, where it can tell its permissions; undefined on Node. */
function denoPermissions(): DenoPermissions | undefined {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  return deno?.permissions?.querySync === undefined ? undefined : deno;
}

/**
 * Throws Deno's NotCapable unless it grants each of `needs`: "`cannot`: Deno has not granted
 * <each flag missing, and why>: run again with <`flags`> (or -A)".
 */
function demand(deno: DenoPermissions, cannot: string, needs: readonly Need[], flags = needs.map(([flag]) => flag)): void {
  const missing = needs.filter(([, , d]) => !granted(deno, d));
  if (missing.length === 0) return;
  // Deno's own class for a permission not granted (an Error where there is none).
  const NotCapable = deno.errors?.NotCapable ?? Error;
  throw new NotCapable(
    `${cannot}: Deno has not granted ` +
      missing.map(([flag, why]) => `${flag} (${why})`).join(", ").replace(/, (?=[^,]*$)/, " or ") +
      `: run again with ${[...new Set(flags)].join(" ")} (or -A)`,
  );
}

/**
 * @internal Under Deno, throws unless the workers of a thread or process pool (`processes`)
 * on the own or tinypool backend (`tinypool`), whose entry module is `entry`, have the
 * permissions they need; the message names each flag missing and the whole set to run with.
 * Does nothing on Node.
 *
 * @throws {Deno.errors.NotCapable} when Deno has not granted a permission the pool's workers need
 */
export function checkWorkerPermissions(entry: string, processes: boolean, tinypool: boolean): void {
  const deno = denoPermissions();
  if (deno === undefined) return;
  const needs: Need[] = [];
  if (entry.startsWith("file:")) {
    const file = fileURLToPath(entry);
    needs.push(["--allow-read", `to load loopwork's worker file ${file} and your task module`, { name: "read", path: file }]);
  }
  if (processes) {
    const executable = deno.execPath();
    needs.push(["--allow-run", `to start ${executable} for each worker process`, { name: "run", command: executable }]);
    needs.push(["--allow-env", "to read NODE_V8_COVERAGE as a worker process starts", { name: "env", variable: "NODE_V8_COVERAGE" }]);
  } else if (tinypool) {
    needs.push(["--allow-env", "for tinypool's threads to read PISCINA_DISABLE_ATOMICS", { name: "env", variable: "PISCINA_DISABLE_ATOMICS" }]);
  }
  // --allow-read is said first, for the task module, wherever loopwork's worker file is.
  demand(deno, `a ${processes ? "process" : "thread"} pool cannot start`, needs, ["--allow-read", ...needs.map(([flag]) => flag)]);
}

/**
 * @internal Under Deno, throws unless a `"bullmq"` pool (or, with `serving`, `loopwork
 * worker`) has the permissions it needs to reach Redis at `connection` (a URL or BullMQ's
 * connection options) with the task module `module`: `--allow-read` for the module (its identity
 * is read from the file), `--allow-net` for Redis (or its sentinels), `--allow-env` for the whole environment
 * (ioredis's `debug` lists it as it loads), and a worker `--allow-sys` for the host name it
 * goes by. Without them Deno refuses one at a time, deep in the first call or in the
 * connection attempt. Does nothing on Node.
 *
 * @throws {Deno.errors.NotCapable} naming every flag missing
 */
export function checkBullmqPermissions(connection: string | BullmqConnection, module: string | null, serving: boolean): void {
  const deno = denoPermissions();
  if (deno === undefined) return;
  let where: { host?: unknown; port?: unknown; path?: unknown; sentinels?: unknown } = {};
  try {
    where = connectionOptions(connection, 0);
  } catch {
    // A bad URL: the connection says so.
  }
  const needs: Need[] = [];
  if (module?.startsWith("file:") === true) {
    const file = fileURLToPath(module);
    needs.push(["--allow-read", `to read your task module ${file}`, { name: "read", path: file }]);
  }
  // ioredis's defaults. A Unix socket (`path`) is a file, not the network; through Redis
  // Sentinel, the sentinels are reached first (the server they name is known only then).
  const net = (what: string, h: { host?: unknown; port?: unknown }, port: number): void => {
    const name = typeof h.host === "string" ? h.host : "localhost";
    const host = `${name.includes(":") ? `[${name}]` : name}:${typeof h.port === "number" ? h.port : port}`;
    needs.push(["--allow-net", `to reach ${what} at ${host}`, { name: "net", host }]);
  };
  if (Array.isArray(where.sentinels)) {
    for (const s of where.sentinels) if (s !== null && typeof s === "object") net("Redis Sentinel", s as { host?: unknown; port?: unknown }, 26379);
  } else if (where.path === undefined) {
    net("Redis", where, 6379);
  }
  needs.push(["--allow-env", "for ioredis's logger to read the whole environment as it loads", { name: "env" }]);
  if (serving) needs.push(["--allow-sys", "to name this worker by its host", { name: "sys", kind: "hostname" }]);
  demand(deno, serving ? "cannot serve the queue" : 'a "bullmq" pool cannot reach Redis', needs);
}
