/**
 * Runs a TypeScript file as a program on the runtime running the tests: `deno run -A` on
 * Deno, `node --import tsx` on Node. For the tests of the command line and the examples.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";

/** How a program ended. */
export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file` with `args`, in `cwd` if given, and resolves when it exits (never rejects).
 * `v8Flags` (such as `--expose-gc`) go to the runtime's V8.
 */
export function runProgram(file: string, args: string[] = [], cwd?: string, v8Flags: string[] = []): Promise<ProgramResult> {
  const [cmd, argv] = programCommand(file, args, v8Flags);
  return new Promise((resolve) => {
    execFile(cmd, argv, { cwd, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The command and arguments that run `file` as a program on the runtime running the tests. */
function programCommand(file: string, args: string[], v8Flags: string[]): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const v8 = v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : [];
  return deno
    ? [deno.execPath(), ["run", "-A", ...v8, file, ...args]]
    : [process.execPath, [...v8Flags, "--import", "tsx", file, ...args]];
}

/**
 * Starts `file` with `args` as a program (as `runProgram` runs it) and returns it at once,
 * running, its output piped: for tests that signal or kill it.
 */
export function startProgram(file: string, args: string[] = []): ChildProcess {
  const [cmd, argv] = programCommand(file, args, []);
  return spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
}
