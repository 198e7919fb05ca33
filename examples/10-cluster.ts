/**
 * The same pool on many machines: a fib fan-out on a BullMQ cluster over Redis.
 *
 * The same calls as on a local thread pool, with `kind: "bullmq"`: each call becomes a job
 * on a Redis queue, and `loopwork worker` processes (on this machine or any other) run the
 * jobs on their own threads. Start Redis and two workers first, each in its own terminal:
 *
 *   redis-server --port 6379 --save "" --appendonly no
 *   npx tsx src/tools/cli.ts worker --connection redis://127.0.0.1:6379 --queue fib --module examples/tasks/cpu.ts --threads 1
 *   npx tsx src/tools/cli.ts worker --connection redis://127.0.0.1:6379 --queue fib --module examples/tasks/cpu.ts --threads 1
 *
 * (with the package installed: `npx loopwork worker ...`), then:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/10-cluster.ts
 *   REDIS_URL=redis://127.0.0.1:6379 deno run -A examples/10-cluster.ts
 */
import { gather, run, WorkerPool } from "../mod.ts";

const N = 36;
const CALLS = 8;
const url = process.env.REDIS_URL;

if (url === undefined || url === "") {
  console.log(
    "examples/10-cluster.ts needs a Redis server and `loopwork worker` processes; see the comment at its top:\n" +
      "  redis-server --port 6379 --save \"\" --appendonly no\n" +
      "  npx tsx src/tools/cli.ts worker --connection redis://127.0.0.1:6379 --queue fib --module examples/tasks/cpu.ts  (twice)\n" +
      "  REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/10-cluster.ts\n" +
      "REDIS_URL is not set: nothing to do.",
  );
} else {
  type Cpu = typeof import("./tasks/cpu.ts");
  const fanOut = (pool: WorkerPool<Cpu>) =>
    run(function* () {
      const start = performance.now();
      const results = yield* gather(Array.from({ length: CALLS }, () => pool.run("fib", N)));
      return { ms: performance.now() - start, ok: results.every((r) => r === results[0]) };
    });

  const local = new WorkerPool<Cpu>(new URL("./tasks/cpu.ts", import.meta.url), { maxWorkers: 1, minWorkers: 1 });
  await local.run("noop");
  const one = await fanOut(local);
  await local.close();
  console.log(`${CALLS} × fib(${N}) on one local thread:      ${one.ms.toFixed(0).padStart(6)} ms`);

  await using cluster = new WorkerPool<Cpu>(new URL("./tasks/cpu.ts", import.meta.url), {
    kind: "bullmq",
    connection: url,
    queue: "fib",
  });
  const t0 = performance.now();
  await cluster.run("noop");
  console.log(`first call on the cluster (connects):   ${(performance.now() - t0).toFixed(0).padStart(6)} ms`);
  for (let i = 0; i < 4; i++) await cluster.run("noop"); // every worker has loaded the module
  const trips: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t1 = performance.now();
    await cluster.run("noop");
    trips.push(performance.now() - t1);
  }
  trips.sort((a, b) => a - b);
  console.log(`one no-op round trip through Redis:     ${trips[10]!.toFixed(1).padStart(6)} ms (median of 20)`);
  const spread = await fanOut(cluster);
  console.log(
    `${CALLS} × fib(${N}) on the cluster (${cluster.stats().workers} workers): ${spread.ms.toFixed(0).padStart(6)} ms ` +
      `(${(one.ms / spread.ms).toFixed(1)}× faster)`,
  );
}
