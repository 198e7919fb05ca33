/**
 * Test helpers for the BullMQ cluster: a real `redis-server` on a free loopback port and
 * real `loopwork worker` processes (from the sources: tsx on Node, `deno run` on Deno).
 * Everything started here is stopped by `stop()`, so Deno's resource sanitizer stays quiet.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
const cli = fileURLToPath(new URL("../src/tools/cli.ts", import.meta.url));
/** The task module the workers serve. */
export const TASKS_FILE: string = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));

/** Whether `redis-server` can be started here. */
export const redisAvailable: boolean = (() => {
  try {
    return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
  } catch {
    return false;
  }
})();

/** Whether the cluster tests must run (CI sets LOOPWORK_REQUIRE_REDIS=1). */
export const redisRequired: boolean = process.env.LOOPWORK_REQUIRE_REDIS === "1";

/** A loopback port nobody listens on (now). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const closed = new WeakMap<ChildProcess, Promise<void>>();

/** Resolves once `child` has exited and its output streams are closed (all it printed was read). */
function exited(child: ChildProcess): Promise<void> {
  return closed.get(child)!;
}

function track(child: ChildProcess): ChildProcess {
  closed.set(
    child,
    new Promise((resolve) => {
      child.once("close", () => resolve());
      // A program that cannot be started (ENOENT) reports an error and may never close.
      child.once("error", () => resolve());
    }),
  );
  return child;
}

/** Waits until `child` prints a line matching `ready` (or fails when it exits or after `ms`). */
function waitForOutput(child: ChildProcess, ready: RegExp, what: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) finish(null);
    };
    const onExit = (code: number | null) => finish(new Error(`${what} exited (code ${code}) before it was ready:\n${out}`));
    const onError = (e: Error) => finish(new Error(`${what} could not be started: ${e.message}`));
    const timer = setTimeout(() => finish(new Error(`${what} was not ready within ${ms} ms:\n${out}`)), ms);
    const finish = (e: Error | null) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (e !== null) reject(e);
      else resolve(out);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

/** A running `redis-server`. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops the server (its data is lost: no persistence) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Sends `signal` to the server's process (SIGSTOP pauses it, SIGCONT resumes it, SIGKILL ends it). */
  signal(signal: "SIGSTOP" | "SIGCONT" | "SIGKILL"): void;
}

function spawnRedis(port: number, extra: readonly string[]): ChildProcess {
  return track(spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes", ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  ));
}

/**
 * Starts `redis-server --port <free> --save "" --appendonly no` on 127.0.0.1, with the
 * password `password` if given (`url` then carries it).
 */
export async function startRedis(password?: string): Promise<RedisServer> {
  const extra = password === undefined ? [] : ["--requirepass", password];
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let child = spawnRedis(port, extra);
    try {
      await waitForOutput(child, /Ready to accept connections/, "redis-server", 10_000);
    } catch (e) {
      child.kill("SIGKILL");
      await exited(child);
      if (attempt < 3) continue; // the port was taken in between: try another
      throw e;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    const stop = async () => {
      // A paused server (SIGSTOP) would not act on SIGTERM until resumed.
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGCONT");
      child.kill("SIGTERM");
      await exited(child);
    };
    return {
      url: `redis://${password === undefined ? "" : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}`,
      port,
      stop,
      signal(signal) {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
      },
      async restart() {
        await stop();
        child = spawnRedis(port, extra);
        await waitForOutput(child, /Ready to accept connections/, "redis-server (restarted)", 10_000);
        child.stdout?.resume();
        child.stderr?.resume();
      },
    };
  }
}

/** A running `loopwork worker` process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then waits for it to exit; resolves with what it printed. */
  stop(): Promise<string>;
  /** SIGKILL, at once. */
  kill(): Promise<void>;
  /**
   * Sends `signal` with `process.kill` (Deno's ChildProcess.kill() would record the signal
   * as the way the child ended, whatever its exit code).
   */
  signal(signal: "SIGTERM" | "SIGINT"): void;
  /** Waits for it to exit; resolves with its exit code (null if a signal ended it). */
  exit(): Promise<number | null>;
}

/** Starts `loopwork worker --connection url --queue queue --module fixtures/tasks.ts --threads n`. */
export async function startWorker(
  url: string,
  queue: string,
  threads: number,
  module = TASKS_FILE,
  extra: string[] = [],
): Promise<WorkerProcess> {
  const args = ["worker", "--connection", url, "--queue", queue, "--module", module, "--threads", String(threads), ...extra];
  return startProcess(args);
}

/**
 * Starts `src/tools/cli.ts` with `args` (or, with `script`, that script), on this runtime, and waits
 * for its "started" line. Its standard input is `stdin`: none, or a pipe (`child.stdin`).
 */
export async function startProcess(
  args: string[],
  script = cli,
  ready = /loopwork worker: started|started/,
  stdin: "ignore" | "pipe" = "ignore",
): Promise<WorkerProcess> {
  const child = track(
    deno !== undefined
      ? spawn(deno.execPath(), ["run", "-A", script, ...args], { stdio: [stdin, "pipe", "pipe"] })
      : spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: [stdin, "pipe", "pipe"] }),
  );
  let out = "";
  const collect = (chunk: Buffer) => {
    out += chunk.toString();
  };
  try {
    out = await waitForOutput(child, ready, script === cli ? "loopwork worker" : script, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    await exited(child);
    throw e;
  }
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited(child);
      return out;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
    async exit() {
      await exited(child);
      return child.exitCode;
    },
  };
}

/** A Redis server with `workers` worker processes of `threads` threads on one fresh queue. */
export interface Cluster {
  redis: RedisServer;
  queue: string;
  workers: WorkerProcess[];
}

let queues = 0;

/**
 * Runs `body` on a fresh cluster, then stops every process it started; `extra` goes on each
 * worker's command line (e.g. `["--concurrency", "1"]`).
 */
export async function withCluster(
  workers: number,
  threads: number,
  body: (c: Cluster) => Promise<void>,
  extra: string[] = [],
): Promise<void> {
  const redis = await startRedis();
  const queue = `test-${process.pid}-${++queues}`;
  const started: WorkerProcess[] = [];
  try {
    const all = await Promise.allSettled(Array.from({ length: workers }, () => startWorker(redis.url, queue, threads, TASKS_FILE, extra)));
    for (const r of all) if (r.status === "fulfilled") started.push(r.value);
    for (const r of all) if (r.status === "rejected") throw r.reason;
    await body({ redis, queue, workers: started });
  } finally {
    await Promise.all(started.map((w) => w.stop()));
    await redis.stop();
  }
}

/** The cluster's jobs by state, read with BullMQ itself. */
export async function counts(c: Cluster): Promise<Record<string, number>> {
  const { Queue } = await import("bullmq");
  const q = new Queue(c.queue, { connection: { host: "127.0.0.1", port: c.redis.port } });
  try {
    return await q.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
  } finally {
    await q.close();
  }
}

/** Sends one command to the cluster's Redis (`CLIENT LIST`, `PUBSUB CHANNELS …`) and answers its reply. */
export async function redisCommand(c: Cluster, command: string, ...args: string[]): Promise<unknown> {
  const { Queue } = await import("bullmq");
  const q = new Queue(c.queue, { connection: { host: "127.0.0.1", port: c.redis.port } });
  try {
    const raw = (await q.getBackend().client) as unknown as { call(command: string, ...args: string[]): Promise<unknown> };
    return await raw.call(command, ...args);
  } finally {
    await q.close();
  }
}

/** Polls `check` every 50 ms until it is true, or fails after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not true within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How a command ended, and after how long. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `src/tools/cli.ts args` on this runtime and resolves when it exits; a command still
 * running after `timeoutMs` is killed (code -1), so a hang fails the test instead of it.
 */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = track(
      deno !== undefined
        ? spawn(deno.execPath(), ["run", "-A", cli, ...args], { stdio: ["ignore", "pipe", "pipe"] })
        : spawn(process.execPath, ["--import", "tsx", cli, ...args], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    exited(child).then(() => {
      clearTimeout(timer);
      resolve({ code: killed ? -1 : child.exitCode ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Resolves with `p`, or rejects naming `what` when it has not settled within `ms` (a hang guard). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}
