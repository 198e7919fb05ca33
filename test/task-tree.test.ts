// taskTree() and dumpTasks(): the live tasks as a tree, each saying what it waits for; and
// run()'s dump of a stuck program (dumpOnStuckMs) and on SIGUSR2 in debug mode.
import assert from "node:assert/strict";
import {
  dumpTasks,
  Event,
  getRunningLoop,
  Lock,
  Queue,
  run,
  sleep,
  spawn,
  type TaskNode,
  taskGroup,
  taskTree,
  until,
  WorkerPool,
} from "../mod.ts";
import { GATE } from "./fixtures/gate-tasks.ts";
import { describe, it, runtime } from "./harness.ts";

const GATE_TASKS = new URL("./fixtures/gate-tasks.ts", import.meta.url);
const TASKS = new URL("./fixtures/tasks.ts", import.meta.url);

/** The node named `name` anywhere under `nodes`, or null. */
function findOrNull(nodes: readonly TaskNode[], name: string): TaskNode | null {
  for (const n of nodes) {
    if (n.name === name) return n;
    const below = findOrNull(n.children, name);
    if (below !== null) return below;
  }
  return null;
}

/** The node named `name` anywhere under `nodes`. */
function find(nodes: readonly TaskNode[], name: string): TaskNode {
  return findOrNull(nodes, name) ?? assert.fail(`no task ${name} in the tree`);
}

/** Replaces console.warn while `body` runs; returns what was printed. */
async function capturingWarnings(body: (printed: string[]) => Promise<void>): Promise<string[]> {
  const printed: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    printed.push(args.map(String).join(" "));
  };
  try {
    await body(printed);
  } finally {
    console.warn = warn;
  }
  return printed;
}

/** Opens the gate of the inline pool call `held()`, once that call has started (host time). */
function* openGate(value: string) {
  const g = globalThis as Record<symbol, unknown>;
  for (let i = 0; i < 2_000 && g[GATE] === undefined; i++) yield* until(new Promise((r) => setTimeout(r, 5)));
  const open = g[GATE] as ((v: string) => void) | undefined;
  assert.ok(open !== undefined, "the gated pool call started");
  delete g[GATE];
  open(value);
}

describe("taskTree(): the live tasks as a tree", () => {
  it("a small program with groups, a lock, a queue and a pool call: each task under its group, saying what it waits for", async () => {
    let tree: TaskNode[] = [];
    let text = "";
    const pool = new WorkerPool<typeof import("./fixtures/gate-tasks.ts")>(GATE_TASKS, { kind: "inline" });
    await run(function* () {
      const lock = new Lock();
      const jobs = new Queue<number>({ maxsize: 1 });
      const results = new Queue<number>();
      yield* lock.acquire();
      spawn(function* () {
        yield* sleep(50);
        tree = taskTree();
        text = dumpTasks({ where: false });
        // Unblock everything: the program then ends normally.
        lock.release();
        yield* results.put(7);
        yield* jobs.get();
        yield* jobs.get();
        yield* openGate("opened");
      }, { name: "inspector" });
      yield* taskGroup(function* (tg) {
        tg.spawn(function* () { yield* lock.withLock(() => {}); }, { name: "locker" });
        tg.spawn(function* () { yield* results.get(); }, { name: "reader" });
        tg.spawn(function* () {
          yield* taskGroup(function* (inner) {
            inner.spawn(function* () { yield* jobs.put(1); yield* jobs.put(2); }, { name: "feeder" });
            inner.spawn(function* () { yield* sleep(1_000); }, { name: "napper" });
          }, { name: "inner" });
        }, { name: "nest" });
        tg.spawn(function* () { return yield* pool.run("held"); }, { name: "offload" });
      }, { name: "work" });
    }, { clock: "virtual" });
    await pool.close();

    // Roots: main (which waits on the group) and the inspector, oldest first.
    assert.deepEqual(tree.map((n) => n.name), ["main", "inspector"]);
    const [main, inspector] = tree as [TaskNode, TaskNode];
    assert.equal(inspector.state, "running");
    assert.equal(main.state, "waiting");
    assert.equal(main.awaits, "task group work");
    assert.deepEqual(main.children.map((n) => n.name), ["work"]);
    const work = main.children[0]!;
    assert.equal(work.kind, "group");
    assert.equal(work.awaits, "its 4 child tasks");
    assert.deepEqual(work.children.map((n) => n.name), ["locker", "reader", "nest", "offload"]);
    assert.equal(find(tree, "locker").awaits, "acquire Lock<locked, waiters: 1>");
    assert.equal(find(tree, "reader").awaits, "get from Queue<size: 0, getters: 1, putters: 0>");
    // A group inside a child: the child waits on it, its children under it.
    const nest = find(tree, "nest");
    assert.equal(nest.awaits, "task group inner");
    assert.deepEqual(nest.children.map((n) => n.name), ["inner"]);
    assert.deepEqual(nest.children[0]!.children.map((n) => n.name), ["feeder", "napper"]);
    assert.equal(find(tree, "feeder").awaits, "put to Queue<size: 1/1, getters: 0, putters: 1>");
    assert.equal(find(tree, "napper").awaits, "sleep until 1000 ms (950 ms left)");
    // The pool call: its task waits on the call, under the task that waits on it.
    const offload = find(tree, "offload");
    assert.equal(offload.awaits, "task pool:held");
    assert.match(offload.children[0]!.awaits!, /^pool call pool:held \(inline, on the loop's thread\), running for \d+ ms$/);

    assert.equal(
      text.replace(/running for \d+ ms/, "running for N ms"),
      [
        "11 tasks at 50 ms (virtual clock)",
        "main: waiting: task group work",
        "└─ work [task group, 4 children]: waiting: its 4 child tasks",
        "   ├─ locker: waiting: acquire Lock<locked, waiters: 1>",
        "   ├─ reader: waiting: get from Queue<size: 0, getters: 1, putters: 0>",
        "   ├─ nest: waiting: task group inner",
        "   │  └─ inner [task group, 2 children]: waiting: its 2 child tasks",
        "   │     ├─ feeder: waiting: put to Queue<size: 1/1, getters: 0, putters: 1>",
        "   │     └─ napper: waiting: sleep until 1000 ms (950 ms left)",
        "   └─ offload: waiting: task pool:held",
        "      └─ pool:held: waiting: pool call pool:held (inline, on the loop's thread), running for N ms",
        "inspector: running",
      ].join("\n"),
    );
  });

  it("a call on a real thread pool is described as running on a thread worker", async () => {
    const pool = new WorkerPool<typeof import("./fixtures/tasks.ts")>(TASKS, { maxWorkers: 1 });
    try {
      await run(function* () {
        const call = pool.run("delayedEcho", 1, 60_000);
        yield* sleep(1);
        assert.match(find(taskTree(), call.name).awaits!, /^pool call pool:delayedEcho on a thread worker, running for \d+ ms$/);
        call.cancel(); // stops its worker: nothing waits a minute
      }, { clock: "virtual" });
    } finally {
      await pool.close();
    }
  }, 30_000);

  it("states: a task not started is new and names its function; a woken one is ready; an async one waits on its promise", async () => {
    await run(function* () {
      const ev = new Event();
      const gate = new Event();
      spawn(async (signal) => { await gate.wait({ signal }); }, { name: "async" });
      spawn(function* () { yield* ev.wait(); }, { name: "woken" });
      spawn(function* () { yield* until(new Promise<void>(() => {})); }, { name: "foreign" });
      yield* sleep(1);
      ev.set();
      spawn(function* fresh() {}, { name: "fresh" });
      const tree = taskTree();
      gate.set();
      assert.equal(find(tree, "fresh").state, "new");
      assert.equal(find(tree, "fresh").where, "not started: fresh");
      assert.equal(find(tree, "woken").state, "ready");
      assert.equal(find(tree, "woken").awaits, null);
      assert.equal(find(tree, "async").awaits, "its async function's promise");
      assert.equal(find(tree, "foreign").awaits, "a promise (until())");
    }, { clock: "virtual" });
  });

  it("a task cancelled and still cleaning up says so", async () => {
    await run(function* () {
      const t = spawn(function* () {
        try {
          yield* sleep(10);
        } finally {
          yield* sleep(5); // cleanup that waits
        }
      }, { name: "cleaner" });
      yield* sleep(1);
      t.cancel();
      yield* sleep(1);
      const node = find(taskTree(), "cleaner");
      assert.equal(node.cancelling, 1);
      assert.match(dumpTasks({ where: false }), /cleaner: waiting \(cancelling\): sleep until 6 ms \(4 ms left\)$/);
    }, { clock: "virtual" });
  });

  it("where: the line a generator task is suspended at (Node; Deno says nothing)", async () => {
    await run(function* () {
      spawn(function* parked() {
        yield* sleep(100); // the line below the spawn
      }, { name: "parked" });
      yield* sleep(1);
      const node = find(taskTree({ where: true }), "parked");
      if (runtime === "node") assert.match(node.where!, /^at parked \(.*task-tree\.test\.ts:\d+:\d+\)$/);
      else assert.equal(node.where, null);
      assert.equal(find(taskTree(), "parked").where, null, "not looked up unless asked");
    }, { clock: "virtual" });
  });

  it("bad options are named; outside a loop it says there is none", () => {
    assert.throws(() => taskTree(), /no running loop/);
    assert.throws(() => taskTree({ wher: true } as never), /unknown taskTree\(\) option "wher" \(known: loop, where\)/);
    assert.throws(() => dumpTasks({ loop: {} } as never), /options\.loop must be a Loop/);
    assert.throws(() => run(function* () {}, { dumpOnStuckMs: -1 }), /dumpOnStuckMs must be a finite number of milliseconds >= 0, got number -1/);
  });
});

describe("run(): the dump of a stuck program", () => {
  it("with dumpOnStuckMs, a run that makes no progress prints the task dump (once per stall)", async () => {
    let released = false;
    const printed = await capturingWarnings(async (printed) => {
      await run(function* () {
        const lock = new Lock();
        const go = new Event();
        yield* lock.acquire();
        const waiter = spawn(function* () { yield* lock.acquire(); }, { name: "waiter" });
        // Stuck: nothing will set `go`, nothing wakes on the clock. Once the dump is out,
        // the test (host code, as an operator would) sets it.
        const watch = setInterval(() => {
          if (printed.length > 0 && !released) {
            released = true;
            clearInterval(watch);
            go.set();
          }
        }, 5);
        yield* go.wait();
        lock.release();
        yield* waiter;
      }, { clock: "virtual", dumpOnStuckMs: 40 });
    });
    assert.ok(released, "the dump came");
    assert.equal(printed.length, 1, printed.join("\n---\n"));
    const dump = printed[0]!;
    assert.match(dump, /^loopwork: run\(\) made no progress for \d+ ms \(dumpOnStuckMs 40\); its tasks:\n2 tasks at 0 ms \(virtual clock\)\n/);
    assert.match(dump, /\nmain: waiting: wait for Event<unset, waiters: 1>/);
    assert.match(dump, /\nwaiter: waiting: acquire Lock<locked, waiters: 1>/);
  }, 30_000);

  it("in debug mode, SIGUSR2 prints the dump while run() runs, and run() removes its listener when it ends", async () => {
    const proc = (globalThis as { process?: { listenerCount(e: string): number; emit(e: string): boolean } }).process;
    const before = runtime === "node" ? proc!.listenerCount("SIGUSR2") : 0;
    const printed = await capturingWarnings(async (printed) => {
      await run(function* () {
        const never = new Event();
        spawn(function* () { yield* never.wait(); }, { name: "sleeper" });
        yield* sleep(1);
        if (runtime === "node") proc!.emit("SIGUSR2");
        else (globalThis as unknown as { Deno: { kill(pid: number, s: string): void; pid: number } }).Deno.kill(
          (globalThis as unknown as { Deno: { pid: number } }).Deno.pid,
          "SIGUSR2",
        );
        // A real signal arrives through the host: wait for it on the host's time.
        for (let i = 0; i < 1_000 && !printed.some((p) => p.startsWith("loopwork: SIGUSR2")); i++) {
          yield* until(new Promise((r) => setTimeout(r, 10)));
        }
      }, { clock: "virtual", debug: true });
    });
    // Debug mode may also report the step that dumped as slow (the first lookup of lines).
    const dumps = printed.filter((p) => p.startsWith("loopwork: SIGUSR2"));
    assert.equal(dumps.length, 1, printed.join("\n---\n"));
    assert.match(dumps[0]!, /^loopwork: SIGUSR2: the tasks of run\(\):\n2 tasks at 1 ms \(virtual clock\)\nmain: (running|waiting: a promise \(until\(\)\))\nsleeper: waiting: wait for Event<unset, waiters: 1>/);
    if (runtime === "node") assert.equal(proc!.listenerCount("SIGUSR2"), before);
  }, 30_000);

  it("without debug mode nothing listens for SIGUSR2", async () => {
    if (runtime !== "node") return; // Deno has no listener count to read
    const proc = (globalThis as { process?: { listenerCount(e: string): number } }).process!;
    const before = proc.listenerCount("SIGUSR2");
    await run(function* () {
      assert.equal(proc.listenerCount("SIGUSR2"), before);
      assert.equal(getRunningLoop().getDebug(), false);
    });
  });
});
