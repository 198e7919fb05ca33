// Every example runs on this runtime, exits 0 and prints the lines that carry its point.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it, runtime } from "./harness.ts";
import { runProgram } from "./subprocess.ts";

const dir = fileURLToPath(new URL("../examples/", import.meta.url));

/** Lines each example must print; an example not listed must still run and print. */
const expected: Record<string, RegExp[]> = {
  "00-readme.ts": [/a\.txt \(300 ms\).*b\.txt \(200 ms\).* in \d+ ms, not 500/],
  "01-sequential-vs-tasks.ts": [/sequential: 4\.\d\d s/, /as tasks: 2\.\d\d s/, /tasks were \d\.\d\d× faster/],
  "11-async-fib.ts": [/fib\(15\) = 610 as tasks: \d+ coroutine calls, 1 virtual ticks/, /fib\(15\) = 610 one yield\* after the other: 987 virtual ticks/],
  "12-hand-made-coroutines.ts": [/send: 10 → 15 → 30/, /throw: caught "stop" at the yield/, /yield\*: inner step 1, inner step 2, outer got 42/, /scheduler: a1 b1 c1 a2 b2 c2 a3 c3/],
  "13-futures-and-callbacks.ts": [/done callback: the future holds "200 OK"/, /the coroutine resumes with "200 OK" \(done: true\)/],
  "14-starvation.ts": [/a step of task main blocked the loop for \d+\.\d ms/, /in one go .* result 2605094400; heartbeats/, /yieldNow\(\) per slice .* result 2605094400/, /WorkerPool thread .* result 2605094400/],
  "15-run-forever.ts": [/callSoon: first thing/, /callLater\(100\)[\s\S]*callLater\(200\)/, /runForever\(\) returned; running: false/],
  "17-stuck.ts": [/loopwork: run\(\) made no progress for \d+ ms \(dumpOnStuckMs 300\); its tasks:\n5 tasks at [\d.]+ ms \(real clock\)\nmain: waiting: task group bank/, /\n└─ bank \[task group, 3 children\]: waiting: its 3 child tasks\n   ├─ checking→savings: waiting: acquire Lock<locked, waiters: 1>/, /\n   └─ clerk: waiting: get from Queue<size: 0, getters: 1, putters: 0>/, /the process exits with run\(\) still pending/],
  "16-http-client.ts": [/one after the other: 10 responses/, /all at once: +10 responses/, /with a 150 ms limit: \d+ answered, ([2-9]|10) cancelled/],
};


const files = readdirSync(dir).filter((f) => /^\d\d-.*\.ts$/.test(f)).sort();

describe(`examples on ${runtime}`, () => {
  for (const file of files) {
    it(`${file} runs, exits 0 and prints its measured result`, async () => {
      const r = await runProgram(file, [], dir);
      const { code } = r;
      const out = `${r.stdout}${r.stderr}`;
      assert.equal(code, 0, `exit code ${code}; output:\n${out}`);
      assert.ok(out.trim().length > 0, "prints something");
      for (const re of expected[file] ?? []) assert.match(out, re);
    }, 130_000);
  }
});

describe("README", () => {
  it("the README's first example is examples/00-readme.ts, word for word", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const file = readFileSync(new URL("../examples/00-readme.ts", import.meta.url), "utf8");
    assert.equal(block.replace('from "loopwork"', 'from "../mod.ts"'), file);
  });
});
