/**
 * Suite: large results. One call at a time on a pool of one worker, whose task returns a
 * payload of 1 KB … 200 MB: a Uint8Array (copied, and moved with `transfer()` on threads), a
 * string, and a plain object holding an array of numbers. The figure is the median time of
 * a call (ms), from `pool.run()` to its result; extra: MB/s. No baseline: the sweep shows
 * how the time grows with the size, and that nothing breaks on the way.
 *
 *   deno run -A bench/suites/sizes.ts            # or: node --import tsx bench/suites/sizes.ts
 *   LOOPWORK_SIZES_MAX_MB=16 … (a shorter sweep)
 */
import process from "node:process";
import { WorkerPool } from "../../mod.ts";
import { emit, type Entry, isDeno, median, runtime } from "../lib.ts";

type Tasks = typeof import("../fixtures/sizes.ts");
const TASKS = new URL("../fixtures/sizes.ts", import.meta.url);

const KB = 1024;
const MB = 1024 * KB;
const maxMb = Number(process.env.LOOPWORK_SIZES_MAX_MB ?? 200);
const SIZES = [KB, 64 * KB, MB, 16 * MB, 64 * MB, 200 * MB].filter((n) => n <= maxMb * MB);
/** A sweep point that takes longer than this is not measured at the larger sizes. */
const GIVE_UP_MS = 30_000;

function label(n: number): string {
  return n >= MB ? `${n / MB} MB` : `${n / KB} KB`;
}

function rounds(n: number): number {
  return n <= 64 * KB ? 25 : n <= 16 * MB ? 7 : 3;
}

const entries: Entry[] = [];
const notes: string[] = [];
type Task = "bytes" | "bytesMoved" | "text" | "numbers";
const payloads: { task: Task; what: string; kinds: ("thread" | "process")[]; maxMb: number }[] = [
  { task: "bytes", what: "Uint8Array", kinds: ["thread", "process"], maxMb: 200 },
  { task: "bytesMoved", what: "Uint8Array, transfer()", kinds: ["thread"], maxMb: 200 },
  { task: "text", what: "string", kinds: ["thread", "process"], maxMb: 200 },
  // 25 M numbers for 200 MB: a heavy clone anywhere; the sweep stops at 64 MB.
  { task: "numbers", what: "{ values: number[] }", kinds: ["thread", "process"], maxMb: 64 },
];

for (const kind of ["thread", "process"] as const) {
  const pool = new WorkerPool<Tasks>(TASKS, { kind, maxWorkers: 1, minWorkers: 1 });
  await pool.run("bytes", 1);
  for (const p of payloads) {
    if (!p.kinds.includes(kind)) continue;
    for (const n of SIZES) {
      if (n > p.maxMb * MB) continue;
      const name = `${kind === "thread" ? "threads" : "processes"}: ${p.what}, ${label(n)}`;
      const times: number[] = [];
      let failed: string | undefined;
      try {
        await pool.run(p.task, n); // warm: the payload is made, the path is compiled
        for (let r = 0; r < rounds(n); r++) {
          const t0 = performance.now();
          await pool.run(p.task, n);
          times.push(performance.now() - t0);
          if (times[0]! > GIVE_UP_MS) break;
        }
      } catch (e) {
        failed = `${(e as Error).name}: ${(e as Error).message}`.slice(0, 200);
      }
      if (failed !== undefined) {
        notes.push(`${name} failed: ${failed}`);
        console.error(`  sizes: ${name}: FAILED ${failed}`);
        break;
      }
      const ms = median(times);
      entries.push({ name, value: ms, unit: "ms", extra: { "MB/s": n / MB / (ms / 1000) } });
      if (ms > GIVE_UP_MS) {
        notes.push(`${name} took ${Math.round(ms)} ms: larger sizes of it were not measured`);
        break;
      }
    }
  }
  await pool.destroy();
}

emit({
  suite: "sizes",
  title: "large results: one call at a time on one worker, the task returning 1 KB … 200 MB (median ms per call)",
  runtime,
  entries,
  notes: [
    "A copied payload is made once per worker and size, so its figure is the trip; a moved one is made fresh on each call. " +
      "Processes copy everything" + (isDeno ? " (under Deno, V8-serialised inside a JSON string: the child_process channel carries JSON only)." : "."),
    ...notes,
  ],
});
