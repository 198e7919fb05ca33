/**
 * The pools under test in suites 5 (round trip) and 6 (CPU speed-up): each is started with
 * `workers` workers on bench/fixtures/work.mjs and offers `call(op, n)` and `close()`.
 */
import { Piscina } from "piscina";
import Tinypool from "tinypool";
import workerpool from "workerpool";
import { WorkerPool } from "../../mod.ts";
import { isDeno } from "../lib.ts";
import { MessageChannel, Worker } from "node:worker_threads";

/** A pool as the suites drive it. */
export interface Contender {
  name: string;
  call(op: "noop" | "spin", n: number): PromiseLike<unknown>;
  close(): Promise<void>;
  /** Do its workers run in this process (threads), so that `process.cpuUsage()` counts them? */
  threads: boolean;
}

interface WorkTasks {
  [name: string]: (...args: never[]) => unknown;
  noop(): null;
  spin(n: number): number;
}

const WORK = new URL("../fixtures/work.mjs", import.meta.url);

async function warm(c: Contender, workers: number): Promise<Contender> {
  for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: workers * 2 }, () => c.call("noop", 0)));
  return c;
}

function loopwork(kind: "thread" | "process", workers: number, pipelineDepth?: number): Contender {
  const pool = new WorkerPool<WorkTasks>(WORK, {
    kind,
    maxWorkers: workers,
    minWorkers: workers,
    ...(pipelineDepth !== undefined ? { pipelineDepth } : {}),
  });
  const what = kind === "thread" ? "threads" : "processes";
  return {
    name: `loopwork WorkerPool (${pipelineDepth !== undefined ? `${what}, pipelineDepth ${pipelineDepth}` : what})`,
    call: (op, n) => (op === "spin" ? pool.run("spin", n) : pool.run("noop")),
    close: () => pool.destroy(),
    threads: kind === "thread",
  };
}

/**
 * loopwork's threads run on its own worker_threads backend: this is the same pool put on
 * tinypool instead (the option `backend`), to show what the own backend gains.
 */
function loopworkOnTinypool(workers: number): Contender {
  const pool = new WorkerPool<WorkTasks>(WORK, { kind: "thread", backend: "tinypool", maxWorkers: workers, minWorkers: workers });
  return {
    name: "loopwork WorkerPool (threads, on tinypool)",
    call: (op, n) => (op === "spin" ? pool.run("spin", n) : pool.run("noop")),
    close: () => pool.destroy(),
    threads: true,
  };
}

function tinypool(workers: number): Contender {
  const pool = new Tinypool({
    filename: WORK.href,
    minThreads: workers,
    maxThreads: workers,
    // Tinypool's Atomics fast path hangs under Deno; loopwork turns it off there too.
    useAtomics: !isDeno,
  });
  return { name: "raw tinypool (threads)", call: (op, n) => pool.run({ op, n }), close: () => pool.destroy(), threads: true };
}

function piscina(workers: number): Contender {
  const pool = new Piscina({ filename: WORK.href, minThreads: workers, maxThreads: workers });
  return { name: "piscina 5", call: (op, n) => pool.run({ op, n }), close: () => pool.destroy(), threads: true };
}

function workerPool(workers: number): Contender {
  const pool = workerpool.pool(new URL("../fixtures/workerpool-worker.mjs", import.meta.url).pathname, {
    minWorkers: workers,
    maxWorkers: workers,
    workerType: "thread",
  });
  return {
    name: "workerpool 10",
    call: (op, n) => pool.exec(op, op === "spin" ? [n] : []),
    close: async () => {
      await pool.terminate();
    },
    threads: true,
  };
}

/** One bare worker as `raw` drives it: it answers each posted `{ op, n }`, in order. */
interface RawWorker {
  post(message: { op: string; n: number }): void;
  /** Sets what receives each answer. */
  listen(onAnswer: (value: unknown) => void): void;
  close(): void;
}

/**
 * Bare workers driven as directly as can be, for the limit rows of the round-trip suite:
 * `pipelined` posts every call at once, round-robin (what the machine can do); otherwise
 * each worker gets one call at a time and the others wait in a queue, as a pool does it.
 */
function raw(name: string, workers: RawWorker[], pipelined: boolean): Contender {
  type Job = { op: "noop" | "spin"; n: number; resolve: (v: unknown) => void };
  const waiting: Job[] = [];
  let head = 0;
  const running: Array<Job[]> = workers.map(() => []);
  const idle: number[] = [];
  workers.forEach((w, i) => {
    const mine = running[i]!;
    w.listen((value) => {
      mine.shift()!.resolve(value);
      if (pipelined) return;
      if (head < waiting.length) {
        const next = waiting[head]!;
        waiting[head++] = undefined as never;
        if (head === waiting.length) waiting.length = head = 0;
        mine.push(next);
        w.post({ op: next.op, n: next.n });
      } else idle.push(i);
    });
    idle.push(i);
  });
  let turn = 0;
  return {
    name,
    call: (op, n) =>
      new Promise((resolve) => {
        const job = { op, n, resolve };
        const i = pipelined ? turn++ % workers.length : idle.pop();
        if (i === undefined) {
          waiting.push(job);
          return;
        }
        running[i]!.push(job);
        workers[i]!.post({ op, n });
      }),
    close: () => {
      for (const w of workers) w.close();
      return Promise.resolve();
    },
    threads: true,
  };
}

/** A bare node:worker_threads worker answering on a private MessageChannel. */
function rawThread(): RawWorker {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL("../fixtures/raw-thread.mjs", import.meta.url), {
    workerData: { port: port2 },
    transferList: [port2],
  });
  return {
    post: (m) => port1.postMessage(m),
    listen: (f) => port1.on("message", f),
    close: () => {
      port1.close();
      void worker.terminate();
    },
  };
}

/** The Web Worker constructor of Deno, typed as far as this suite uses it. */
interface WebWorker {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}
type WebWorkerConstructor = new (url: URL, options: { type: "module" }) => WebWorker;

/** A plain Deno Web Worker. */
function denoWorker(): RawWorker {
  const Worker = (globalThis as unknown as { Worker: WebWorkerConstructor }).Worker;
  const w = new Worker(new URL("../fixtures/deno-worker.mjs", import.meta.url), { type: "module" });
  return {
    post: (m) => w.postMessage(m),
    listen: (f) => (w.onmessage = (e) => f(e.data)),
    close: () => w.terminate(),
  };
}

/** Names of the limit rows (see `raw`), which the round-trip suite compares with. */
export const LIMIT_ONE_PER_WORKER = "raw worker_threads, one call per worker (limit)";
export const LIMIT_PIPELINED = "raw worker_threads, pipelined (limit)";
export const DENO_WEB_WORKERS = "raw Deno Web Workers, one call per worker";

/**
 * The round trip suite's extra rows: the limits (bare workers, driven as directly as can be)
 * and, under Node, loopwork's threads on tinypool (under Deno, `makers` has it).
 */
function limits(workers: number): Array<() => Contender> {
  const threads = () => Array.from({ length: workers }, rawThread);
  const list: Array<() => Contender> = [
    () => raw(LIMIT_ONE_PER_WORKER, threads(), false),
    () => raw(LIMIT_PIPELINED, threads(), true),
  ];
  if (!isDeno) list.push(() => loopworkOnTinypool(workers));
  return list;
}

/** The makers of every contender that runs on this runtime, the baseline (raw tinypool) first. */
function makers(workers: number): Array<() => Contender> {
  const list: Array<() => Contender> = [
    () => tinypool(workers),
    () => loopwork("thread", workers),
    () => loopwork("process", workers),
    () => piscina(workers),
    () => workerPool(workers),
  ];
  if (isDeno) list.push(() => loopworkOnTinypool(workers), () => raw(DENO_WEB_WORKERS, Array.from({ length: workers }, denoWorker), false));
  return list;
}

async function start(make: () => Contender, workers: number): Promise<Contender | undefined> {
  try {
    return await warm(make(), workers);
  } catch (e) {
    console.error(`  (a contender could not start here: ${(e as Error).message})`);
    return undefined;
  }
}

/**
 * Runs `measure` on every contender that runs on this runtime, the baseline (raw tinypool)
 * first, each started, warmed and measured alone, then closed, so that no pool's workers
 * compete with another's.
 */
export async function eachContender(workers: number, measure: (c: Contender) => Promise<void>): Promise<void> {
  for (const make of makers(workers)) {
    const c = await start(make, workers);
    if (c === undefined) continue;
    try {
      await measure(c);
    } finally {
      await c.close();
    }
  }
}

/**
 * Starts and warms every contender at once, the baseline first, for measurements taken in
 * interleaved rounds: an idle pool's workers sleep, so they do not disturb the one measured,
 * and a burst of load on the shared machine hits every contender of a round alike.
 */
export async function allContenders(workers: number, withLimits = false): Promise<Contender[]> {
  const out: Contender[] = [];
  // With the limits: the own thread backend without calls posted ahead too (one call per worker at a time).
  const extra = withLimits ? [() => loopwork("thread", workers, 0), ...limits(workers)] : [];
  for (const make of [...makers(workers), ...extra]) {
    const c = await start(make, workers);
    if (c !== undefined) out.push(c);
  }
  return out;
}
