/**
 * A command given a TypeScript module (`loopwork worker --module tasks.ts`, `loopwork compare
 * --module tasks.ts`) imports it on its own thread too. The command owns its process, so it
 * lets Node import TypeScript there: Deno and Node 22.18+ (24) do so themselves, and on an
 * older Node it registers tsx (an optional peer dependency) if installed, or says to install it.
 * @module
 */
import { isDeno, registerTsx } from "../pool/packages.ts";

/**
 * Lets this process import the module at `path` (a path or a `file:` URL) if it is
 * TypeScript; resolves with `undefined` when it can, or with a sentence that names the
 * problem and the fix when it cannot.
 *
 * @example
 * const problem = await allowTypeScript("./tasks.ts");
 * if (problem !== undefined) console.error(`loopwork worker: --module ${problem}`);
 */
export async function allowTypeScript(path: string): Promise<string | undefined> {
  if (isDeno || !/\.[mc]?tsx?$/i.test(path)) return undefined;
  if ((process.features as { typescript?: unknown }).typescript) return undefined;
  // Run from its own sources (node --import tsx src/tools/cli.ts): a loader is there already.
  if (import.meta.url.endsWith(".ts")) return undefined;
  try {
    await registerTsx();
    return undefined;
  } catch {
    return `${path} is TypeScript, which Node ${process.versions.node} cannot import on its own: ` +
      "install tsx beside loopwork (npm install tsx), use Node 22.18 or later, or point it at compiled JavaScript";
  }
}
