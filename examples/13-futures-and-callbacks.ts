/**
 * 13 — Futures and done callbacks wake a coroutine.
 *
 * A Future is a box for a result that does not exist yet. Whoever has the result calls
 * `setResult()`; the loop then runs the future's done callbacks, and a task waiting on it
 * (`yield* future`) resumes with the value. Here a "network" callback, scheduled with
 * `callLater`, fills the future; a callback and a waiting coroutine both hear of it.
 *
 *   npx tsx examples/13-futures-and-callbacks.ts
 *   deno run -A examples/13-futures-and-callbacks.ts
 */
import { Future, getRunningLoop, run } from "../mod.ts";

await run(function* () {
  const loop = getRunningLoop();
  const t0 = loop.time();
  const at = () => `${(loop.time() - t0).toFixed(0).padStart(4)} ms`;
  const response = new Future<string>();

  response.addDoneCallback((f) => console.log(`${at()}  done callback: the future holds ${JSON.stringify(f.result())}`));
  // Something outside the coroutine produces the result later: a timer stands in for I/O.
  loop.callLater(300, () => {
    console.log(`${at()}  the "network" answers: setResult()`);
    response.setResult("200 OK");
  });

  console.log(`${at()}  the coroutine waits: yield* response (done: ${response.done()})`);
  const value = yield* response; // suspends this task until setResult() is called
  console.log(`${at()}  the coroutine resumes with ${JSON.stringify(value)} (done: ${response.done()})`);
});
