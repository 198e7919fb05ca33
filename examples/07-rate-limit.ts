/**
 * Rate limiting with a semaphore, and retry with exponential backoff, against a flaky
 * local HTTP server.
 *
 * The example starts a server on 127.0.0.1 (port 0: the OS picks one) that answers 503
 * to about a third of the requests (a seeded pseudo-random draw, so runs are alike) and
 * counts how many requests it serves at once. Twelve requests
 * go out; a `Semaphore(3)` keeps at most three in flight, and `retry` repeats a failed
 * one after a jittered exponential backoff. The server is stopped at the end.
 *
 *   npx tsx examples/07-rate-limit.ts
 *   deno run -A examples/07-rate-limit.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRunningLoop, retry, RetryError, run, Semaphore, spawn } from "../mod.ts";

const REQUESTS = 12;
const LIMIT = 3;

// ---- the flaky server -----------------------------------------------------------------
let seed = 42;
const random = (): number => {
  // mulberry32: a tiny seeded generator
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
let served = 0;
let inFlight = 0;
let peakInFlight = 0;
const server = createServer((req, res) => {
  served++;
  inFlight++;
  peakInFlight = Math.max(peakInFlight, inFlight);
  const n = served;
  const busy = random() < 1 / 3;
  setTimeout(() => {
    inFlight--;
    if (busy) {
      res.writeHead(503, { "content-type": "text/plain" }).end("busy, try again");
    } else {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ path: req.url, n }));
    }
  }, 20);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = "HttpError";
  }
}

// ---- the client -------------------------------------------------------------------------
try {
  await run(function* () {
    const loop = getRunningLoop();
    const sem = new Semaphore(LIMIT);
    let attempts = 0;
    const t0 = loop.time();

    const fetchItem = (i: number) =>
      spawn(async (taskSignal) =>
        // The permit is held for the whole retry, backoff included: at most LIMIT
        // requests (or backoffs) at a time. The task's signal withdraws the wait for a
        // permit and stops the retry (and its fetch) if the task is cancelled.
        sem.withPermit(() =>
          retry(async ({ signal }) => {
            attempts++;
            const res = await fetch(`${base}/item/${i}`, { signal });
            if (!res.ok) {
              await res.body?.cancel();
              throw new HttpError(res.status);
            }
            return (await res.json()) as { path: string; n: number };
          }, {
            minTimeout: 10,
            maxTimeout: 200,
            maxAttempts: 4,
            isRetriable: (e) => e instanceof HttpError && e.status >= 500,
            signal: taskSignal,
          }), { signal: taskSignal }), { name: `item-${i}` });

    const tasks = Array.from({ length: REQUESTS }, (_, i) => fetchItem(i));
    let ok = 0;
    let failed = 0;
    for (const t of tasks) {
      try {
        yield* t;
        ok++;
      } catch (e) {
        failed++;
        console.log(`  ${t.name} failed: ${e instanceof RetryError ? `${e.message} last: ${(e.cause as Error).message}` : e}`);
      }
    }
    const ms = loop.time() - t0;
    console.log(`requests: ${REQUESTS}, semaphore limit: ${LIMIT}`);
    console.log(`succeeded: ${ok}, failed after retries: ${failed}`);
    console.log(`HTTP attempts: ${attempts} (server served ${served}, ${served - REQUESTS} were retries of a 503)`);
    console.log(`most requests the server saw at once: ${peakInFlight} (limit ${LIMIT})`);
    console.log(`wall time: ${ms.toFixed(0)} ms (each request takes ~20 ms on the server)`);
  });
} finally {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  console.log("server stopped");
}
