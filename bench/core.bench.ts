/**
 * Loop-core benchmarks (not tests): each figure is a ratio against a native baseline
 * measured in the same process, medians of several rounds after a warm-up.
 *
 *   npm run bench                                   # Node (tsx)
 *   deno run -A --v8-flags=--expose-gc bench/core.bench.ts
 *
 * Pass --json to print the figures as JSON.
 */
import { Future, run, spawn, type Task } from "../mod.ts";

const SPAWN_N = 100_000;
const PINGPONG_STEPS = 1_000_000;
const PARKED_N = 100_000;
const ROUNDS = 7;
const WARMUP = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function measure(fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

// ---- 1. spawn and await 100k trivial tasks ---------------------------------------------

function* trivial(): Generator<undefined, number, unknown> {
  return 1;
}

function* spawnAll(): Generator<Future<unknown> | undefined, void, unknown> {
  const tasks: Task<number>[] = new Array(SPAWN_N);
  for (let i = 0; i < SPAWN_N; i++) tasks[i] = spawn(trivial);
  for (let i = 0; i < SPAWN_N; i++) yield* tasks[i]!;
}

async function trivialAsync(): Promise<number> {
  return 1;
}

async function nativeSpawn(): Promise<void> {
  const ps: Promise<number>[] = new Array(SPAWN_N);
  for (let i = 0; i < SPAWN_N; i++) ps[i] = trivialAsync();
  await Promise.all(ps);
}

// ---- 2. ping-pong between two tasks -----------------------------------------------------

interface Box {
  fut: Future<number>;
}

function* server(mine: Box, theirs: Box, n: number): Generator<Future<unknown> | undefined, void, unknown> {
  for (let i = 0; i < n; i++) {
    theirs.fut.setResult(i);
    yield* mine.fut;
    mine.fut = new Future<number>();
  }
}

function* client(mine: Box, theirs: Box, n: number): Generator<Future<unknown> | undefined, void, unknown> {
  for (let i = 0; i < n; i++) {
    yield* mine.fut;
    mine.fut = new Future<number>();
    if (i < n - 1) theirs.fut.setResult(i);
  }
}

function* pingPong(): Generator<Future<unknown> | undefined, void, unknown> {
  const a: Box = { fut: new Future<number>() };
  const b: Box = { fut: new Future<number>() };
  const half = PINGPONG_STEPS / 2;
  const tb = spawn(client(b, a, half));
  const ta = spawn(server(a, b, half));
  yield* tb;
  ta.cancel();
}

async function awaitNull(): Promise<void> {
  for (let i = 0; i < PINGPONG_STEPS; i++) await null;
}

async function nativePingPong(): Promise<void> {
  let wakeA!: () => void;
  let wakeB!: () => void;
  const half = PINGPONG_STEPS / 2;
  // b parks first; a then wakes b and parks; each wake-up is one switch.
  const b = (async () => {
    for (let i = 0; i < half; i++) {
      await new Promise<void>((r) => (wakeB = r));
      wakeA();
    }
  })();
  const a = (async () => {
    for (let i = 0; i < half; i++) {
      const p = new Promise<void>((r) => (wakeA = r));
      wakeB();
      await p;
    }
  })();
  await Promise.all([a, b]);
}

// ---- 3. memory per suspended task ---------------------------------------------------------

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  gc?.();
  gc?.();
  const mem = (globalThis as { Deno?: { memoryUsage(): { heapUsed: number } } }).Deno?.memoryUsage() ??
    process.memoryUsage();
  return mem.heapUsed;
}

function* parkForever(never: Future<void>): Generator<Future<unknown> | undefined, void, unknown> {
  yield* never;
}

async function loopworkParked(): Promise<number> {
  let perTask = 0;
  await run(function* () {
    const never = new Future<void>();
    const before = heapUsed();
    const tasks: Task<void>[] = new Array(PARKED_N);
    for (let i = 0; i < PARKED_N; i++) tasks[i] = spawn(parkForever(never));
    yield; // every task takes its first step and parks
    yield;
    perTask = (heapUsed() - before) / PARKED_N;
    for (const t of tasks) t.cancel();
  });
  return perTask;
}

async function nativeParked(): Promise<number> {
  let release!: () => void;
  const never = new Promise<void>((r) => (release = r));
  const before = heapUsed();
  const ps: Promise<void>[] = new Array(PARKED_N);
  for (let i = 0; i < PARKED_N; i++) ps[i] = (async () => await never)();
  await null;
  const perTask = (heapUsed() - before) / PARKED_N;
  release();
  await Promise.all(ps);
  return perTask;
}

// ---- report -------------------------------------------------------------------------------

const runtime = (globalThis as { Deno?: { version: { deno: string } } }).Deno
  ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : `Node ${process.version}`;

const spawnNative = await measure(nativeSpawn);
const spawnOurs = await measure(() => run(spawnAll));
const switchNative = await measure(awaitNull);
const pingNative = await measure(nativePingPong);
const pingOurs = await measure(() => run(pingPong));
const memOurs = await loopworkParked();
const memNative = await nativeParked();

const figures = {
  runtime,
  gcExposed: gc !== undefined,
  spawn: { n: SPAWN_N, loopworkMs: spawnOurs, nativeMs: spawnNative, ratio: spawnOurs / spawnNative },
  switch: {
    steps: PINGPONG_STEPS,
    loopworkPerSec: PINGPONG_STEPS / (pingOurs / 1000),
    awaitNullPerSec: PINGPONG_STEPS / (switchNative / 1000),
    nativePingPongPerSec: PINGPONG_STEPS / (pingNative / 1000),
    rateVsAwaitNull: switchNative / pingOurs,
    rateVsNativePingPong: pingNative / pingOurs,
  },
  memory: { parked: PARKED_N, loopworkBytesPerTask: memOurs, nativeBytesPerAsyncFn: memNative },
};

const f = (x: number, d = 2) => x.toFixed(d);
const lines = [
  `loop core, ${runtime}, median of ${ROUNDS} after ${WARMUP} warm-up rounds`,
  `spawn+await ${SPAWN_N} tasks: loopwork ${f(spawnOurs, 1)} ms, native Promise.all ${f(spawnNative, 1)} ms ` +
    `→ ${f(figures.spawn.ratio)}× native (goal ≤ 3×)`,
  `ping-pong ${PINGPONG_STEPS} steps: loopwork ${f(figures.switch.loopworkPerSec / 1e6)} M/s, ` +
    `await null ${f(figures.switch.awaitNullPerSec / 1e6)} M/s, native promise ping-pong ` +
    `${f(figures.switch.nativePingPongPerSec / 1e6)} M/s → ${f(figures.switch.rateVsAwaitNull)} of await null ` +
    `(goal ≥ 0.33), ${f(figures.switch.rateVsNativePingPong)} of native ping-pong`,
  `memory per suspended task (${PARKED_N} parked): loopwork ${f(memOurs, 0)} B, ` +
    `native async fn ${f(memNative, 0)} B${gc ? "" : " (no --expose-gc: rough)"}`,
];

if (process.argv.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else console.log(lines.join("\n"));

if (process.argv.includes("--write")) {
  // Replace this runtime's block in BENCHMARKS.md, keeping everything else.
  const fs = await import("node:fs");
  const os = await import("node:os");
  const file = new URL("../BENCHMARKS.md", import.meta.url);
  const key = runtime.startsWith("Deno") ? "core:deno" : "core:node";
  const cmd = key === "core:deno"
    ? "deno run -A --v8-flags=--expose-gc bench/core.bench.ts --write"
    : "npm run bench -- --write";
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const block = [
    `<!-- ${key} -->`,
    `### ${runtime}`,
    "",
    `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ` +
      `${new Date().toISOString().slice(0, 10)}; command: \`${cmd}\``,
    "",
    "| benchmark | loopwork | native baseline | ratio | goal |",
    "| --- | --- | --- | --- | --- |",
    `| spawn + await ${SPAWN_N} trivial tasks | ${f(spawnOurs, 1)} ms | Promise.all ${f(spawnNative, 1)} ms | ` +
      `${f(figures.spawn.ratio)}× the time | ≤ 3× |`,
    `| ${PINGPONG_STEPS} switches, ping-pong of two tasks | ${f(figures.switch.loopworkPerSec / 1e6)} M/s | ` +
      `await null ${f(figures.switch.awaitNullPerSec / 1e6)} M/s | ${f(figures.switch.rateVsAwaitNull)} of the rate | ≥ 0.33 |`,
    `| same, against a native promise ping-pong | | ${f(figures.switch.nativePingPongPerSec / 1e6)} M/s | ` +
      `${f(figures.switch.rateVsNativePingPong)} of the rate | |`,
    `| memory per suspended task (${PARKED_N} parked) | ${f(memOurs, 0)} B | async fn ${f(memNative, 0)} B | ` +
      `${f(memOurs / memNative)}× | reported |`,
    `<!-- /${key} -->`,
  ].join("\n");
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
  const re = new RegExp(`<!-- ${key} -->[\\s\\S]*?<!-- /${key} -->`);
  text = re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, text);
  console.log(`wrote ${key} to BENCHMARKS.md`);
}
