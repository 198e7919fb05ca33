/**
 * 17 — a program that hangs, and says where: `run(main, { dumpOnStuckMs })`.
 *
 * Two transfers take the same two locks in opposite orders (the classic deadlock) while a
 * clerk waits on a queue nobody fills. Nothing can ever run again. With `dumpOnStuckMs`,
 * run() notices that its loop has run nothing for that long and prints the task tree:
 * each task under its group, what it waits for and, on Node, the line it is stuck at.
 * `dumpTasks()` gives the same text on demand, and in debug mode (`debug: true`)
 * `kill -USR2 <pid>` prints it too.
 *
 * The program then ends as a stuck program does when nothing is left that could wake it:
 * the process exits with run() still pending (which is why it is not awaited here).
 *
 *   npx tsx examples/17-stuck.ts
 *   deno run -A examples/17-stuck.ts
 */
import { Lock, Queue, run, sleep, taskGroup } from "../mod.ts";

const checking = new Lock();
const savings = new Lock();
const requests = new Queue<string>();

function* transfer(from: Lock, to: Lock) {
  yield* from.withLock(function* () {
    yield* sleep(10); // long enough for the other transfer to take its first lock
    yield* to.withLock(function* () {
      console.log("moved the money (never printed)");
    });
  });
}

function* clerk() {
  for (;;) {
    const request = yield* requests.get();
    console.log(`handled ${request}`);
  }
}

function* main() {
  yield* taskGroup(function* (tg) {
    tg.spawn(transfer(checking, savings), { name: "checking→savings" });
    tg.spawn(transfer(savings, checking), { name: "savings→checking" });
    tg.spawn(clerk, { name: "clerk" });
  }, { name: "bank" });
}

const proc = (globalThis as { process?: { on(event: "exit", cb: () => void): void } }).process;
proc?.on("exit", () => console.log("the process exits with run() still pending: nothing could ever wake it"));

console.log("running a program that deadlocks; the dump follows after 300 ms of no progress");
run(main, { dumpOnStuckMs: 300 }).then(() => console.log("done (never printed)"));
