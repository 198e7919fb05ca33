/**
 * Fault test: a process pool's children see the environment of the process that made the
 * pool. tinypool gives each child only its `env` option (and its worker id), so before this
 * a task in a process pool saw no PATH, no HOME and none of the program's own variables
 * (`process.env.DATABASE_URL` was undefined), where a thread pool's task, or a bare
 * `fork()`, sees them all. The environment is read as each child starts, as `fork()` does,
 * and the pool's private variable for its children's watchdog is gone before a task runs.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { WorkerPool } from "../../pool.ts";
import { within } from "../expect.ts";
import { describe, it, runtime } from "../harness.ts";

type EnvTasks = typeof import("../fixtures/env-tasks.ts");
const ENV_TASKS = new URL("../fixtures/env-tasks.ts", import.meta.url);

describe("faults (process env): a process pool's children inherit the environment", () => {
  it("a task sees PATH, HOME and the program's variables, set before and after the pool was made", async () => {
    const before = `before-${process.pid}`;
    process.env.LOOPWORK_TEST_BEFORE = before;
    const pool = new WorkerPool<EnvTasks>(ENV_TASKS, { kind: "process", maxWorkers: 1 });
    try {
      const names = ["LOOPWORK_TEST_BEFORE", "PATH", "HOME", "LOOPWORK_POOL_PID"];
      const first = await within("the first call", pool.run("envOf", names));
      assert.deepEqual(first, [before, process.env.PATH ?? null, process.env.HOME ?? null, null]);
      // A variable set now reaches the next child, as a bare fork() would give it.
      process.env.LOOPWORK_TEST_AFTER = "after";
      await within("the worker's end", pool.run("exitNow").then(() => assert.fail("expected the call to fail"), () => {}));
      const second = await within("the next child's call", pool.run("envOf", ["LOOPWORK_TEST_AFTER", "LOOPWORK_TEST_BEFORE"]));
      assert.deepEqual(second, ["after", before]);
    } finally {
      delete process.env.LOOPWORK_TEST_BEFORE;
      delete process.env.LOOPWORK_TEST_AFTER;
      await pool.destroy();
    }
  });

  if (runtime !== "deno") return;

  it("on Deno, with --allow-env for one variable only (what new WorkerPool asks of a process pool), a process pool still answers, its children getting what the program may read", async () => {
    // The environment cannot be listed then (Deno's NotCapable): reading it for the children
    // made every child's start fail, where before the pool answered.
    const dir = mkdtempSync(join(tmpdir(), "loopwork-process-env-"));
    try {
      const pool = JSON.stringify(new URL("../../pool.ts", import.meta.url).href);
      writeFileSync(
        join(dir, "main.ts"),
        `import { WorkerPool } from ${pool};
await using pool = new WorkerPool<typeof import(${JSON.stringify(ENV_TASKS.href)})>(new URL(${JSON.stringify(ENV_TASKS.href)}), { kind: "process", maxWorkers: 1 });
try {
  console.log("answered", JSON.stringify(await pool.run("envOf", ["LOOPWORK_POOL_PID"])));
} catch (e) {
  console.log("failed", String(e));
}
`,
      );
      const { Deno } = globalThis as unknown as {
        Deno: {
          execPath(): string;
          Command: new (cmd: string, o: object) => { output(): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> };
        };
      };
      const repo = fileURLToPath(new URL("../..", import.meta.url));
      const args = ["run", "--no-check", `--allow-read=${repo},${dir}`, "--allow-run", "--allow-env=NODE_V8_COVERAGE", join(dir, "main.ts")];
      const r = await within("the program", new Deno.Command(Deno.execPath(), { args, cwd: dir, stdin: "null", env: { NO_COLOR: "1" } }).output());
      const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(out.trim(), "answered [null]", out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
