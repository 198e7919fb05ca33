/**
 * The `cluster` strategy of `loopwork compare --connection URL`: two local `loopwork worker`
 * processes serve a fresh queue on the given Redis, and the workloads run on a `"bullmq"`
 * pool, so the table shows what the trip through Redis costs against the thread pool.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { checkRedis } from "../../pool/backends/bullmq-wire.ts";
import { WorkerPool } from "../../pool/worker-pool.ts";
import { workloadModuleUrl, type Workloads } from "./builtin.ts";

/**
 * A worker process of the comparison's cluster ended while it ran: `compare --connection`
 * stops, reports nothing, and exits 1 with this message.
 *
 * @example
 * ```ts
 * const e = new ClusterWorkerLost("a cluster worker process (pid 42) ended (SIGKILL) while the comparison ran");
 * console.log(e.name); // "ClusterWorkerLost"
 * ```
 */
export class ClusterWorkerLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterWorkerLost";
  }
}

/** A running cluster: the pool and the worker processes behind it. */
export interface ComparisonCluster {
  pool: WorkerPool<Workloads>;
  /** Closes the pool and stops the worker processes. */
  stop(): Promise<void>;
  /**
   * Rejects once a worker process ends before `stop()` (killed, crashed): the calls it held
   * wait for their locks to expire, and what is measured meanwhile is that wait.
   */
  lost: Promise<never>;
}

/** The command that runs this package's CLI on this runtime (from source or from dist). */
function cliCommand(): [string, string[]] {
  const fromSource = import.meta.url.endsWith(".ts");
  const cli = fileURLToPath(new URL(`../cli.${fromSource ? "ts" : "js"}`, import.meta.url));
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno !== undefined) return [deno.execPath(), ["run", "-A", cli]];
  return [process.execPath, fromSource ? ["--import", "tsx", cli] : [cli]];
}

/**
 * The worker processes started here and not exited. They serve their queue until told to
 * stop: whatever ends this process (process.exit() from a workload, a second Ctrl-C, an
 * uncaught error) kills them on its way out rather than leave them serving for ever.
 */
const live = new Set<ChildProcess>();
const killLive = (): void => {
  for (const child of live) child.kill("SIGKILL");
};

function adopt(child: ChildProcess): void {
  if (live.size === 0) process.on("exit", killLive);
  live.add(child);
  const gone = () => {
    if (!live.delete(child)) return;
    if (live.size === 0) process.off("exit", killLive);
  };
  child.once("exit", gone);
  child.once("error", gone);
}

function startWorker(connection: string, queue: string, threads: number): Promise<ChildProcess> {
  const [cmd, pre] = cliCommand();
  const module = workloadModuleUrl().href;
  const child = spawn(
    cmd,
    // Its standard input is a pipe from this process: when this process ends, however it ends
    // (SIGKILL included), the pipe closes and the worker stops rather than serve on, orphaned.
    [...pre, "worker", "--connection", connection, "--queue", queue, "--module", module, "--threads", String(threads), "--stop-on-stdin-end"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  adopt(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`loopwork worker did not start within 30 s:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (/loopwork worker: started/.test(out)) {
        clearTimeout(timer);
        child.off("exit", onExit);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`loopwork worker exited with code ${code}:\n${out}`));
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("close", () => resolve());
    child.kill("SIGTERM");
  });
}

/** How long `compare` waits for Redis before it gives up, ms. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Starts two `loopwork worker` processes of `workers / 2` threads each (at least one) on a
 * fresh queue, and a warmed-up `"bullmq"` pool that sends them the workload calls. Redis is
 * pinged first: an unreachable one (or refused credentials) throws PoolConnectionError
 * within 5 s, naming the server. Once `signal` is aborted, it stops what it started and
 * rejects with the signal's reason.
 */
export async function startCluster(connection: string, workers: number, signal?: AbortSignal): Promise<ComparisonCluster> {
  const children: ChildProcess[] = [];
  let pool: WorkerPool<Workloads> | undefined;
  let stopping = false;
  let onLost: (e: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    onLost = reject;
  });
  lost.catch(() => {});
  const stop = async () => {
    stopping = true;
    await pool?.destroy();
    await Promise.all(children.map(stopWorker));
  };
  const onAbort = () => {
    stop().catch(() => {});
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const checkAborted = async () => {
    if (signal?.aborted !== true) return;
    await stop();
    throw signal.reason;
  };
  try {
    await checkRedis(connection, CONNECT_TIMEOUT_MS);
    await checkAborted();
    const queue = `loopwork-compare-${process.pid}-${Date.now()}`;
    const threads = Math.max(1, Math.ceil(workers / 2));
    const started = await Promise.allSettled([0, 1].map(() =>
      startWorker(connection, queue, threads).then((child) => {
        children.push(child);
        child.once("exit", (code, signal) => {
          if (stopping) return;
          onLost(new ClusterWorkerLost(
            `a cluster worker process (pid ${child.pid}) ended (${signal ?? `exit code ${code}`}) while the comparison ran; ` +
              "nothing is reported (the cluster rows would measure its loss)",
          ));
        });
        if (signal?.aborted) stopWorker(child).catch(() => {});
        return child;
      })
    ));
    await checkAborted();
    const failed = started.find((r) => r.status === "rejected");
    if (failed !== undefined) {
      await stop();
      throw (failed as PromiseRejectedResult).reason;
    }
    pool = new WorkerPool<Workloads>(workloadModuleUrl(), {
      kind: "bullmq",
      connection,
      queue,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: threads * 2 }, () => pool!.run("cpu", 4)));
      }
    } catch (e) {
      await stop();
      throw signal?.aborted ? signal.reason : e;
    }
    await checkAborted();
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return { pool, stop, lost };
}
