/**
 * Fault tests of how a program names its task module: a path string instead of a URL fails
 * at `new WorkerPool` with the fix written for that very path (a relative one as
 * `new URL(path, import.meta.url)`, an absolute one as `pathToFileURL(path)`).
 */
import assert from "node:assert/strict";
import { WorkerPool } from "../../mod.ts";
import { describe, it } from "../harness.ts";

describe("a task module named by a path, not a URL", () => {
  it("a relative path fails naming new URL(that path, import.meta.url); an absolute one, pathToFileURL(that path)", () => {
    const cases: Array<[string, string]> = [
      ["./jobs/tasks.js", 'write new URL("./jobs/tasks.js", import.meta.url) (in CommonJS, pathToFileURL(require.resolve("./jobs/tasks.js")))'],
      ["../tasks.ts", 'write new URL("../tasks.ts", import.meta.url) (in CommonJS, pathToFileURL(require.resolve("../tasks.ts")))'],
      ["/srv/app/tasks.js", 'write pathToFileURL("/srv/app/tasks.js") (from node:url)'],
    ];
    for (const [path, fix] of cases) {
      assert.throws(
        () => new WorkerPool(path),
        (e: Error) =>
          e instanceof TypeError &&
          e.message.startsWith(`WorkerPool expects the task module as an absolute URL, got string ${JSON.stringify(path)}`) &&
          e.message.endsWith(fix),
        path,
      );
    }
  });

  it("a bare file name is read as relative to the caller", () => {
    assert.throws(() => new WorkerPool("tasks.js"), /got string "tasks\.js": write new URL\("\.\/tasks\.js", import\.meta\.url\) \(in CommonJS, pathToFileURL\(require\.resolve\("\.\/tasks\.js"\)\)\)$/);
  });
});
