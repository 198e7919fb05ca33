// The package as users get it: "loopwork" resolves (to dist/ on Node, through package.json
// exports; to mod.ts on Deno, through deno.json imports) and offers what mod.ts offers.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as source from "../mod.ts";
import { describe, it, runtime } from "./harness.ts";

describe(`the package on ${runtime}`, () => {
  it('"loopwork" exports exactly the public names of mod.ts, and they work', async () => {
    const pkg = await import("loopwork");
    assert.deepEqual(Object.keys(pkg).sort(), Object.keys(source).sort());
    const v = await pkg.run(function* () {
      return yield* pkg.sleep(5, "built");
    }, { clock: "virtual" });
    assert.equal(v, "built");
  });

  it("the bin entry exists and is runnable with node", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const bin = new URL(`../${manifest.bin.loopwork}`, import.meta.url);
    if (runtime === "node") {
      assert.ok(existsSync(bin), `${manifest.bin.loopwork} is built`);
      assert.match(readFileSync(bin, "utf8"), /^#!\/usr\/bin\/env node/);
    } else {
      assert.equal(manifest.bin.loopwork, "./dist/src/tools/cli.js");
    }
  });
});
