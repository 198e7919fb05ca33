/**
 * The worker entry of the tinypool backend (src/pool/backends/tinypool.ts): tinypool loads
 * this module in every worker (thread or child process) and calls its default export once
 * per request (see tasks.ts for the call). A thread answers with the bare result, moving
 * what `transfer()` marked, and fails a call by throwing a `ThreadFailure`; a process
 * answers with the `CallResponse`. Aborts arrive on a broadcast channel (threads) or the IPC
 * channel (processes).
 * @module
 */
import { isMainThread, parentPort } from "node:worker_threads";
import {
  abortChannelName,
  type CallRequest,
  type CallResponse,
  type EncodedAnswer,
  isAbortNotice,
  type LoadingNotice,
  OUT_OF_MEMORY_REASON,
  serializeError,
  type ShortCall,
  type ThreadFailure,
  transferListOf,
  type WorkerExitNotice,
} from "../protocol.ts";
import { loadTinypool } from "../packages.ts";
import { watchHeapLimit } from "./heap-watch.ts";
import { POOL_PID_ENV, watchParent } from "./parent-watch.ts";
import { abortCalls, closeParentPort, encodedResponse, resultTransfers, serve } from "./tasks.ts";

/** A worker thread, not a child process (which has no parent port). */
const inThread = !isMainThread && parentPort !== null;
/**
 * tinypool's mark for a result that moves buffers, from the very tinypool instance whose
 * worker entry loaded this module; only tinypool's workers load it (the own threads and
 * the inline backend never do), so importing loopwork loads no npm package.
 */
const markMovable: (value: object) => void = (await loadTinypool()).markMovable;
/** tinypool's keys of a movable result (`Symbol.for`, the same in every realm). */
const kTransferable = Symbol.for("Tinypool.transferable");
const kValue = Symbol.for("Tinypool.valueOf");

/** What tinypool gives a worker thread; a process gets none (see the tinypool backend). */
const data = inThread
  ? (process as {
    __tinypool_state__?: {
      workerData?: { loopworkModule?: unknown; loopworkExitToken?: unknown; loopworkWatchMemory?: unknown };
    };
  }).__tinypool_state__?.workerData
  : undefined;

/** The runtime's own posts (tinypool's ready message, the exit notice) once tasks cannot post. */
const postOnParent = inThread ? parentPort!.postMessage.bind(parentPort) : undefined;
/** Tinypool posts its ready message on parentPort after this module loads: closed at the first call. */
let parentPortOpen = inThread;
/** The pool's secret (see WorkerExitNotice and EncodedAnswer), read before any task runs. */
const exitToken = inThread ? String(data?.loopworkExitToken) : "";

if (inThread) {
  // `process.exit()` in a worker thread ends the thread without an "error" event, and
  // tinypool would wait forever for the answer. Any unexpected message on the parent port
  // makes tinypool treat the worker as failed: it rejects the running call and replaces it.
  const token = exitToken;
  let reason: string | undefined;
  process.on("uncaughtExceptionMonitor", (e: unknown) => {
    const s = serializeError(e);
    reason = `${s.name}: ${s.message}`.slice(0, 300);
  });
  process.on("exit", (code) => {
    const notice: WorkerExitNotice = { loopworkWorkerExit: code, token };
    if (reason !== undefined) notice.reason = reason;
    postOnParent!(notice);
  });
  // With `resourceLimits`: a thread its runtime stopped at the heap limit and left alive
  // (Deno) says so in its exit notice and ends, so that its call fails and it is replaced.
  if (data?.loopworkWatchMemory === true) {
    watchHeapLimit(() => {
      reason = OUT_OF_MEMORY_REASON;
      process.exit(1);
    });
  }
}

/**
 * What the worker sends back for `response` (checked): the response (a process), or the bare
 * result (a thread), moving what `transfer()` marked. A thread fails by throwing a ThreadFailure.
 */
function reply(req: CallRequest, checked: CallResponse): unknown {
  let response = checked;
  const v = response.ok ? response.value : undefined;
  const list = resultTransfers(req, v);
  // A large result is encoded here (what transfer() marked moves beside it).
  response = encodedResponse(req, response, list, inThread) ?? response;
  if (!response.ok) {
    if (inThread) throw { loopworkError: response.error } satisfies ThreadFailure;
    return response;
  }
  if (response.encoded !== undefined) {
    if (!inThread) return response; // a child process copies it anyway
    const payload: EncodedAnswer = { loopworkEncoded: exitToken, ...response.encoded };
    const movable = { [kTransferable]: transferListOf(response.encoded), [kValue]: payload };
    markMovable(movable);
    return movable;
  }
  const payload = inThread ? response.value : response;
  if (list.length === 0) return payload;
  const movable = { [kTransferable]: list, [kValue]: payload };
  markMovable(movable);
  return movable;
}

/** The pool's channel with its threads: aborts come in, LoadingNotices go out. */
const channel = inThread ? new BroadcastChannel(abortChannelName(exitToken)) : null;

/** Tells the pool that call `id` waits for its task module to load, or no longer does. */
function loadingCall(id: number, loading: boolean): void {
  const notice: LoadingNotice = { loopworkLoading: id, loading };
  try {
    if (channel !== null) channel.postMessage(notice);
    else if (process.connected === true) process.send?.(notice);
  } catch {
    // The pool has gone: nobody to tell.
  }
}

const answerRequest = serve({
  /** The pool's task module, as a worker thread learns it from its `workerData`. */
  module: (data?.loopworkModule as string | undefined) ?? undefined,
  reply,
  process: !inThread,
  loadingCall,
});

/**
 * Answers one request (see `handle` in tasks.ts). A worker thread also takes the short form
 * of a call (`ShortCall`), and answers every request with the bare result, or fails it by
 * throwing a `ThreadFailure`.
 */
export default function handle(req: CallRequest | ShortCall): unknown {
  if (parentPortOpen) {
    parentPortOpen = false;
    closeParentPort();
  }
  return answerRequest(req);
}

if (channel !== null) {
  // Tinypool gives no channel to one worker: aborts are broadcast, naming the call.
  channel.onmessage = (e: MessageEvent) => {
    if (isAbortNotice(e.data)) abortCalls(e.data.loopworkAbort);
  };
  (channel as { unref?: () => void }).unref?.();
} else if (isMainThread) {
  // A child process: the host sends it on the IPC channel, which tinypool's entry shares.
  process.on("message", (m: unknown) => {
    if (isAbortNotice(m)) abortCalls(m.loopworkAbort);
  });
  // It ends once the pool's process is gone, whatever its main thread does (see parent-watch.ts).
  // The pool names its pid (a parent that died before this line cannot pass for its parent);
  // the variable is removed, so the tasks see the environment the pool gave them.
  const parent = Number(process.env[POOL_PID_ENV] ?? process.ppid);
  delete process.env[POOL_PID_ENV];
  watchParent(parent);
}
