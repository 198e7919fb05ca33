/**
 * The I/O side of `loopwork compare`: a real HTTP server on loopback that answers every
 * request after a fixed latency, as a slow remote service would. Started on a free port
 * and stopped by the command.
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A running latency server. */
export interface LatencyServer {
  /** The URL to request, e.g. `http://127.0.0.1:40123/`. */
  url: string;
  /** How many requests it has answered. */
  answered(): number;
  /** Stops the server and closes its connections. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 (a free port) that answers each request with a short
 * body after `latencyMs`.
 *
 * @example
 * ```ts
 * import { startLatencyServer } from "./server.ts";
 *
 * const server = await startLatencyServer(50);
 * const t0 = performance.now();
 * await (await fetch(server.url)).text();
 * console.log(performance.now() - t0 >= 50); // true
 * await server.close();
 * ```
 */
export async function startLatencyServer(latencyMs: number): Promise<LatencyServer> {
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new RangeError(`latency must be a finite number of ms >= 0, got ${String(latencyMs)}`);
  }
  let answered = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server: Server = createServer((req, res) => {
    const t = setTimeout(() => {
      timers.delete(t);
      answered++;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`waited ${latencyMs} ms for ${req.url}\n`);
    }, latencyMs);
    timers.add(t);
  });
  // Clients keep connections open between the phases of a comparison: if the server timed
  // them out first (Node's default is 5 s), a client could reuse a socket just closed under
  // it ("other side closed"). The server outlives its clients' idle times instead.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 10 * 60_000 + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    answered: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
