import { run, sleep, spawn } from "../mod.ts";

function* download(name: string, ms: number) {
  yield* sleep(ms); // waiting, not computing: other tasks run meanwhile
  return `${name} (${ms} ms)`;
}

const started = performance.now();
const files = await run(function* () {
  const tasks = [spawn(download("a.txt", 300)), spawn(download("b.txt", 200))];
  return [yield* tasks[0]!, yield* tasks[1]!];
});
console.log(files, `in ${Math.round(performance.now() - started)} ms, not 500`);
