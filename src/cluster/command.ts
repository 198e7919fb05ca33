/**
 * `loopwork worker`: serve a `"bullmq"` pool's queue on this machine. It prints one line
 * when it starts and one when it stops (queue, threads, host), and stops gracefully on
 * SIGTERM or SIGINT: it finishes the jobs it holds; a second signal hands them back at once
 * (another worker retries them once their lock expires).
 * @module
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { serveQueue } from "./serve.ts";

/** The help text of `loopwork worker`. */
export const WORKER_HELP: string = `usage: loopwork worker --connection URL --queue NAME --module FILE [--threads N] [--concurrency N]

Serves the queue of a "bullmq" WorkerPool: pulls its jobs from Redis and runs them on a
local thread pool. Only the module's own exported functions run.

options:
  --connection URL   Redis, e.g. redis://:password@host:6379/0 (rediss:// for TLS)
  --queue NAME       the pool's queue option
  --module FILE      the task module (a path or a file: URL)
  --threads N        local threads (default: cores, here ${availableParallelism()})
  --concurrency N    jobs held at once (default: the threads); more overlaps Redis round trips
                     with computation for tiny jobs, but holds jobs another machine could run
  --help             this text
`;

function fail(message: string): number {
  process.stderr.write(`loopwork worker: ${message}\n\n${WORKER_HELP}`);
  return 2;
}

/** Runs `loopwork worker` with `args`; resolves with the exit code once it has stopped. */
export async function workerMain(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        connection: { type: "string" },
        queue: { type: "string" },
        module: { type: "string" },
        threads: { type: "string" },
        concurrency: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }).values;
  } catch (e) {
    return fail((e as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(WORKER_HELP);
    return 0;
  }
  const connection = values.connection as string | undefined;
  const queue = values.queue as string | undefined;
  const mod = values.module as string | undefined;
  if (connection === undefined || !/^rediss?:\/\//.test(connection)) {
    return fail(`--connection must be a redis:// or rediss:// URL, got ${JSON.stringify(connection ?? null)}`);
  }
  if (queue === undefined || queue === "" || queue.includes(":")) {
    return fail(`--queue must be a name without ":", got ${JSON.stringify(queue ?? null)}`);
  }
  if (mod === undefined || mod === "") return fail("--module is required (the task module's path)");
  const raw = values.threads as string | undefined;
  const threads = raw === undefined ? availableParallelism() : Number(raw);
  if (!/^\d+$/.test(raw ?? "1") || !Number.isInteger(threads) || threads < 1 || threads > 1024) {
    return fail(`--threads must be an integer from 1 to 1024, got ${JSON.stringify(raw)}`);
  }
  const rawConcurrency = values.concurrency as string | undefined;
  const concurrency = rawConcurrency === undefined ? threads : Number(rawConcurrency);
  if (!/^\d+$/.test(rawConcurrency ?? "1") || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    return fail(`--concurrency must be an integer from 1 to 10000, got ${JSON.stringify(rawConcurrency)}`);
  }
  const moduleUrl = mod.startsWith("file:") ? mod : pathToFileURL(resolve(mod)).href;

  const server = await serveQueue({ connection, queue, module: moduleUrl, threads, concurrency });
  const line = `queue ${JSON.stringify(queue)}, ${threads} threads` +
    `${concurrency !== threads ? ` (${concurrency} jobs at once)` : ""}, host ${server.host}, pid ${process.pid}`;
  let signals = 0;
  const stopped = new Promise<void>((done) => {
    const onSignal = (signal: string) => {
      signals++;
      if (signals === 1) {
        process.stdout.write(`loopwork worker: ${signal}: finishing the jobs it holds (again to hand them back)\n`);
      }
      server.close(signals > 1).then(() => {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
        done();
      }, () => done());
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    // Printed once a signal stops it gracefully: whoever waits for this line may signal at once.
    process.stdout.write(`loopwork worker: started: ${line}\n`);
  });
  await stopped;
  process.stdout.write(`loopwork worker: stopped: ${line}\n`);
  return 0;
}
