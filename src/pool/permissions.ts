/**
 * The Deno permissions a pool's workers need, checked when the pool is made: a thread pool
 * reads loopwork's worker file (`--allow-read`); a process pool also starts `deno` child
 * processes (`--allow-run`) and reads `NODE_V8_COVERAGE` as it starts one (`--allow-env`);
 * tinypool's threads read `PISCINA_DISABLE_ATOMICS` (`--allow-env`).
 * Without them, Deno would refuse deep inside a worker's start, one permission at a time:
 * as a crash of a worker that never ran, as an exception thrown out of tinypool (a process
 * pool lacking `--allow-run`), or as an uncaught error in a worker that ends the program
 * (tinypool's threads lacking `--allow-env`); here the pool says at `new WorkerPool` every
 * flag it lacks.
 * @module
 */
import { fileURLToPath } from "node:url";

type PermissionDescriptor =
  | { name: "read"; path: string }
  | { name: "run"; command: string }
  | { name: "env"; variable: string };

interface DenoPermissions {
  permissions: {
    querySync(d: PermissionDescriptor): { state: "granted" | "prompt" | "denied" };
    requestSync(d: PermissionDescriptor): { state: "granted" | "prompt" | "denied" };
  };
  execPath(): string;
  errors?: { NotCapable?: new (message: string) => Error };
}

/** Whether Deno grants `d`: asked for (a prompt, in a terminal) where it may still be. */
function granted(deno: DenoPermissions, d: PermissionDescriptor): boolean {
  const { state } = deno.permissions.querySync(d);
  return state === "granted" || (state === "prompt" && deno.permissions.requestSync(d).state === "granted");
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
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  if (deno?.permissions?.querySync === undefined) return;
  const needs: Array<[flag: string, why: string, d: PermissionDescriptor]> = [];
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
  const missing = needs.filter(([, , d]) => !granted(deno, d));
  if (missing.length === 0) return;
  const flags = ["--allow-read", ...needs.map(([flag]) => flag).filter((f) => f !== "--allow-read")].join(" ");
  // Deno's own class for a permission not granted (an Error where there is none).
  const NotCapable = deno.errors?.NotCapable ?? Error;
  throw new NotCapable(
    `a ${processes ? "process" : "thread"} pool cannot start: Deno has not granted ` +
      missing.map(([flag, why]) => `${flag} (${why})`).join(", ").replace(/, (?=[^,]*$)/, " or ") +
      `: run again with ${flags} (or -A)`,
  );
}
