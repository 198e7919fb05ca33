/**
 * The worker entry of the own thread backend (src/pool/backends/thread.ts, the default for
 * threads): each of its worker threads loads this module, gets its requests on a private
 * port (from its `workerData`) and answers there, one at a time (see tasks.ts for the call).
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
import { abortCalls, closeParentPort, inSyncPart, resultTransfers, serve, unsendableResult } from "./tasks.ts";

/** What the own thread backend gives each of its threads (see `_startWorker` there). */
const data = workerData as {
  loopworkModule?: string | null;
  loopworkPort: MessagePort;
  loopworkWatchMemory?: unknown;
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

/**
 * A worker thread of the own backend with `resourceLimits` (see `inSync` in tasks.ts): when a
 * task ran out of memory in its synchronous part, it tells the backend and ends, so that its
 * call fails and it is replaced. (Out of memory after an `await` of the task leaves no trace:
 * that call ends only by `taskTimeoutMs` or a cancel.)
 */
function watchMemory(port: MessagePort): void {
  const timer = setInterval(() => {
    if (!inSyncPart()) return;
    clearInterval(timer);
    port.postMessage({ loopworkOutOfMemory: true } satisfies OutOfMemoryNotice);
    process.exit(1);
  }, 100);
  timer.unref();
}

// Nothing of the backend's travels on parentPort: it is closed before any task runs.
closeParentPort();

const handle = serve({
  module: data.loopworkModule ?? undefined,
  reply(req, response) {
    // A failed send is caught there, a failed receipt is the host's "messageerror".
    send(req, response);
    return undefined;
  },
});

if (data.loopworkWatchMemory === true) watchMemory(ownPort);
// One request at a time: the backend sends the next one only after this one's answer.
const port = ownPort;
const fail = (e: unknown) => port.postMessage({ loopworkError: serializeError(e) } satisfies ThreadFailure);
// A request this thread cannot read (see `unpack` in tasks.ts, which catches that for large
// ones) would otherwise be reported nowhere, and its call would wait forever: it fails.
port.on("messageerror", (e: unknown) => {
  fail(new TypeError(`a request could not be read by the worker: ${describeThrown(e)}`));
});
port.on("message", (raw: unknown) => {
  if (isAbortNotice(raw)) {
    abortCalls(raw.loopworkAbort);
    return;
  }
  // The backend stops this worker (see StopNotice): nothing of it runs after this.
  if (isStopNotice(raw)) process.exit(0);
  try {
    const req = unseal(raw);
    const out = handle((req === NOT_SEALED ? raw : req) as CallRequest | ShortCall);
    if (isThenable(out)) out.then(undefined, fail);
  } catch (e) {
    fail(e);
  }
});
