/**
 * Producer and consumers around a bounded queue: back-pressure, join, shutdown.
 *
 * One producer makes 24 jobs faster than they can be done; three consumers do them. The
 * queue holds at most 4, so the producer waits whenever it is full (back-pressure). When
 * every job is put, `join()` waits until each was marked done, then `shutdown()` ends the
 * consumers' `for await` loops.
 *
 *   npx tsx examples/06-producer-consumer.ts
 *   deno run -A examples/06-producer-consumer.ts
 */
import { getRunningLoop, Queue, run, sleep, spawn } from "../mod.ts";

interface Job {
  id: number;
  ms: number;
}

const JOBS = 24;
const CONSUMERS = 3;
const MAXSIZE = 4;

await run(function* () {
  const loop = getRunningLoop();
  const queue = new Queue<Job>({ maxsize: MAXSIZE });
  const done = new Map<string, number[]>();
  let largest = 0;
  let producerWaitMs = 0;

  const consumers = Array.from({ length: CONSUMERS }, (_, i) => {
    const name = `consumer-${i + 1}`;
    done.set(name, []);
    return spawn(async () => {
      for await (const job of queue) {
        await sleep(job.ms); // the work
        done.get(name)!.push(job.id);
        queue.taskDone();
      }
      return name;
    }, { name });
  });

  const t0 = loop.time();
  for (let id = 1; id <= JOBS; id++) {
    const job = { id, ms: 10 + (id % 4) * 5 };
    const before = loop.time();
    yield* queue.put(job); // waits while 4 jobs are queued
    producerWaitMs += loop.time() - before;
    largest = Math.max(largest, queue.qsize());
  }
  const putAll = loop.time() - t0;
  yield* queue.join(); // every job marked done
  const allDone = loop.time() - t0;
  queue.shutdown(); // consumers' loops end
  for (const c of consumers) yield* c;

  const serialMs = Array.from({ length: JOBS }, (_, i) => 10 + ((i + 1) % 4) * 5).reduce((a, b) => a + b, 0);
  console.log(`jobs: ${JOBS}, consumers: ${CONSUMERS}, queue maxsize: ${MAXSIZE}`);
  for (const [name, ids] of done) console.log(`  ${name} did ${ids.length} jobs: ${ids.join(" ")}`);
  console.log(`largest queue seen by the producer: ${largest} (never above maxsize)`);
  console.log(`producer waited ${producerWaitMs.toFixed(0)} ms in put() (back-pressure); all put after ${putAll.toFixed(0)} ms`);
  console.log(`join() returned after ${allDone.toFixed(0)} ms; the same jobs one by one take ${serialMs} ms`);
  console.log(`after shutdown: isShutdown=${queue.isShutdown()}, items left: ${queue.qsize()}`);
});
