/**
 * 12 — Generators are hand-made coroutines: send, throw, yield* delegation, a tiny scheduler.
 *
 * Before any library: a JavaScript generator can be paused (`yield`), resumed with a value
 * (`next(v)`, Python's `send`), resumed with an error (`throw(e)`), and can delegate to
 * another generator (`yield*`, Python's `yield from`). A round-robin scheduler of a few lines
 * then runs several of them "at once" on one thread. loopwork's loop is this idea, grown up.
 *
 *   npx tsx examples/12-hand-made-coroutines.ts
 *   deno run -A examples/12-hand-made-coroutines.ts
 */

// 1. send: a running average that receives numbers through next(v).
function* averager(): Generator<number, never, number> {
  let total = 0;
  let count = 0;
  let average = NaN;
  for (;;) {
    const value = yield average;
    total += value;
    count++;
    average = total / count;
  }
}
const avg = averager();
avg.next(); // prime it: run to the first yield
console.log("send:", [10, 20, 60].map((v) => avg.next(v).value).join(" → "));

// 2. throw: an error delivered at the paused yield, where try/catch sees it.
function* careful(): Generator<string, string, unknown> {
  try {
    yield "working";
    return "finished";
  } catch (e) {
    return `caught "${(e as Error).message}" at the yield, cleaned up`;
  }
}
const c = careful();
c.next();
console.log("throw:", c.throw(new Error("stop")).value);

// 3. yield*: delegation passes values and errors through, and returns the inner result.
function* inner(): Generator<string, number, unknown> {
  yield "inner step 1";
  yield "inner step 2";
  return 42;
}
function* outer(): Generator<string, string, unknown> {
  const result = yield* inner();
  yield `outer got ${result}`;
  return "done";
}
console.log("yield*:", [...outer()].join(", "));

// 4. A tiny scheduler: each task yields to give the others a turn.
type Job = Generator<void, void, unknown>;
function* worker(name: string, steps: number, log: string[]): Job {
  for (let i = 1; i <= steps; i++) {
    log.push(`${name}${i}`);
    yield; // let the others run
  }
}
function roundRobin(jobs: Job[]): void {
  const ready = [...jobs];
  while (ready.length > 0) {
    const job = ready.shift()!;
    if (!job.next().done) ready.push(job);
  }
}
const log: string[] = [];
const t0 = performance.now();
roundRobin([worker("a", 3, log), worker("b", 2, log), worker("c", 3, log)]);
console.log(`scheduler: ${log.join(" ")} (interleaved on one thread in ${(performance.now() - t0).toFixed(2)} ms)`);
