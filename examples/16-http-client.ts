/**
 * 16 — A concurrent HTTP client against a local server.
 *
 * A real HTTP server on 127.0.0.1 answers each request after a delay. The client fetches
 * ten URLs one after the other, then all at once as tasks of a task group, then all at once
 * with a 150 ms deadline per request (`waitFor`), which cancels the slow ones: their
 * `fetch` is aborted through the task's signal, so no socket is left waiting.
 *
 *   npx tsx examples/16-http-client.ts
 *   deno run -A examples/16-http-client.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRunningLoop, run, type Task, taskGroup, TimeoutError, waitFor } from "../mod.ts";

// Each path asks for its own delay: /delay/80 answers after 80 ms.
const server = createServer((req, res) => {
  const ms = Number(req.url?.split("/").pop() ?? 0);
  const t = setTimeout(() => res.end(`waited ${ms} ms`), ms);
  res.on("close", () => clearTimeout(t));
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const delays = [80, 120, 40, 200, 60, 100, 300, 20, 90, 110];

const get = (ms: number) => async (signal: AbortSignal) => {
  const res = await fetch(`${base}/delay/${ms}`, { signal });
  return await res.text();
};

try {
  await run(function* () {
    const loop = getRunningLoop();
    let t0 = loop.time();
    for (const ms of delays) yield* loop.createTask(get(ms));
    console.log(`one after the other: ${delays.length} responses in ${(loop.time() - t0).toFixed(0)} ms`);

    t0 = loop.time();
    const tasks: Task<string>[] = [];
    yield* taskGroup(function* (tg) {
      for (const ms of delays) tasks.push(tg.spawn(get(ms)));
    });
    console.log(`all at once:         ${tasks.length} responses in ${(loop.time() - t0).toFixed(0)} ms (the slowest is 300 ms)`);

    t0 = loop.time();
    let ok = 0;
    let late = 0;
    yield* taskGroup(function* (tg) {
      for (const ms of delays) {
        tg.spawn(function* () {
          try {
            yield* waitFor(loop.createTask(get(ms)), 150);
            ok++;
          } catch (e) {
            if (!(e instanceof TimeoutError)) throw e;
            late++;
          }
        });
      }
    });
    console.log(`with a 150 ms limit: ${ok} answered, ${late} cancelled, in ${(loop.time() - t0).toFixed(0)} ms`);
  });
} finally {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}
