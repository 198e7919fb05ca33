/**
 * Suite: the time from `cancel()` of a running pool call to a free worker — the next call's
 * answer — when the task honours its signal. Baseline: `cancelGraceMs: 0`, which stops the
 * worker at once (a new one starts and loads the task module, as piscina and tinypool do);
 * against it, the cooperative cancel (default grace), where the task returns on its signal
 * and its worker takes the next call.
 *
 * Each pool has one worker, kept (`minWorkers: 1`); the contenders are measured in
 * interleaved rounds and each ratio is the median of the per-round ratios.
 */
import { WorkerPool, type WorkerPoolOptions } from "../../mod.ts";
import { emit, isDeno, median, runtime } from "../lib.ts";

type Tasks = typeof import("../fixtures/cancel.ts");
const MODULE = new URL("../fixtures/cancel.ts", import.meta.url);
const ROUNDS = 15;
/** How long the task runs before its cancel (not timed). */
const SETTLE_MS = 20;

/** "thread" is the own thread backend (the default); "tinypool threads" the same kind on tinypool. */
type Flavour = "thread" | "process" | "tinypool threads";
const flavours: Flavour[] = isDeno ? ["thread", "process"] : ["thread", "tinypool threads", "process"];

function pool(flavour: Flavour, cancelGraceMs: number): WorkerPool<Tasks> {
  const options: WorkerPoolOptions = {
    kind: flavour === "process" ? "process" : "thread",
    maxWorkers: 1,
    minWorkers: 1,
    cancelGraceMs,
  };
  if (flavour === "tinypool threads") options.backend = "tinypool";
  return new WorkerPool<Tasks>(MODULE, options);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ms from cancel() of a running call to the answer of the next call. */
async function cancelToFree(p: WorkerPool<Tasks>): Promise<number> {
  const t = p.run("untilCancelled");
  t.then(undefined, () => {});
  await sleep(SETTLE_MS);
  const t0 = performance.now();
  t.cancel();
  await p.run("noop");
  return performance.now() - t0;
}

const entries = [];
for (const flavour of flavours) {
  const terminate = pool(flavour, 0);
  const cooperative = pool(flavour, 1_000);
  for (let i = 0; i < 3; i++) {
    await cancelToFree(terminate);
    await cancelToFree(cooperative);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      a.push(await cancelToFree(terminate));
      b.push(await cancelToFree(cooperative));
    } else {
      b.push(await cancelToFree(cooperative));
      a.push(await cancelToFree(terminate));
    }
  }
  await terminate.destroy();
  await cooperative.destroy();
  const label = flavour === "thread" ? "thread (own backend)" : flavour;
  entries.push(
    { name: `${label}: terminate (cancelGraceMs 0)`, value: median(a), unit: "ms", baseline: true, ratio: 1 },
    {
      name: `${label}: cooperative`,
      value: median(b),
      unit: "ms",
      ratio: median(b.map((x, i) => x / a[i]!)),
      // How many times faster: the baseline's time over this one's, per round.
      extra: { timesFaster: median(a.map((x, i) => x / b[i]!)) },
    },
  );
}

emit({
  suite: "cancel",
  title: "cancel() of a running call to a free worker (a task that honours its signal)",
  runtime,
  entries,
  notes: [
    `Median of ${ROUNDS} interleaved rounds; one worker per pool. "terminate" stops the worker and starts another ` +
      "(what cancelGraceMs: 0 does, and piscina and tinypool always do); \"cooperative\" aborts the task's signal and " +
      "reuses the worker. timesFaster is the median per-round ratio terminate / cooperative.",
  ],
});
