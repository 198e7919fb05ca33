/**
 * 15 — runForever, stop and callLater: the loop without a main task.
 *
 * asyncio's lower level: schedule plain callbacks with `callSoon`/`callLater`/`callAt`, run
 * the loop with `runForever()` and end it with `stop()` from one of them. Each callback runs
 * to completion; the loop sleeps until the next timer is due.
 *
 *   npx tsx examples/15-run-forever.ts
 *   deno run -A examples/15-run-forever.ts
 */
import { Loop } from "../mod.ts";

const loop = new Loop();
const t0 = loop.time();
const at = () => `${(loop.time() - t0).toFixed(0).padStart(4)} ms`;

loop.callSoon(() => console.log(`${at()}  callSoon: first thing on the next turn`));
loop.callLater(200, () => console.log(`${at()}  callLater(200)`));
loop.callLater(100, () => console.log(`${at()}  callLater(100): timers run in deadline order`));
const cancelled = loop.callLater(150, () => console.log("never printed"));
cancelled.cancel();

let beats = 0;
const beat = () => {
  beats++;
  console.log(`${at()}  tick ${beats}`);
  if (beats < 3) loop.callLater(120, beat);
  else loop.callLater(50, () => {
    console.log(`${at()}  stop()`);
    loop.stop();
  });
};
loop.callLater(50, beat);

await loop.runForever();
console.log(`${at()}  runForever() returned; running: ${loop.isRunning()}`);
loop.close();
