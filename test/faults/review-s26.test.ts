/**
 * Review of session 26's merged change (tinypool's channel on Deno, trust-ends): faults found
 * and fixed. All on the virtual clock of the loop; no wall-clock bound.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CancelledError, Future, gather, Lock, Queue, run, Semaphore, sleep, spawn } from "../../mod.ts";
import { describe, it } from "../harness.ts";
import { runProgram } from "../subprocess.ts";

describe("review s26: a function task that returns a queue's future receives it as `yield*` would", () => {
  // A task whose function returns a loopwork future follows it without a coroutine. It read
  // the future's outcome directly, so a queue's grant was never received: a put() given room
  // finished its task but its item never entered (and the room stayed held: the queue was
  // full for ever), a get() finished with `undefined` and left its item reserved for nobody,
  // and a put() cancelled after room was held for it kept that room for ever.
  it("spawn(() => q.put(x)) on a full queue: the item enters when room comes", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      yield* q.put(1);
      const t = spawn(() => q.put(2));
      yield* sleep(0);
      assert.equal(yield* q.get(), 1);
      yield* t;
      assert.equal(t.result(), undefined, "the put's task ends as `yield* q.put()` would");
      assert.equal(q.qsize(), 1, "its item is in");
      assert.equal(q.getNowait(), 2);
      assert.equal(q.full(), false, "no room stays held");
    }, { clock: "virtual" });
  });

  it("spawn(() => q.get()) on an empty queue: the task gets the item, nothing stays reserved", async () => {
    await run(function* () {
      const q = new Queue<string>({ maxsize: 1 });
      const t = spawn(() => q.get());
      yield* sleep(0);
      yield* q.put("a");
      assert.equal(yield* t, "a");
      assert.equal(q.qsize(), 0);
      yield* q.put("b");
      assert.equal(q.getNowait(), "b", "the next get has the next item");
    }, { clock: "virtual" });
  });

  it("such a put task cancelled after room was held for it puts nothing and gives the room back", async () => {
    await run(function* () {
      const q = new Queue<number>({ maxsize: 1 });
      yield* q.put(1);
      const t = spawn(() => q.put(2));
      yield* sleep(0);
      assert.equal(q.getNowait(), 1); // room for t's put: held for its resumption
      t.cancel();
      yield* sleep(0);
      assert.equal(t.cancelled(), true);
      assert.equal(q.qsize(), 0, "the cancelled put put nothing");
      assert.equal(q.full(), false, "its room was given back");
      yield* q.put(3);
      assert.equal(q.getNowait(), 3);
    }, { clock: "virtual" });
  });

  it("such a get task cancelled after an item was reserved for it leaves the item to the next getter", async () => {
    await run(function* () {
      const q = new Queue<string>();
      const t = spawn(() => q.get());
      yield* sleep(0);
      q.putNowait("a"); // reserved for t
      t.cancel();
      const u = spawn(() => q.get());
      yield* sleep(0);
      assert.equal(t.cancelled(), true);
      assert.equal(yield* u, "a");
    }, { clock: "virtual" });
  });

  it("locks and semaphores acquired by a function task are held by it (unchanged)", async () => {
    await run(function* () {
      const lock = new Lock();
      const sem = new Semaphore(1);
      yield* lock.acquire();
      yield* sem.acquire();
      const a = spawn(() => lock.acquire());
      const b = spawn(() => sem.acquire());
      yield* sleep(0);
      lock.release();
      sem.release();
      yield* a;
      yield* b;
      assert.equal(lock.locked(), true);
      assert.equal(sem.locked(), true);
      // cancelled before resuming: what was granted goes back
      lock.release();
      sem.release();
      yield* lock.acquire();
      const c = spawn(() => lock.acquire());
      yield* sleep(0);
      lock.release();
      c.cancel();
      yield* sleep(0);
      assert.equal(c.cancelled(), true);
      assert.equal(lock.locked(), false, "the lock granted to a cancelled task went back");
    }, { clock: "virtual" });
  });

  it("a cancelled such task still raises CancelledError to its awaiter", async () => {
    await run(function* () {
      const q = new Queue<number>();
      const t = spawn(() => q.get());
      yield* sleep(0);
      t.cancel();
      yield* sleep(0);
      assert.throws(() => t.result(), CancelledError);
    }, { clock: "virtual" });
  });
});

describe("review s26: a tinypool thread pool made just after the process's last channel closed", () => {
  // On Deno, all BroadcastChannels of an isolate share one subscription: closing the last one
  // drops it, and a channel opened before the drop is seen keeps the dropped one. The anchor
  // (review s25) keeps the subscription once a pool exists, but it was opened with the first
  // pool: a program that closed its last channel just before made a pool whose channel, and
  // the anchor, were dead for good; every abort post failed ("expected i32", swallowed) and
  // the running call was stopped only by the grace (here 60 s), its `finally` never run, and
  // its threads' LoadingNotices were lost (a timeout did not name the module still loading).
  // Now the anchor is opened when the backend's module is evaluated, before the program's
  // code, and a refused post makes a new subscription. A fresh process: in the test process
  // an anchor exists already.
  it("its running call hears the abort; it hears its threads' LoadingNotices", async () => {
    const file = fileURLToPath(new URL("../fixtures/channel-window-program.ts", import.meta.url));
    const r = await runProgram(file);
    assert.equal(r.code, 0, `exit: ${r.code}; output:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /the abort was heard/, r.stdout + r.stderr);
    assert.match(r.stdout, /the loading was heard/, r.stdout + r.stderr);
  }, 150_000);
});

describe("review s26: gather's one pass over a list holding a Proxy whose getPrototypeOf trap throws", () => {
  // The `try` of that pass moved from its loop to its call (the loop over a 100k fan-out has
  // none): what it registered before the Proxy must still be taken back, else the general
  // path sees those futures as repeats and the gathering never ends.
  it("the futures before and after it are gathered; the Proxy item fails as `await` would", async () => {
    const hostile = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("trap getPrototypeOf");
      },
      get() {
        throw new Error("trap get");
      },
    });
    const out = await run(function* () {
      const a = new Future<number>();
      const b = new Future<number>();
      const g = gather([a, hostile as never, b], { returnExceptions: true });
      yield* sleep(0);
      a.setResult(1);
      yield* sleep(0);
      assert.equal(g.done(), false, "b is still pending");
      b.setResult(2);
      return yield* g;
    }, { clock: "virtual" });
    assert.equal(out[0], 1);
    assert.ok(out[1] instanceof Error && /trap/.test(out[1].message), String(out[1]));
    assert.equal(out[2], 2);
  });
});
