/**
 * asyncio docs, "Coroutines and Tasks" → Timeouts: `timeout()` around a long operation,
 * a deadline set later with `reschedule()`, nested scopes, `waitFor()` (which cancels
 * what it waits for), and an async body stopped through `scope.signal`. Real clock,
 * about 1.5 s.
 *
 *   npx tsx examples/05-timeouts.ts
 *   deno run -A examples/05-timeouts.ts
 */
import { CancelledError, type Coroutine, getRunningLoop, run, sleep, timeout, TimeoutError, waitFor } from "../mod.ts";

const t0 = performance.now();
const at = (): string => `[${String(Math.round(performance.now() - t0)).padStart(5)} ms]`;

function* longRunningTask(): Coroutine<void> {
  yield* sleep(60_000);
}

await run(function* () {
  // 1. The docs' first example.
  try {
    yield* timeout(200, function* () {
      yield* longRunningTask();
    });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(at(), "The long operation timed out, but we've handled it.", `(${e.message}; cause: ${(e.cause as Error).name})`);
  }
  console.log(at(), "This statement will run regardless.");

  // 2. No deadline known at the start: pass null, reschedule once it is known.
  let expired = false;
  try {
    yield* timeout(null, function* (scope) {
      const newDeadline = getRunningLoop().time() + 150;
      scope.reschedule(newDeadline);
      try {
        yield* longRunningTask();
      } finally {
        expired = scope.expired();
      }
    });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
  }
  if (expired) console.log(at(), "Looks like we haven't finished on time.");

  // 3. Nested scopes: the inner one expires first and raises TimeoutError; the outer one
  //    then interrupts the next wait.
  try {
    yield* timeout(300, function* () {
      try {
        yield* timeout(100, function* () {
          yield* longRunningTask();
        });
      } catch (e) {
        console.log(at(), "inner scope:", (e as Error).name);
      }
      yield* longRunningTask();
    });
  } catch (e) {
    console.log(at(), "outer scope:", (e as Error).name);
  }

  // 4. waitFor: the docs' eternity() — cancelled after 200 ms, and waited for.
  function* eternity(): Coroutine<void> {
    try {
      yield* sleep(3_600_000);
      console.log("yay!");
    } catch (e) {
      if (e instanceof CancelledError) console.log(at(), "eternity() was cancelled");
      throw e;
    }
  }
  try {
    yield* waitFor(eternity(), 200);
  } catch (e) {
    if (e instanceof TimeoutError) console.log(at(), "timeout!");
  }

  // 5. An async body cannot be interrupted mid-await: it listens to scope.signal.
  const slowQuery = (ms: number, signal: AbortSignal): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve("rows"), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("query aborted"));
      });
    });
  const start = performance.now();
  try {
    yield* timeout(150, async (scope) => await slowQuery(2_000, scope.signal));
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(at(), `async body aborted after ${Math.round(performance.now() - start)} ms: ${e.name} (cause: ${(e.cause as Error).name}, which was caused by "${((e.cause as Error).cause as Error).message}")`);
  }
});
