#!/usr/bin/env node
/**
 * The `loopwork` command line. Commands register here as the package grows; each parses
 * its own options and exits 2 on bad usage with a message that names the problem.
 * @module
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { workerMain } from "./worker-command.ts";
import { compareMain } from "./compare/command.ts";
import { MISSING_PACKAGE } from "../pool/packages.ts";
import { exitOnPurpose } from "./process-end.ts";

/** A subcommand: its one-line summary and its entry point, which returns the exit code. */
export interface Command {
  summary: string;
  main(args: string[]): Promise<number>;
}

/** Every subcommand, by name. */
export const commands: Record<string, Command> = {
  compare: {
    summary: "measure I/O-, CPU-bound and mixed work (or your own function) under each strategy; classify it",
    main: compareMain,
  },
  worker: {
    summary: "serve the Redis queue of a \"bullmq\" WorkerPool on this machine's threads",
    main: workerMain,
  },
};

function version(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")).version as string;
    } catch {
      // not found at this depth: src/tools/ when run from source, dist/src/tools/ when built
    }
  }
  return "unknown";
}

function usage(): string {
  const list = Object.keys(commands).map((n) => `  ${n.padEnd(10)} ${commands[n]!.summary}`).join("\n");
  return `usage: loopwork <command> [options]\n\ncommands:\n${list}\n\noptions:\n  --help     this text\n  --version  the package version\n`;
}

/** Runs the command line `argv` (without the runtime and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands[first];
  if (command === undefined) {
    process.stderr.write(`loopwork: unknown command ${JSON.stringify(first)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.main(rest);
  } catch (e) {
    const err = e as Error;
    if (isPermission(err)) return refused(first, err);
    // An unreachable Redis or a missing optional package is the user's setting, not a bug:
    // its message says it all.
    const expected = err?.name === "PoolConnectionError" || (err as { code?: unknown })?.code === MISSING_PACKAGE;
    process.stderr.write(`loopwork ${first}: failed: ${expected ? err.message : err?.stack ?? String(e)}\n`);
    return 1;
  }
}

/** Whether Deno refused a permission: the user's setting, not a bug. */
function isPermission(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

/**
 * Says, in one line, which permission Deno refused and that the command wants them all (it
 * reads files, serves and requests on loopback or talks to Redis, starts workers).
 */
function refused(command: string, e: Error): number {
  process.stderr.write(
    `loopwork ${command}: ${e.message.replace(/(, run again with the --allow-\w+ flag|: run again with .*)$/, "")}: ` +
      "the command reads files, uses the network and starts workers: run it with deno run -A npm:loopwork\n",
  );
  return 1;
}

/** Whether this module is the program being run (directly, or through npm's bin link). */
function isMain(): boolean {
  const deno = (globalThis as { Deno?: { mainModule: string } }).Deno;
  if (deno?.mainModule === import.meta.url) return true;
  // Node's script, or Deno's main module run through a link (node_modules/.bin/loopwork).
  const script = deno !== undefined ? deno.mainModule.startsWith("file:") ? fileURLToPath(deno.mainModule) : undefined : process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  // Deno refuses some permissions inside its Node APIs' callbacks (listen, spawn), where no
  // caller catches: said in one line too, never as a stack trace.
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) {
    process.on("uncaughtException", (e) => {
      if (isPermission(e)) exitOnPurpose(refused(process.argv[2] ?? "", e as Error));
      process.stderr.write(`error: Uncaught ${(e as Error | null)?.stack ?? String(e)}\n`);
      exitOnPurpose(1);
    });
  }
  process.exitCode = await main(process.argv.slice(2));
}
