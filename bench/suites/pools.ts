/**
 * The pools under test in suites 5 (round trip) and 6 (CPU speed-up): each is started with
 * `workers` workers on bench/fixtures/work.mjs and offers `call(op, n)` and `close()`.
 */
import { Piscina } from "piscina";
import Tinypool from "tinypool";
import workerpool from "workerpool";
import { WorkerPool } from "../../mod.ts";
import { resolvePoolOptions } from "../../src/pool/options.ts";
import { TinypoolBackend } from "../../src/pool/backends/tinypool.ts";
import { isDeno } from "../lib.ts";

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

function loopwork(kind: "thread" | "process", workers: number): Contender {
  const pool = new WorkerPool<WorkTasks>(WORK, { kind, maxWorkers: workers, minWorkers: workers });
  return {
    name: `loopwork WorkerPool (${kind === "thread" ? "threads" : "processes"})`,
    call: (op, n) => (op === "spin" ? pool.run("spin", n) : pool.run("noop")),
    close: () => pool.destroy(),
    threads: kind === "thread",
  };
}

/**
 * Under Deno, loopwork's threads run on its own worker_threads backend: this is the same
 * pool put on tinypool instead (as under Node), to show what the own backend gains.
 */
function loopworkOnTinypool(workers: number): Contender {
  const options = { kind: "thread" as const, maxWorkers: workers, minWorkers: workers };
  const pool = new WorkerPool<WorkTasks>(WORK, options);
  // The pool makes its backend on its first call: give it tinypool's before then.
  (pool as unknown as { _backend: unknown })._backend = new TinypoolBackend(resolvePoolOptions(options), WORK.href);
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

interface DenoWorkerMessage {
  id: number;
  value: unknown;
}

/** The Web Worker constructor of Deno, typed as far as this suite uses it. */
interface WebWorker {
  onmessage: ((e: { data: DenoWorkerMessage }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}
type WebWorkerConstructor = new (url: URL, options: { type: "module" }) => WebWorker;

/** Plain Deno Web Workers, dispatched round-robin: the runtime's own floor. */
function denoWorkers(workers: number): Contender {
  const Worker = (globalThis as unknown as { Worker: WebWorkerConstructor }).Worker;
  const pending = new Map<number, (v: unknown) => void>();
  const ws = Array.from({ length: workers }, () => {
    const w = new Worker(new URL("../fixtures/deno-worker.mjs", import.meta.url), { type: "module" });
    w.onmessage = (e) => {
      const done = pending.get(e.data.id);
      pending.delete(e.data.id);
      done?.(e.data.value);
    };
    return w;
  });
  let next = 0;
  return {
    name: "Deno Web Workers (raw)",
    call: (op, n) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        ws[id % workers]!.postMessage({ id, op, n });
      }),
    close: () => {
      for (const w of ws) w.terminate();
      return Promise.resolve();
    },
    threads: true,
  };
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
  if (isDeno) list.push(() => loopworkOnTinypool(workers), () => denoWorkers(workers));
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
export async function allContenders(workers: number): Promise<Contender[]> {
  const out: Contender[] = [];
  for (const make of makers(workers)) {
    const c = await start(make, workers);
    if (c !== undefined) out.push(c);
  }
  return out;
}
