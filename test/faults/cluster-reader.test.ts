/**
 * Faults of a bullmq pool's own reader of the queue's event stream (issue 16: it replaced
 * BullMQ's QueueEvents, to settle a call one step sooner): its connection reset under calls
 * in flight, and entries it cannot read. Every time bound here is a generous "it did not
 * hang" guard, never a speed check.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { WorkerPool } from "../../mod.ts";
import {
  type Cluster,
  eventually,
  redisAvailable,
  redisCommand,
  redisRequired,
  TASKS_FILE,
  withCluster,
  within,
} from "../cluster-helpers.ts";
import { describe, it, skip } from "../harness.ts";

type Tasks = typeof import("../fixtures/tasks.ts");

const T = 90_000;

const pool = (c: Cluster) => new WorkerPool<Tasks>(pathToFileURL(TASKS_FILE), { kind: "bullmq", connection: c.redis.url, queue: c.queue });

/** The ids of the connections waiting in XREAD (the pool's event reader; a worker reads none). */
async function readers(c: Cluster): Promise<string[]> {
  const list = String(await redisCommand(c, "CLIENT", "LIST"));
  return list.split("\n").filter((l) => /\bcmd=xread\b/.test(l)).map((l) => /\bid=(\d+)/.exec(l)![1]!);
}

if (!redisAvailable && !redisRequired) {
  skip("cluster reader faults (redis-server is not installed)");
} else {
  describe("cluster faults: the pool's event reader", () => {
    it("its connection killed under calls in flight: they resolve, and so do later calls", async () => {
      await withCluster(1, 2, async (c) => {
        await using p = pool(c);
        assert.equal(await p.run("add", 1, 2), 3);
        const a = p.run("delayedEcho", "a", 1_500);
        const b = p.run("delayedEcho", "b", 3_000);
        let ids: string[] = [];
        await eventually(async () => (ids = await readers(c)).length === 1, "the pool's reader waits in XREAD", 20_000);
        await redisCommand(c, "CLIENT", "KILL", "ID", ids[0]!);
        assert.deepEqual(await within(Promise.all([a, b]), 30_000, "the calls in flight"), ["a", "b"]);
        assert.equal(await within(Promise.resolve(p.run("add", 2, 3)), 30_000, "a later call"), 5);
        // Killed again with no call in flight: the next call is answered too.
        await eventually(async () => (ids = await readers(c)).length === 1, "the reader reads again", 20_000);
        await redisCommand(c, "CLIENT", "KILL", "ID", ids[0]!);
        assert.equal(await within(Promise.resolve(p.run("add", 3, 4)), 30_000, "a call after the second kill"), 7);
      });
    }, T);

    it("an entry of the event stream it cannot read is passed over: the calls after it resolve", async () => {
      await withCluster(1, 1, async (c) => {
        await using p = pool(c);
        assert.equal(await p.run("add", 1, 2), 3);
        const pending = p.run("delayedEcho", "x", 1_500);
        // A 'completed' entry for no job of this pool, one without a job id, and one whose
        // result is not JSON, written into the stream the reader reads.
        const stream = `bull:${c.queue}:events`;
        await redisCommand(c, "XADD", stream, "*", "event", "completed", "jobId", "not-ours", "returnvalue", "{");
        await redisCommand(c, "XADD", stream, "*", "event", "completed", "returnvalue", "1");
        await redisCommand(c, "XADD", stream, "*", "odd", "1");
        assert.equal(await within(Promise.resolve(pending), 30_000, "the call after the odd entries"), "x");
        assert.equal(await within(Promise.resolve(p.run("add", 2, 2)), 30_000, "a later call"), 4);
      });
    }, T);
  });
}
