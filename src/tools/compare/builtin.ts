/**
 * The built-in workloads of `loopwork compare` (src/tools/compare/workloads.ts), as the comparison
 * sees them: an I/O-bound, a CPU-bound and a mixed one, with their calls' arguments.
 * @module
 */
import * as workloads from "./workloads.ts";
import type { CompareSettings } from "./report.ts";
import type { Workload } from "./strategies.ts";

/** The names of the built-in workloads, in the order they run. */
export const BUILTIN_WORKLOADS = ["io", "cpu", "mixed"] as const;
/** A built-in workload's name. */
export type BuiltinName = typeof BUILTIN_WORKLOADS[number];

/** The workload module as a pool sees it. */
export type Workloads = typeof workloads;

const TITLE: Record<BuiltinName, string> = { io: "I/O-bound", cpu: "CPU-bound", mixed: "mixed" };

/** The URL of the workload module, next to this file's build (`.ts` from source, `.js` from dist). */
export function workloadModuleUrl(): URL {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return new URL(`./workloads.${ext}`, import.meta.url);
}

/** The built-in workload `name` with `settings.tasks` calls against the latency server at `url`. */
export function builtinWorkload(name: BuiltinName, settings: CompareSettings, url: string): Workload {
  const args = name === "io" ? [url] : name === "cpu" ? [settings.cpuSize] : [url, settings.cpuSize];
  return {
    name,
    title: TITLE[name],
    exports: workloads as unknown as Record<string, unknown>,
    moduleUrl: workloadModuleUrl(),
    task: name,
    calls: Array.from({ length: settings.tasks }, () => args),
    ...(name === "mixed" ? { hybrid: { wait: "mixedWait", compute: "mixedCompute" } } : {}),
    builtin: true,
  };
}

/** Warms this thread's JIT for the computation, so the first CPU-bound cell does not pay for it. */
export function warmThisThread(): void {
  for (let i = 0; i < 5; i++) workloads.burn(4);
}
