/**
 * Trio's generic lock tests (src/trio/_tests/test_sync.py: test_generic_lock_exclusion,
 * test_generic_lock_fifo_fairness, test_generic_lock_acquire_nowait_blocks_acquire), run
 * over every lock-like of loopwork: Lock, Semaphore(1), BoundedSemaphore(1),
 * CapacityLimiter(1), a Condition's lock, and a Queue used as a lock (Trio's ChannelLock2).
 * (test_CapacityLimiter* are ported in test/capacity-limiter.test.ts.) Trio's
 * `await _core.checkpoint()` is `yield* yieldNow()`; its nursery is a `taskGroup`.
 * Trio makes every `acquire` a checkpoint, asyncio (and loopwork) do not wait on a free
 * lock, so the fairness case yields inside the critical section to let the others queue.
 */
import assert from "node:assert/strict";
import {
  BoundedSemaphore,
  CapacityLimiter,
  Condition,
  type Coroutine,
  Event,
  type Future,
  type Held,
  Lock,
  Queue,
  run,
  Semaphore,
  taskGroup,
  yieldNow,
} from "../../mod.ts";
import { describe, it } from "../harness.ts";

const virtual = { clock: "virtual" } as const;

/** The part of a lock every lock-like here offers: take it (waiting), give it back. */
interface LockLike {
  acquire(): Coroutine<void>;
  release(): void;
}

/**
 * A lock-like over a primitive whose acquire gives a `Held` handle: release goes through the
 * handle of the current holder (a CapacityLimiter's token belongs to its borrower, and a
 * group's body is a task of its own in loopwork, unlike a Trio nursery's body).
 */
function viaHeld(l: { acquire(): Future<Held> }): LockLike {
  let holder: Held | null = null;
  return {
    *acquire() {
      holder = yield* l.acquire();
    },
    release: () => {
      const h = holder!;
      holder = null;
      h.release();
    },
  };
}

/** Trio's ChannelLock2: a queue holding one token; acquire takes it, release puts it back. */
function channelLock(): LockLike {
  const q = new Queue<null>({ maxsize: 10 });
  q.putNowait(null);
  return {
    *acquire() {
      yield* q.get();
    },
    release: () => q.putNowait(null),
  };
}

const factories: [string, () => LockLike][] = [
  ["CapacityLimiter(1)", () => viaHeld(new CapacityLimiter(1))],
  ["Semaphore(1)", () => viaHeld(new Semaphore(1))],
  ["BoundedSemaphore(1)", () => viaHeld(new BoundedSemaphore(1))],
  ["Lock", () => viaHeld(new Lock())],
  ["Condition", () => viaHeld(new Condition())],
  ["Queue as a lock (ChannelLock2)", channelLock],
];

for (const [name, make] of factories) {
  describe(`trio test_sync generic lock tests: ${name}`, () => {
    it("test_generic_lock_exclusion: one worker at a time in the critical section", async () => {
      await run(function* () {
        const LOOPS = 10;
        const WORKERS = 5;
        let inCriticalSection = false;
        let acquires = 0;
        const lock = make();
        yield* taskGroup(function* (tg) {
          for (let w = 0; w < WORKERS; w++) {
            tg.spawn(function* () {
              for (let i = 0; i < LOOPS; i++) {
                yield* lock.acquire();
                try {
                  acquires++;
                  assert.ok(!inCriticalSection);
                  inCriticalSection = true;
                  yield* yieldNow();
                  yield* yieldNow();
                  assert.ok(inCriticalSection);
                  inCriticalSection = false;
                } finally {
                  lock.release();
                }
              }
            });
          }
        });
        assert.ok(!inCriticalSection);
        assert.equal(acquires, 50);
      }, virtual);
    });

    it("test_generic_lock_fifo_fairness: workers queued on the lock get it in turn, in the same order every round", async () => {
      await run(function* () {
        const initialOrder: number[] = [];
        const record: number[] = [];
        const LOOPS = 5;
        const lock = make();
        yield* taskGroup(function* (tg) {
          for (const n of [1, 2, 3]) {
            tg.spawn(function* () {
              initialOrder.push(n);
              for (let i = 0; i < LOOPS; i++) {
                yield* lock.acquire();
                try {
                  record.push(n);
                  yield* yieldNow(); // Trio's acquire is a checkpoint; here the holder yields
                } finally {
                  lock.release();
                }
              }
            });
          }
        });
        for (let i = 0; i < LOOPS; i++) assert.deepEqual(record.slice(3 * i, 3 * (i + 1)), initialOrder);
      }, virtual);
    });

    it("test_generic_lock_acquire_nowait_blocks_acquire: a lock taken without waiting makes a later acquire wait", async () => {
      await run(function* () {
        const lock = make();
        const record: string[] = [];
        yield* lock.acquire(); // free: taken at once, as Trio's acquire_nowait
        yield* taskGroup(function* (tg) {
          tg.spawn(function* () {
            record.push("started");
            yield* lock.acquire();
            lock.release();
            record.push("finished");
          });
          yield* yieldNow();
          yield* yieldNow();
          assert.deepEqual(record, ["started"]);
          lock.release();
        });
        assert.deepEqual(record, ["started", "finished"]);
      }, virtual);
    });
  });
}

describe("trio test_sync: test_Event", () => {
  it("set() wakes every waiter", async () => {
    await run(function* () {
      const e = new Event();
      assert.ok(!e.isSet());
      e.set();
      assert.ok(e.isSet());
      yield* e.wait();
      const e2 = new Event();
      const record: string[] = [];
      yield* taskGroup(function* (tg) {
        for (let i = 0; i < 2; i++) {
          tg.spawn(function* () {
            record.push("sleeping");
            yield* e2.wait();
            record.push("woken");
          });
        }
        yield* yieldNow();
        assert.deepEqual(record, ["sleeping", "sleeping"]);
        assert.equal(e2._waiters.size, 2);
        e2.set();
        yield* yieldNow();
        assert.deepEqual(record, ["sleeping", "sleeping", "woken", "woken"]);
      });
    }, virtual);
  });
});
