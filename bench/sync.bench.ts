/**
 * Speed of the sync primitives and queues, against a minimal promise-based baseline
 * measured in the same run (an async mutex and an async channel of the usual
 * resolver-queue kind, on host microtasks). Ratios, not absolute times, are the result.
 *
 *   npx tsx bench/sync.bench.ts
 *   deno run -A bench/sync.bench.ts
 */
import { type Coroutine, Future, Lock, Queue, run, Semaphore, spawn, type Task } from "../mod.ts";

// ---- baselines ------------------------------------------------------------------------
class PromiseMutex {
  private locked = false;
  private waiters: Array<() => void> = [];
  acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  }
}

class PromiseChannel<T> {
  private items: T[] = [];
  private getters: Array<(v: T) => void> = [];
  private putters: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async put(v: T): Promise<void> {
    while (this.items.length >= this.max) await new Promise<void>((r) => this.putters.push(r));
    const g = this.getters.shift();
    if (g) g(v);
    else this.items.push(v);
  }
  async get(): Promise<T> {
    if (this.items.length > 0) {
      const v = this.items.shift()!;
      this.putters.shift()?.();
      return v;
    }
    return new Promise<T>((r) => this.getters.push(r));
  }
}

// ---- workloads --------------------------------------------------------------------------
const TASKS = 8;
const ROUNDS = 50_000;
const ITEMS = 300_000;

async function lockBaseline(): Promise<void> {
  const m = new PromiseMutex();
  let shared = 0;
  await Promise.all(Array.from({ length: TASKS }, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      await m.acquire();
      shared++;
      await Promise.resolve(); // hold it across a suspension: the others queue up
      m.release();
    }
  }));
  if (shared !== TASKS * ROUNDS) throw new Error("baseline lock lost updates");
}

function* lockWorker(lock: Lock, counter: { n: number }): Coroutine<void> {
  for (let i = 0; i < ROUNDS; i++) {
    yield* lock.acquire();
    counter.n++;
    yield; // hold it across a suspension: the others queue up
    lock.release();
  }
}

async function lockLoopwork(): Promise<void> {
  await run(function* () {
    const lock = new Lock();
    const counter = { n: 0 };
    const tasks: Task<void>[] = [];
    for (let t = 0; t < TASKS; t++) tasks.push(spawn(lockWorker(lock, counter)));
    for (const t of tasks) yield* t;
    if (counter.n !== TASKS * ROUNDS) throw new Error("loopwork lock lost updates");
  });
}

function* semWorker(sem: Semaphore): Coroutine<void> {
  for (let i = 0; i < ROUNDS; i++) {
    yield* sem.acquire();
    yield;
    sem.release();
  }
}

async function semaphoreLoopwork(): Promise<void> {
  await run(function* () {
    const sem = new Semaphore(2);
    const tasks: Task<void>[] = [];
    for (let t = 0; t < TASKS; t++) tasks.push(spawn(semWorker(sem)));
    for (const t of tasks) yield* t;
  });
}

async function queueBaseline(): Promise<void> {
  const ch = new PromiseChannel<number>(1);
  let sum = 0;
  await Promise.all([
    (async () => {
      for (let i = 0; i < ITEMS; i++) await ch.put(i);
    })(),
    (async () => {
      for (let i = 0; i < ITEMS; i++) sum += await ch.get();
    })(),
  ]);
  if (sum !== (ITEMS * (ITEMS - 1)) / 2) throw new Error("baseline channel lost items");
}

function* producer(q: Queue<number>): Coroutine<void> {
  for (let i = 0; i < ITEMS; i++) yield* q.put(i);
}
function* consumer(q: Queue<number>, out: { sum: number }): Coroutine<void> {
  for (let i = 0; i < ITEMS; i++) out.sum += yield* q.get();
}

async function queueLoopwork(): Promise<void> {
  await run(function* () {
    const q = new Queue<number>({ maxsize: 1 });
    const out = { sum: 0 };
    const p = spawn(producer(q));
    const c = spawn(consumer(q, out));
    yield* p;
    yield* c;
    if (out.sum !== (ITEMS * (ITEMS - 1)) / 2) throw new Error("loopwork queue lost items");
  });
}

async function time(fn: () => Promise<void>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const rows: Array<[string, number, number]> = [];
const lockOps = TASKS * ROUNDS;
rows.push(["queue maxsize 1, put+get (loopwork Queue)", await time(queueLoopwork), ITEMS]);
rows.push(["queue maxsize 1, put+get (promise channel)", await time(queueBaseline), ITEMS]);
rows.push(["contended lock, 8 tasks (loopwork Lock)", await time(lockLoopwork), lockOps]);
rows.push(["contended lock, 8 tasks (promise mutex)", await time(lockBaseline), lockOps]);
rows.push(["semaphore(2), 8 tasks (loopwork)", await time(semaphoreLoopwork), lockOps]);

console.log("best of 5 runs; ns per operation (an acquire+release, or a put+get)");
for (const [name, ms, ops] of rows) {
  console.log(`  ${name.padEnd(46)} ${((ms * 1e6) / ops).toFixed(0).padStart(6)} ns`);
}
console.log(`ratio lock  loopwork / promise mutex:   ${(rows[2]![1] / rows[3]![1]).toFixed(2)}`);
console.log(`ratio queue loopwork / promise channel: ${(rows[0]![1] / rows[1]![1]).toFixed(2)}`);
