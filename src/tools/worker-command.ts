/**
 * `loopwork worker`: serve a `"bullmq"` pool's queue on this machine. It loads the task
 * module and pings Redis before it prints its "started" line (a bad module exits 2, an
 * unreachable Redis or refused credentials exit 1, each with the reason on stderr); it
 * prints one line when it stops (queue, threads, host), and stops gracefully on SIGTERM or
 * SIGINT: it finishes the jobs it holds within the grace period, then hands back the rest;
 * a second signal hands them back at once (another worker retries them once their lock
 * expires).
 * @module
 */
import { availableParallelism } from "node:os";
// A timer that can be unref'd on Deno too (its global setTimeout returns a number).
import { setTimeout as nodeSetTimeout } from "node:timers";
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ServeError, serveQueue } from "../cluster/serve.ts";
import { connectionOptions } from "../pool/backends/bullmq-wire.ts";
import { PoolConnectionError } from "../pool/errors.ts";
import { checkBullmqPermissions } from "../pool/permissions.ts";
import { allowTypeScript } from "./typescript.ts";
import { onProcessEnd } from "./process-end.ts";
import { watchStdinEnd } from "./stdin-watch.ts";

const noop = (): void => {};

/** The exit code of a worker whose process a task ended with process.exit(0). */
const TASK_ENDED_PROCESS = 3;

/**
 * With `--stop-on-stdin-end --threads 0`: how long after the grace period a worker that has
 * not stopped since its standard input ended is killed (see stdin-watch.ts), ms.
 */
const STDIN_END_MARGIN_MS = 10_000;

/** Jobs held at once by `--threads 0` unless `--concurrency` says otherwise. */
const INLINE_CONCURRENCY = 8;

/** The help text of `loopwork worker`. */
export const WORKER_HELP: string = `usage: loopwork worker --connection URL --queue NAME --module FILE [--threads N] [--concurrency N]

Serves the queue of a "bullmq" WorkerPool: pulls its jobs from Redis and runs them on a
local thread pool (with --threads 0, on its own thread). Only the module's own exported
functions run, and only for jobs of a pool built on the same module (same file name and
exported functions).

options:
  --connection URL         Redis, e.g. redis://:password@host:6379/0 (rediss:// for TLS)
  --queue NAME             the pool's queue option
  --module FILE            the task module (a path or a file: URL)
  --threads N              local threads (default: cores, here ${availableParallelism()}); 0 runs each
                           job on the worker's own thread, for I/O-bound modules (synchronous
                           work there delays lock renewal; a cancelled job is abandoned, not
                           stopped)
  --concurrency N          jobs held at once (default: the threads; ${INLINE_CONCURRENCY} with --threads 0);
                           more overlaps Redis round trips with computation for tiny jobs, but
                           holds jobs another machine could run
  --connect-timeout-ms N   how long to wait for Redis at start (default 5000)
  --cancel-grace-ms N      how long a cancelled job's task may take to stop after its abort
                           before its thread is stopped and replaced (default 100; 0 stops it
                           at once): the pool's cancelGraceMs
  --grace-ms N             after SIGTERM/SIGINT, how long to finish the jobs it holds before
                           handing them back (default 30000; keep it below the time your
                           supervisor waits before SIGKILL); a second signal hands them back at once
  --stop-on-stdin-end      stop as on SIGTERM once standard input ends: started by another
                           program over a pipe, it stops when that program ends, however it
                           ends (even by SIGKILL), instead of serving on, orphaned (with
                           --threads 0, a job that keeps the worker's own thread busy is
                           killed with it ${STDIN_END_MARGIN_MS / 1000} s after the grace period)
  --help                   this text

exit codes: 0 stopped by a signal; 1 Redis cannot be reached or refused the credentials, or
bullmq is not installed (npm install bullmq ioredis); 2 bad options or a task module that cannot
be loaded (a .ts one on Node before 22.18 needs tsx: npm install tsx); 3 a task ended the process with
process.exit(0) (with --threads 0; another code given to process.exit() is kept). The reason goes to stderr.
`;

/**
 * What is wrong with the `--connection` URL `raw` of `loopwork worker` or `loopwork compare`,
 * or undefined: a redis:// or rediss:// URL that parses (a port up to 65535, a host) and
 * names a valid database number. Its password is not repeated.
 *
 * @example
 * ```ts
 * console.log(connectionProblem("redis://127.0.0.1:99999"));
 * // --connection must be a redis:// or rediss:// URL, got "redis://127.0.0.1:99999" (not a valid URL)
 * ```
 */
export function connectionProblem(raw: string | undefined): string | undefined {
  const shown = JSON.stringify((raw ?? "").replace(/\/\/([^/@]*):[^/@]*@/, "//$1:***@"));
  if (raw === undefined || !/^rediss?:\/\//.test(raw)) return `--connection must be a redis:// or rediss:// URL, got ${raw === undefined ? "nothing" : shown}`;
  try {
    connectionOptions(raw, 1);
  } catch (e) {
    // Not the parser's own message: Deno's repeats the URL, password and all.
    const why = e instanceof PoolConnectionError ? e.message : `${shown} (not a valid URL)`;
    return e instanceof PoolConnectionError ? `--connection: ${why}` : `--connection must be a redis:// or rediss:// URL, got ${why}`;
  }
  return undefined;
}

function fail(message: string): number {
  process.stderr.write(`loopwork worker: ${message}\n\n${WORKER_HELP}`);
  return 2;
}

function positive(name: string, raw: string | undefined, fallback: number, max: number, min = 1): number | string {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < min || n > max) {
    return `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`;
  }
  return n;
}

/**
 * Runs `loopwork worker` with `args`; resolves with the exit code once it has stopped. It
 * owns the process: once stopped (or failed to start), anything left holding the process
 * open (a connection to a Redis that is gone) is ended after 2 s (0.2 s) by exiting with
 * that code.
 */
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
        "connect-timeout-ms": { type: "string" },
        "grace-ms": { type: "string" },
        "cancel-grace-ms": { type: "string" },
        "stop-on-stdin-end": { type: "boolean" },
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
  if (connection === undefined) return fail("--connection is required (the Redis URL, e.g. redis://127.0.0.1:6379)");
  if (queue === undefined) return fail("--queue is required (the pool's queue option)");
  const badConnection = connectionProblem(connection);
  if (badConnection !== undefined) return fail(badConnection);
  if (queue === "" || queue.includes(":")) {
    return fail(`--queue must be a name without ":", got ${JSON.stringify(queue)}`);
  }
  if (mod === undefined || mod === "") return fail("--module is required (the task module's path)");
  const raw = values.threads as string | undefined;
  const threads = raw === undefined ? availableParallelism() : Number(raw);
  if (!/^\d+$/.test(raw ?? "1") || !Number.isInteger(threads) || threads < 0 || threads > 1024) {
    return fail(`--threads must be an integer from 0 (run jobs on the worker's own thread) to 1024, got ${JSON.stringify(raw)}`);
  }
  const rawConcurrency = values.concurrency as string | undefined;
  const concurrency = rawConcurrency === undefined ? threads === 0 ? INLINE_CONCURRENCY : threads : Number(rawConcurrency);
  if (!/^\d+$/.test(rawConcurrency ?? "1") || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    return fail(`--concurrency must be an integer from 1 to 10000, got ${JSON.stringify(rawConcurrency)}`);
  }
  const connectTimeoutMs = positive("connect-timeout-ms", values["connect-timeout-ms"] as string | undefined, 5_000, 3_600_000);
  if (typeof connectTimeoutMs === "string") return fail(connectTimeoutMs);
  const graceMs = positive("grace-ms", values["grace-ms"] as string | undefined, 30_000, 86_400_000);
  if (typeof graceMs === "string") return fail(graceMs);
  const cancelGraceMs = positive("cancel-grace-ms", values["cancel-grace-ms"] as string | undefined, 100, 86_400_000, 0);
  if (typeof cancelGraceMs === "string") return fail(cancelGraceMs);
  const moduleUrl = mod.startsWith("file:") ? mod : pathToFileURL(resolve(mod)).href;

  // Under Deno, every permission missing is named here (Deno's NotCapable, said in one line
  // by the command), not one at a time as each is used.
  checkBullmqPermissions(connection, moduleUrl, true);
  const log = (line: string) => process.stderr.write(`loopwork worker: ${line}\n`);
  // (A file that is not there is named so by serveQueue below.)
  const typescript = existsSync(fileURLToPath(moduleUrl)) ? await allowTypeScript(mod) : undefined;
  if (typescript !== undefined) {
    log(`the task module ${typescript}`);
    return 2;
  }
  let server;
  try {
    server = await serveQueue({ connection, queue, module: moduleUrl, threads, concurrency, connectTimeoutMs, cancelGraceMs, log });
  } catch (e) {
    if (!(e instanceof ServeError)) throw e;
    log(e.message);
    exitSoon(e.exitCode, 200);
    return e.exitCode;
  }
  const line = `queue ${JSON.stringify(queue)}, ${threads === 0 ? "0 threads (jobs run on its own thread)" : `${threads} threads`}` +
    `${concurrency !== threads ? ` (${concurrency} jobs at once)` : ""}, host ${server.host}, pid ${process.pid}`;
  // Only a signal stops it: a process that ends otherwise (a task calling process.exit() on
  // the worker's own thread, with --threads 0) says so, and never with exit code 0, which
  // would read as a clean stop to its supervisor.
  const stopWatching = onProcessEnd((code) => {
    process.stderr.write(
      `loopwork worker: the process was ended (exit code ${code}) while it served ${line}, holding ${server.running()} jobs: ` +
        `does a task call process.exit()?${threads === 0 ? " (with --threads 0 tasks run on the worker's own thread)" : ""}\n`,
    );
    return code === 0 ? TASK_ENDED_PROCESS : undefined;
  });
  let signals = 0;
  const stopped = new Promise<void>((done) => {
    let grace: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      clearTimeout(grace);
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      if (onStdinEnd) {
        process.stdin.off("end", onStdinEnd);
        process.stdin.off("close", onStdinEnd);
        process.stdin.pause();
      }
      done();
    };
    const stop = (force: boolean) => server.close(force).then(finish, finish);
    const onSignal = (signal: string) => {
      signals++;
      if (signals === 1) {
        process.stdout.write(
          `loopwork worker: ${signal}: finishing the ${server.running()} jobs it holds within ${graceMs} ms ` +
            `(again to hand them back at once)\n`,
        );
        grace = setTimeout(() => {
          process.stdout.write(`loopwork worker: the grace period is over: handing back the jobs it holds\n`);
          stop(true);
        }, graceMs);
        stop(false);
      } else {
        clearTimeout(grace);
        process.stdout.write(`loopwork worker: ${signal}: handing back the jobs it holds\n`);
        stop(true);
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const onStdinEnd = values["stop-on-stdin-end"] === true ? () => onSignal("standard input ended") : undefined;
    if (onStdinEnd) {
      // The program at the other end of the pipes is gone: what is written to them goes nowhere.
      process.stdout.on("error", noop);
      process.stderr.on("error", noop);
      process.stdin.on("end", onStdinEnd);
      process.stdin.on("close", onStdinEnd);
      process.stdin.on("error", onStdinEnd);
      process.stdin.resume();
      // With --threads 0 a job busy on this thread hides the end: a watchdog thread sees it,
      // and ends the process if it has not stopped by the end of the grace period and a margin.
      if (threads === 0) {
        watchStdinEnd(
          graceMs + STDIN_END_MARGIN_MS,
          `loopwork worker: standard input ended ${graceMs + STDIN_END_MARGIN_MS} ms ago and it has not stopped ` +
            `(a job busy on the worker's own thread, with --threads 0?): killing it (${line})\n`,
        );
      }
    }
    // Printed once a signal stops it gracefully: whoever waits for this line may signal at once.
    process.stdout.write(`loopwork worker: started: ${line}\n`);
  });
  await stopped;
  stopWatching();
  process.stdout.write(`loopwork worker: stopped: ${line}\n`);
  exitSoon(0);
  return 0;
}

/**
 * Exits with `code` after `ms` if something still holds the process open (ioredis ends a
 * socket within 2 s, and may have a reconnection timer running): an unref'd timer.
 */
function exitSoon(code: number, ms = 2_000): void {
  nodeSetTimeout(() => process.exit(code), ms).unref();
}
