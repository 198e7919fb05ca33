/**
 * One test file, two runtimes: under vitest this re-exports vitest's `describe` and `it`;
 * under Deno it registers each case with `Deno.test`, named "suite › case". Assertions
 * come from `node:assert/strict`, which both runtimes have.
 */
type Body = () => void | Promise<void>;
interface Api {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body, timeoutMs?: number): void;
  skip(name: string): void;
}

interface DenoTest {
  test(def: { name: string; fn: Body; sanitizeOps?: boolean; sanitizeResources?: boolean; ignore?: boolean }): void;
}
const deno = (globalThis as { Deno?: DenoTest }).Deno;

async function load(): Promise<Api> {
  if (deno !== undefined) {
    const stack: string[] = [];
    return {
      describe(name, body) {
        stack.push(name);
        try {
          body();
        } finally {
          stack.pop();
        }
      },
      it(name, body) {
        deno.test({ name: [...stack, name].join(" › "), fn: body });
      },
      skip(name) {
        deno.test({ name: [...stack, name].join(" › "), fn: () => {}, ignore: true });
      },
    };
  }
  const vitest = await import("vitest");
  return {
    describe: (name, body) => vitest.describe(name, body),
    it: (name, body, timeoutMs) => vitest.it(name, body, timeoutMs),
    skip: (name) => vitest.it.skip(name, () => {}),
  };
}

const api: Api = await load();

/** Groups cases under a name. */
export const describe: Api["describe"] = api.describe;
/** One case; the name states the rule it checks. */
export const it: Api["it"] = api.it;
/** A case that cannot run here: the runner lists it as skipped. */
export const skip: Api["skip"] = api.skip;
/** Which runtime runs the tests. */
export const runtime: "deno" | "node" = deno !== undefined ? "deno" : "node";
