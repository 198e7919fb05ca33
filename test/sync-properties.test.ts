/**
 * Property-based tests: random schedules of acquires, releases, puts, gets and
 * cancellations, run on the virtual clock, checking the invariants that must hold
 * whatever the interleaving.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CancelledError,
  Condition,
  type Coroutine,
  type Future,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  QueueShutDown,
  run,
  Semaphore,
  sleep,
  spawn,
  type Task,
  yieldNow,
} from "../mod.ts";
import { describe, it } from "./harness.ts";

const virtual = { clock: "virtual" } as const;
const RUNS = 200;

/** Waits for a task and ignores its cancellation; any other failure is rethrown. */
function* settle(t: Task<unknown>): Coroutine<void> {
  try {
    yield* t;
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  }
}

type SemCmd =
  | { kind: "spawn"; hold: number }
  | { kind: "driverAcquire" }
  | { kind: "driverRelease" }
  | { kind: "cancelWoken" }
  | { kind: "cancel"; target: number }
  | { kind: "sleep"; ms: number }
  | { kind: "tick" };

const semCmd: fc.Arbitrary<SemCmd> = fc.oneof(
  { arbitrary: fc.constant({ kind: "driverAcquire" as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: "driverRelease" as const }), weight: 2 },
  fc.constant({ kind: "cancelWoken" as const }),
  { arbitrary: fc.record({ kind: fc.constant("spawn" as const), hold: fc.integer({ min: 0, max: 3 }) }), weight: 4 },
  fc.record({ kind: fc.constant("cancel" as const), target: fc.nat() }),
  fc.record({ kind: fc.constant("sleep" as const), ms: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("tick" as const) }),
);

describe("sync properties", () => {
  it("semaphores and locks never leak a permit, never exceed their value, and grant in FIFO order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(semCmd, { maxLength: 40, size: "medium" }),
        async (permits, useLock, cmds) => {
          const lock = useLock ? new Lock() : null;
          const sem = useLock ? null : new Semaphore(permits);
          const limit = useLock ? 1 : permits;
          await run(function* () {
            const tasks: Task<void>[] = [];
            const grants: Future<unknown>[] = [];
            const entered: boolean[] = [];
            let inside = 0;
            let driverHolds = 0;
            // The race: a waiter is granted and woken, then cancelled before it runs.
            const cancelWoken = () => {
              grants.forEach((g, j) => {
                if (g.done() && !entered[j]) tasks[j]!.cancel();
              });
            };
            for (const cmd of cmds) {
              switch (cmd.kind) {
                case "driverAcquire":
                  if (driverHolds === limit) break; // it would wait for itself
                  yield* (lock ? lock.acquire() : sem!.acquire());
                  driverHolds++;
                  inside++;
                  break;
                case "driverRelease":
                  if (driverHolds > 0) {
                    driverHolds--;
                    inside--;
                    (lock ?? sem!).release();
                    cancelWoken();
                  }
                  break;
                case "cancelWoken":
                  cancelWoken();
                  break;
                case "spawn": {
                  const id = tasks.length;
                  tasks.push(spawn(function* () {
                    const g = lock ? lock.acquire() : sem!.acquire();
                    grants[id] = g;
                    using _held = yield* g;
                    entered[id] = true;
                    // FIFO: nobody who asked earlier is still waiting.
                    for (let j = 0; j < id; j++) {
                      assert.ok(grants[j] === undefined || grants[j]!.done(), `task ${id} got in before waiting task ${j}`);
                    }
                    inside++;
                    try {
                      assert.ok(inside <= limit, `${inside} holders for ${limit} permits`);
                      if (cmd.hold > 0) yield* sleep(cmd.hold);
                    } finally {
                      inside--;
                    }
                  }));
                  break;
                }
                case "cancel":
                  if (tasks.length > 0) tasks[cmd.target % tasks.length]!.cancel();
                  break;
                case "sleep":
                  yield* sleep(cmd.ms);
                  break;
                case "tick":
                  yield* yieldNow();
                  break;
              }
            }
            for (; driverHolds > 0; driverHolds--, inside--) (lock ?? sem!).release();
            for (const t of tasks) yield* settle(t);
            assert.equal(inside, 0);
            if (lock) {
              assert.equal(lock.locked(), false, "the lock leaked");
              assert.equal(lock._waiters.size, 0);
            } else {
              assert.equal(sem!.value, permits, "a permit leaked");
              assert.equal(sem!._waiters.size, 0);
            }
          }, virtual);
        },
      ),
      { numRuns: RUNS },
    );
  });

  type QCmd =
    | { kind: "producer"; count: number; pause: number }
    | { kind: "consumer"; pause: number }
    | { kind: "driverPut" }
    | { kind: "driverGet" }
    | { kind: "cancelProducer"; target: number }
    | { kind: "cancelConsumer"; target: number }
    | { kind: "sleep"; ms: number }
    | { kind: "tick" };

  const qCmd: fc.Arbitrary<QCmd> = fc.oneof(
    { arbitrary: fc.constant({ kind: "driverPut" as const }), weight: 3 },
    { arbitrary: fc.constant({ kind: "driverGet" as const }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant("producer" as const), count: fc.integer({ min: 1, max: 6 }), pause: fc.integer({ min: 0, max: 2 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant("consumer" as const), pause: fc.integer({ min: 0, max: 2 }) }), weight: 3 },
    fc.record({ kind: fc.constant("cancelProducer" as const), target: fc.nat() }),
    fc.record({ kind: fc.constant("cancelConsumer" as const), target: fc.nat() }),
    fc.record({ kind: fc.constant("sleep" as const), ms: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant("tick" as const) }),
  );

  it("queues lose no item, duplicate none, and keep each producer's FIFO order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("fifo", "lifo", "priority"),
        fc.integer({ min: 0, max: 3 }),
        fc.array(qCmd, { maxLength: 30, size: "medium" }),
        async (kind, maxsize, cmds) => {
          const q: Queue<number> =
            kind === "fifo" ? new Queue({ maxsize }) : kind === "lifo" ? new LifoQueue({ maxsize }) : new PriorityQueue({ maxsize });
          const attempted = new Set<number>();
          const putDone = new Set<number>();
          const received: number[] = [];
          await run(function* () {
            const producers: Task<void>[] = [];
            const consumers: Task<void>[] = [];
            const waitingPut: Array<Future<void> | null> = [];
            const waitingGet: Array<Future<number> | null> = [];
            let driverItems = 0;
            for (const cmd of cmds) {
              switch (cmd.kind) {
                case "producer": {
                  const p = producers.length;
                  producers.push(spawn(function* () {
                    for (let i = 0; i < cmd.count; i++) {
                      const item = p * 100 + i;
                      attempted.add(item);
                      const f = q.put(item);
                      waitingPut[p] = f;
                      yield* f;
                      waitingPut[p] = null;
                      putDone.add(item);
                      if (cmd.pause > 0) yield* sleep(cmd.pause);
                    }
                  }));
                  break;
                }
                case "consumer": {
                  const c = consumers.length;
                  consumers.push(spawn(function* () {
                    for (;;) {
                      let x: number;
                      try {
                        const f = q.get();
                        waitingGet[c] = f;
                        x = yield* f;
                        waitingGet[c] = null;
                      } catch (e) {
                        if (e instanceof QueueShutDown) return;
                        throw e;
                      }
                      received.push(x);
                      if (cmd.pause > 0) yield* sleep(cmd.pause);
                    }
                  }));
                  break;
                }
                case "driverPut": {
                  // Hand an item to a waiting getter, then cancel every getter woken with one.
                  const item = 9_900 + driverItems++;
                  if (q.isShutdown() || q.full()) break;
                  attempted.add(item);
                  q.putNowait(item);
                  putDone.add(item);
                  waitingGet.forEach((f, j) => {
                    if (f?.done()) consumers[j]!.cancel();
                  });
                  break;
                }
                case "driverGet": {
                  // Make room for a waiting putter, then cancel every putter woken by it.
                  if (q.empty()) break;
                  received.push(q.getNowait());
                  waitingPut.forEach((f, j) => {
                    if (f?.done()) producers[j]!.cancel();
                  });
                  break;
                }
                case "cancelProducer":
                  if (producers.length > 0) producers[cmd.target % producers.length]!.cancel();
                  break;
                case "cancelConsumer":
                  if (consumers.length > 0) consumers[cmd.target % consumers.length]!.cancel();
                  break;
                case "sleep":
                  yield* sleep(cmd.ms);
                  break;
                case "tick":
                  yield* yieldNow();
                  break;
              }
              assert.ok(q.qsize() === 0 || q._getters.size === 0, `${q.qsize()} item(s) queued while ${q._getters.size} getter(s) wait`);
            }
            // Let live consumers make room so blocked producers can finish, then stop.
            yield* sleep(50);
            assert.ok(q.qsize() === 0 || q._getters.size === 0, `${q.qsize()} item(s) queued while ${q._getters.size} getter(s) wait`);
            for (const t of producers) t.cancel();
            for (const t of producers) yield* settle(t);
            q.shutdown();
            for (const t of consumers) yield* settle(t);
            while (!q.empty()) received.push(q.getNowait());
            assert.equal(q._getters.size, 0);
            assert.equal(q._putters.size, 0);
          }, virtual);
          assert.equal(new Set(received).size, received.length, `an item was delivered twice: ${received}`);
          for (const x of putDone) assert.ok(received.includes(x), `item ${x} was put but never delivered`);
          for (const x of received) assert.ok(attempted.has(x), `item ${x} came from nowhere`);
          if (kind === "fifo") {
            // (the driver's own items, 99xx, form producer 99)
            const last = new Map<number, number>();
            for (const x of received) {
              const p = Math.floor(x / 100);
              assert.ok((last.get(p) ?? -1) < x, `producer ${p}'s items out of order: ${received}`);
              last.set(p, x);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  type CondCmd =
    | { kind: "waiter" }
    | { kind: "produce" }
    | { kind: "produceAndCancelOldest" }
    | { kind: "cancel"; target: number }
    | { kind: "sleep"; ms: number }
    | { kind: "tick" };

  const condCmd: fc.Arbitrary<CondCmd> = fc.oneof(
    { arbitrary: fc.constant({ kind: "waiter" as const }), weight: 3 },
    { arbitrary: fc.constant({ kind: "produce" as const }), weight: 2 },
    { arbitrary: fc.constant({ kind: "produceAndCancelOldest" as const }), weight: 2 },
    fc.record({ kind: fc.constant("cancel" as const), target: fc.nat() }),
    fc.record({ kind: fc.constant("sleep" as const), ms: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant("tick" as const) }),
  );

  it("conditions lose no wake-up: a token left means no waiter is left waiting, and the lock never leaks", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(condCmd, { maxLength: 30, size: "medium" }), async (cmds) => {
        await run(function* () {
          const cond = new Condition();
          let tokens = 0;
          let holders = 0;
          const waiters: Task<void>[] = [];
          const waiting = new Set<number>();
          const produce = function* () {
            yield* cond.acquire();
            tokens++;
            cond.notify(1);
            cond.release();
          };
          for (const cmd of cmds) {
            switch (cmd.kind) {
              case "waiter": {
                const id = waiters.length;
                waiters.push(spawn(function* () {
                  yield* cond.withLock(function* () {
                    holders++;
                    try {
                      assert.equal(holders, 1, "two tasks hold the condition's lock");
                      waiting.add(id);
                      holders--;
                      try {
                        yield* cond.waitFor(() => tokens > 0);
                      } finally {
                        waiting.delete(id);
                        holders++;
                      }
                      assert.equal(cond.locked(), true);
                      tokens--;
                    } finally {
                      holders--;
                    }
                  });
                }));
                break;
              }
              case "produce":
                yield* produce();
                break;
              case "produceAndCancelOldest": {
                yield* produce();
                const oldest = [...waiting].sort((a, b) => a - b)[0];
                if (oldest !== undefined) waiters[oldest]!.cancel();
                break;
              }
              case "cancel":
                if (waiters.length > 0) waiters[cmd.target % waiters.length]!.cancel();
                break;
              case "sleep":
                yield* sleep(cmd.ms);
                break;
              case "tick":
                yield* yieldNow();
                break;
            }
          }
          yield* sleep(10); // quiescence
          const stillWaiting = waiters.filter((t) => !t.done()).length;
          assert.ok(tokens === 0 || stillWaiting === 0, `${tokens} token(s) left while ${stillWaiting} waiter(s) still wait`);
          assert.equal(cond.locked(), false, "the lock leaked");
          for (const t of waiters) t.cancel();
          for (const t of waiters) yield* settle(t);
          assert.equal(cond._waiters.size, 0);
          assert.equal(cond.locked(), false);
        }, virtual);
      }),
      { numRuns: 3 * RUNS },
    );
  });

  it("a PriorityQueue drains in stable sorted order and a LifoQueue in reverse, whatever was put", async () => {
    await fc.assert(
      fc.property(fc.array(fc.record({ p: fc.integer({ min: 0, max: 5 }), id: fc.nat() }), { maxLength: 50 }), (items) => {
        const pq = new PriorityQueue<{ p: number; id: number }>({ compare: (a, b) => a.p - b.p });
        const lifo = new LifoQueue<{ p: number; id: number }>();
        for (const x of items) {
          pq.putNowait(x);
          lifo.putNowait(x);
        }
        const fromPq: typeof items = [];
        while (!pq.empty()) fromPq.push(pq.getNowait());
        const fromLifo: typeof items = [];
        while (!lifo.empty()) fromLifo.push(lifo.getNowait());
        // Array.prototype.sort is stable: equal priorities keep their put order.
        assert.deepEqual(fromPq, [...items].sort((a, b) => a.p - b.p));
        assert.deepEqual(fromLifo, [...items].reverse());
      }),
      { numRuns: RUNS },
    );
  });
});
