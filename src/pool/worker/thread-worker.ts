/**
 * The worker entry of the own thread backend (src/pool/backends/thread.ts, the default for
 * threads): each of its worker threads loads this module, gets its requests on a private
 * port (from its `workerData`) and answers there, in order, one at a time or up to
 * `concurrentTasksPerWorker` at once (see tasks.ts for the call).
 * @module
 */
import { type MessagePort, type TransferListItem, workerData } from "node:worker_threads";
import {
  type CallRequest,
  type CallResponse,
  describeThrown,
  isAbortNotice,
  isStopNotice,
  NOT_SEALED,
  type OutOfMemoryNotice,
  serializeError,
  type ShortCall,
  threadAnswer,
  type ThreadFailure,
  unseal,
} from "../protocol.ts";
import { isThenable } from "../../core/index.ts";
import { watchHeapLimit } from "./heap-watch.ts";
import { closeParentPort, resultTransfers, runningCall, serve, unsendableResult } from "./tasks.ts";
import type { CallContext } from "../task-context.ts";
import { isDeno } from "../packages.ts";

/** What the own thread backend gives each of its threads (see `_startWorker` there). */
const data = workerData as {
  loopworkModule?: string | null;
  loopworkPort: MessagePort;
  loopworkWatchMemory?: unknown;
  /** One cell per call in flight, by its number (see `claims` below). */
  loopworkClaims: Int32Array;
  loopworkConcurrency: number;
  /** How many task modules this worker is loading (see `WorkerEntry.loading`). */
  loopworkLoading?: Int32Array;
};

/** The own thread backend's private channel to this worker. */
const ownPort: MessagePort = data.loopworkPort;

/** Sends the answer to `req` to the own thread backend (see `threadAnswer`). */
function send(req: CallRequest, response: CallResponse): void {
  const port = ownPort;
  if (!response.ok) {
    port.postMessage({ loopworkError: response.error } satisfies ThreadFailure);
    return;
  }
  const v = response.value;
  const list = resultTransfers(req, v);
  try {
    port.postMessage(threadAnswer(v, list), list as TransferListItem[]);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    port.postMessage({ loopworkError: unsendableResult(req, reason, e) } satisfies ThreadFailure);
  }
}

// Nothing of the backend's travels on parentPort: it is closed before any task runs.
closeParentPort();

const handle = serve({
  module: data.loopworkModule ?? undefined,
  ...(data.loopworkLoading !== undefined ? { loading: data.loopworkLoading } : {}),
  reply(req, response) {
    // A failed send is caught there, a failed receipt is the host's "messageerror". Several
    // calls at once: the answer goes after its number (see `deliver`).
    if (concurrency > 1) return new Answer(req, response);
    send(req, response);
    return undefined;
  },
});

// With `resourceLimits`: a thread its runtime stopped at the heap limit and left alive
// (Deno) tells the backend and ends, so that its calls fail and it is replaced.
if (data.loopworkWatchMemory === true) {
  watchHeapLimit(() => {
    ownPort.postMessage({ loopworkOutOfMemory: true } satisfies OutOfMemoryNotice);
    process.exit(1);
  });
}
const port = ownPort;

/**
 * The calls this worker was sent and has not started, in order (see `pipelineDepth`): the
 * backend may post calls ahead, so that the worker never waits for a round trip. Each call
 * is numbered by its order on the port (1, 2, …, as the backend numbers them). A call starts
 * only if it claims its cell of `claims` (the backend wrote its number there before posting
 * it); the backend takes back an unstarted call by claiming that cell first (a cancel, a
 * call stuck behind a long one, a worker being stopped), and the worker then drops it.
 */
const claims = data.loopworkClaims;
const claimMask = claims.length - 1;
/** How many calls run at once (`concurrentTasksPerWorker`). */
const concurrency = data.loopworkConcurrency;
/** Unstarted calls: numbers and messages (`UNREADABLE`: a request this thread could not read). */
const fifo: unknown[] = [];
let fifoHead = 0;
let received = 0;
let running = 0;
let pumping = false;
/** The contexts of the running calls, by number, for an AbortNotice. */
const contexts = new Map<number, CallContext | null>();
/** Numbers of calls aborted before they started (the backend thought them started). */
const abortedEarly = new Set<number>();
const UNREADABLE = Symbol("unreadable");

/** Starts the calls that may start: in order, while fewer than `concurrency` run. */
function pump(): void {
  if (pumping) return;
  pumping = true;
  try {
    while (running < concurrency && fifoHead < fifo.length) {
      const seq = fifo[fifoHead] as number;
      const raw = fifo[fifoHead + 1];
      fifo[fifoHead] = fifo[fifoHead + 1] = undefined;
      fifoHead += 2;
      if (fifoHead === fifo.length) fifo.length = fifoHead = 0;
      // Taken back by the backend: it never runs here.
      if (Atomics.compareExchange(claims, seq & claimMask, seq, ~seq) !== seq) continue;
      running++;
      start(seq, raw);
    }
  } finally {
    pumping = false;
  }
}

/** An answer kept until its number is sent before it (several calls run at once). */
class Answer {
  constructor(readonly req: CallRequest, readonly response: CallResponse) {}
}

/** Sends `answer` (an Answer, or anything else thrown) for call `seq`, numbered first when several run at once. */
function deliver(seq: number, answer: unknown, failed: boolean): void {
  if (concurrency > 1) port.postMessage(seq);
  if (failed) fail(answer);
  else if (answer instanceof Answer) send(answer.req, answer.response);
}

/** Runs call `seq`; its answer goes back, then the next call starts. */
function start(seq: number, raw: unknown): void {
  let out: unknown;
  try {
    if (raw === UNREADABLE) {
      const e = unreadable.get(seq);
      unreadable.delete(seq);
      throw new TypeError(`a request could not be read by the worker: ${describeThrown(e)}`);
    }
    const req = unseal(raw);
    out = handle((req === NOT_SEALED ? raw : req) as CallRequest | ShortCall);
  } catch (e) {
    abortedEarly.delete(seq);
    running--;
    deliver(seq, e, true);
    leaveIfDeaf();
    return;
  }
  if (!isThenable(out)) {
    abortedEarly.delete(seq);
    running--;
    deliver(seq, out, false);
    return;
  }
  const ctx = runningCall();
  contexts.set(seq, ctx);
  if (abortedEarly.delete(seq)) ctx?.abort();
  out.then(
    (v) => {
      deliver(seq, v, false);
      ended(seq);
    },
    (e: unknown) => {
      deliver(seq, e, true);
      ended(seq);
    },
  );
}

function ended(seq: number): void {
  contexts.delete(seq);
  running--;
  pump();
  leaveIfDeaf();
}

/** Whether this worker's port can no longer receive (Deno, after a "messageerror"). */
let deaf = false;

/**
 * Ends a deaf worker once it runs nothing: the calls the backend posted ahead to it never
 * arrive, so it takes them back when the worker exits, and runs them elsewhere.
 */
function leaveIfDeaf(): void {
  if (!deaf || running > 0 || fifoHead < fifo.length) return;
  // A macrotask later, so that the answers just posted leave first.
  setTimeout(() => process.exit(0), 0);
}

/** Why requests could not be read, by number. */
const unreadable = new Map<number, unknown>();

const fail = (e: unknown) => port.postMessage({ loopworkError: serializeError(e) } satisfies ThreadFailure);
// A request this thread cannot read (see `unpack` in tasks.ts, which catches that for large
// ones) would otherwise be reported nowhere, and its call would wait forever: it fails, in
// its turn.
port.on("messageerror", (e: unknown) => {
  // Deno's port delivers nothing more after a message it could not read: this worker, deaf
  // now, ends once it has answered what it received (see `leaveIfDeaf`).
  if (isDeno) deaf = true;
  const seq = (received = (received + 1) | 0);
  unreadable.set(seq, e);
  fifo.push(seq, UNREADABLE);
  pump();
});
port.on("message", (raw: unknown) => {
  if (isAbortNotice(raw)) {
    const seq = raw.loopworkAbort;
    if (seq === null) {
      for (const ctx of contexts.values()) ctx?.abort();
    } else if (contexts.has(seq)) {
      contexts.get(seq)?.abort();
    } else if (fifo.indexOf(seq, fifoHead) >= 0) {
      abortedEarly.add(seq);
    }
    return;
  }
  // The backend stops this worker (see StopNotice): nothing of it runs after this.
  if (isStopNotice(raw)) process.exit(0);
  const seq = (received = (received + 1) | 0);
  if (running < concurrency && fifoHead === fifo.length) {
    // The common case, without the queue: claim it and run it.
    if (Atomics.compareExchange(claims, seq & claimMask, seq, ~seq) !== seq) return;
    running++;
    start(seq, raw);
    return;
  }
  fifo.push(seq, raw);
  pump();
});
