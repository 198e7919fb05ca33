/**
 * asyncio docs, "Coroutines and Tasks" → Task Groups: `say_after` in a TaskGroup, then
 * what happens when one child fails (the others are cancelled, errors come out together)
 * and when the group is cancelled from outside. Real clock, about 2 s in all.
 *
 *   npx tsx examples/02-task-group.ts
 *   deno run -A examples/02-task-group.ts
 */
import { CancelledError, type Coroutine, run, sleep, spawn, taskGroup, TaskGroupError } from "../mod.ts";

const t0 = performance.now();
const at = (): string => `[${String(Math.round(performance.now() - t0)).padStart(5)} ms]`;

function* sayAfter(ms: number, what: string): Coroutine<string> {
  yield* sleep(ms);
  console.log(at(), what);
  return what;
}

await run(function* () {
  // 1. Two children run concurrently: the group ends after ~1000 ms, not 1500.
  console.log(at(), "started");
  const words = yield* taskGroup(function* (tg) {
    const a = tg.spawn(sayAfter(500, "hello"));
    const b = tg.spawn(sayAfter(1000, "world"));
    return [yield* a, yield* b];
  });
  console.log(at(), `finished: both tasks completed (${words.join(" ")})`);

  // 2. A child fails at 100 ms: its siblings (a generator and an async function) and the
  //    body are cancelled at once, and the group raises a TaskGroupError.
  const t1 = performance.now();
  try {
    yield* taskGroup(function* (tg) {
      tg.spawn(function* () {
        yield* sleep(100);
        throw new RangeError("disk full");
      });
      tg.spawn(function* () {
        try {
          yield* sleep(5_000);
        } catch (e) {
          if (e instanceof CancelledError) console.log(at(), "generator sibling: cancelled");
          throw e;
        }
      });
      tg.spawn(async (signal) => {
        // An async child is told through its AbortSignal; the group waits for it to settle.
        await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      });
      yield* sleep(5_000);
    });
  } catch (e) {
    if (!(e instanceof TaskGroupError)) throw e;
    console.log(at(), `TaskGroupError after ${Math.round(performance.now() - t1)} ms:`, e.errors.map(String));
  }

  // 3. Cancelling the task that waits on a group cancels every child; the CancelledError
  //    comes out unwrapped, with its message.
  const outer = spawn(function* () {
    yield* taskGroup(function* (tg) {
      for (let i = 0; i < 3; i++) tg.spawn(sayAfter(5_000, `child ${i} (never printed)`));
    });
  });
  yield* sleep(200);
  outer.cancel("user pressed stop");
  try {
    yield* outer;
  } catch (e) {
    console.log(at(), `${(e as Error).name}: ${(e as Error).message}`);
  }
});
