/**
 * Runs a TypeScript file as a program on the runtime running the tests: `deno run -A` on
 * Deno, `node --import tsx` on Node. For the tests of the command line and the examples.
 */
import { execFile } from "node:child_process";

/** How a program ended. */
export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `args`, in `cwd` if given, and resolves when it exits (never rejects). */
export function runProgram(file: string, args: string[] = [], cwd?: string): Promise<ProgramResult> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, argv] = deno
    ? [deno.execPath(), ["run", "-A", file, ...args]]
    : [process.execPath, ["--import", "tsx", file, ...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { cwd, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
