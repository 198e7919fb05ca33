/**
 * Loading and calling a pool's task, the part every worker entry shares and the host's own
 * thread uses too (the inline backend, a cluster's `--threads 0`): it imports the user's task
 * module lazily (registering tsx first for a `.ts` module on Node, in a worker), calls the
 * named task — only an own exported function of that module — in its call context, and
 * answers with a `CallResponse`. It never throws: a failure is an answer, so names and
 * messages of errors survive the trip (structured clone would keep only the standard ones).
 * Importing it sets nothing up: a worker entry (thread-worker.ts, tinypool-worker.ts) makes
 * its thread a worker with `serve`, saying how an answer goes back.
 * @module
 */
import { type MessagePort, parentPort, type TransferListItem } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import {
  type CallRequest,
  type CallResponse,
  collectTransfers,
  decodeValue,
  decodeEncoded,
  describeRequest,
  describeThrown,
  encodeLarge,
  encodeValue,
  findUnsendable,
  NO_TRANSFERS,
  seal,
  serializeError,
  type SerializedError,
  type ShortCall,
  STREAM_END,
} from "../protocol.ts";
import { isDeno, loadFailure, registerTsx } from "../packages.ts";
import { type Coroutine, isGenerator, isThenable, run, spawn, tryGetRunningLoop } from "../../core/index.ts";
import { CallContext, contextSlot } from "../task-context.ts";
import { Wakeup } from "../wakeup.ts";

type TaskFunction = (...args: unknown[]) => unknown;
type Namespace = Record<string, unknown>;

const modules = new Map<string, Promise<Namespace>>();
const functions = new Map<string, TaskFunction>();
let tsxReady: Promise<void> | null = null;

/**
 * @internal What the worker entry that loaded this module (thread-worker.ts,
 * tinypool-worker.ts) tells it; `null` on the host's thread (the inline backend, a cluster's
 * `--threads 0`), which calls `answer` and `checkResult` itself.
 */
export interface WorkerEntry {
  /** The pool's task module, which a short call (see ShortCall) does not name. */
  readonly module: string | undefined;
  /** Sends back the checked answer to `req`, or returns what the entry's caller sends back. */
  reply(req: CallRequest, response: CallResponse): unknown;
  /** It answers on a child process's channel, which carries no shared memory and no MessagePort. */
  readonly process?: boolean;
  /**
   * Counts the task modules this worker is loading (+1 as a load begins, -1 as it ends), in
   * memory its pool reads: a call that times out while it waits for its module says so.
   */
  readonly loading?: Int32Array;
  /**
   * Told when a numbered call (see AbortNotice) starts to wait for its task module to load
   * (`true`), and when it no longer does (`false`): tinypool's workers tell their pool (see
   * `LoadingNotice`), which has no memory shared with each worker.
   */
  readonly loadingCall?: (id: number, loading: boolean) => void;
}

let entry: WorkerEntry | null = null;

/**
 * @internal Makes this thread (or process) a pool worker, which runs one call at a time and
 * answers through `workerEntry`; returns what answers one request (see `handle`).
 */
export function serve(workerEntry: WorkerEntry): (req: CallRequest | ShortCall) => unknown {
  entry = workerEntry;
  return handle;
}

/**
 * @internal A task that posts on `parentPort` fails at once, in its own code: nothing reads
 * that port (a pool's calls travel on their own channel), and a message there would otherwise
 * arrive later, when the worker may be running another call, and be blamed on that one. A
 * worker entry closes it before the first call, and makes its own posts (tinypool's ready
 * message, the exit notice) with the `postMessage` it kept.
 */
export function closeParentPort(): void {
  parentPort!.postMessage = function postMessage(): never {
    throw new Error(
      "a task posted a message on parentPort, which a pool does not read: a task answers by returning its result",
    );
  };
}

/** @internal A module URL as a message shows it: a file path where it is one. */
export function displayPath(url: string): string {
  try {
    return url.startsWith("file:") ? fileURLToPath(url) : url;
  } catch {
    return url;
  }
}

/**
 * Registers tsx once, so Node can import a TypeScript task module; without tsx, a Node that
 * strips types itself (22.18+, 24) imports it natively, and Node 20 fails saying to install tsx.
 */
function ensureTsx(url: string): Promise<void> {
  // The inline backend runs in the host's own thread: the host decides how it loads .ts.
  if (isDeno || entry === null || !/\.[mc]?tsx?$/.test(url)) return Promise.resolve();
  return (tsxReady ??= registerTsx().catch((e: unknown) => {
    // Node 22.18+ and 24 strip types themselves: without tsx, they import the module as it is.
    if ((process.features as { typescript?: unknown }).typescript) return;
    tsxReady = null;
    throw new Error(
      `it is TypeScript, which Node ${process.versions.node} cannot import on its own: ` +
        "install tsx (npm install tsx), or point the pool at compiled JavaScript",
      { cause: e },
    );
  }));
}

/** The task modules being loaded on this thread (the inline backend's calls wait on them). */
const pending = new Set<string>();

/**
 * @internal Is the task module `url` still loading on this thread? (The inline backend asks,
 * when a call waiting for it times out; a worker's pool reads `WorkerEntry.loading`.)
 */
export function isLoading(url: string): boolean {
  return pending.has(url);
}

function loadModule(url: string): Promise<Namespace> {
  let p = modules.get(url);
  if (p === undefined) {
    pending.add(url);
    const cell = entry?.loading;
    if (cell !== undefined) Atomics.add(cell, 0, 1);
    const loaded = () => {
      pending.delete(url);
      if (cell !== undefined) Atomics.sub(cell, 0, 1);
    };
    p = ensureTsx(url)
      .then(() => import(url) as Promise<Namespace>)
      .catch((e: unknown) => {
        modules.delete(url);
        throw new Error(`cannot load the task module ${displayPath(url)}: ${loadFailure(url, e)}`, { cause: e });
      });
    p.then(loaded, loaded);
    modules.set(url, p);
  }
  return p;
}

/** Task functions already looked up, by module URL then name: the hot path needs no await. */
const resolved = new Map<string, Map<string, TaskFunction>>();

async function taskOf(url: string, name: string): Promise<TaskFunction> {
  const known = resolved.get(url)?.get(name);
  if (known !== undefined) return known;
  const loading = loadModule(url);
  const id = currentId;
  const tell = entry?.loadingCall;
  // The call's module is still loading: its pool hears of it (a timeout then names the module).
  const waits = tell !== undefined && id !== undefined && pending.has(url);
  if (waits) tell(id, true);
  let ns: Namespace;
  try {
    ns = await loading;
  } finally {
    if (waits) tell(id, false);
  }
  const fn = Object.hasOwn(ns, name) ? ns[name] : undefined;
  if (typeof fn !== "function") {
    const exported = Object.keys(ns).filter((k) => typeof ns[k] === "function");
    throw new TypeError(
      `unknown task ${JSON.stringify(name)}: it is not an exported function of ${displayPath(url)} ` +
        `(its exported functions: ${exported.length > 0 ? exported.join(", ") : "none"})`,
    );
  }
  let byName = resolved.get(url);
  if (byName === undefined) resolved.set(url, (byName = new Map()));
  byName.set(name, fn as TaskFunction);
  return fn as TaskFunction;
}

function keepName<T>(target: T): T {
  return target;
}

function functionOf(source: string): TaskFunction {
  let fn = functions.get(source);
  if (fn === undefined) {
    // toThread(): the function must be self-contained; it is rebuilt from its source here.
    // `__name` is the helper esbuild (tsx) inserts to keep function names; give it one.
    fn = new Function("__name", `"use strict"; return (${source});`)(keepName) as TaskFunction;
    if (typeof fn !== "function") throw new TypeError("toThread(): the source did not evaluate to a function");
    if (functions.size > 256) functions.clear();
    functions.set(source, fn);
  }
  return fn;
}

/** Where `taskSignal()` finds the running call's context. */
const slot = contextSlot();

/**
 * Runs `fn(...args)` as the call `ctx` (see `taskSignal`). A generator it returns runs on a
 * loopwork loop (its value is a promise then); an async generator is refused (pool.stream()).
 */
function sync(fn: TaskFunction, args: unknown[], ctx: CallContext, stream = false): unknown {
  const prev = slot.current;
  slot.current = ctx;
  let v: unknown;
  try {
    v = fn(...args);
  } finally {
    // A worker runs one call at a time: its context stays (for the task's later code).
    if (entry === null) slot.current = prev;
  }
  if (stream || v === null || typeof v !== "object") return v;
  if (typeof (v as AsyncGenerator)[Symbol.asyncIterator] === "function" && typeof (v as AsyncGenerator).next === "function") {
    throw new TypeError(`the task is an async generator: read its values with pool.stream(), not pool.run()`);
  }
  if (isGenerator(v)) return runGenerator(v, ctx);
  return v;
}


/**
 * Runs a generator task on a loopwork loop: a new one in a worker, the running one inline.
 * Aborting the call cancels it (CancelledError at its `yield*`).
 */
async function runGenerator(gen: Coroutine<unknown>, ctx: CallContext): Promise<unknown> {
  const loop = tryGetRunningLoop();
  if (loop !== undefined) {
    const t = loop.createTask(gen, { name: "pool task" });
    ctx.onAbort(() => t.cancel("the pool call was cancelled"));
    return await t;
  }
  return await run(function* () {
    const t = spawn(gen, { name: "pool task" });
    ctx.onAbort(() => t.cancel("the pool call was cancelled"));
    return yield* t;
  });
}

/**
 * Sends the values the task yields on `port` while it has credit (see STREAM_END), and
 * returns what it returned. An abort stops it (`return()` runs its `finally`); so does the
 * host, by cancelling the call when its reader stops. It answers only once the host has
 * its last value (it echoes STREAM_END), as the answer travels on another channel.
 */
async function streamValues(
  port: MessagePort,
  start: () => Promise<unknown>,
  ctx: CallContext,
  what: string,
): Promise<unknown> {
  let credit = 0;
  let acked = false;
  const wakeup = new Wakeup();
  port.on("message", (m: unknown) => {
    if (typeof m === "number") credit += m;
    else if (m === STREAM_END) acked = true;
    wakeup.wake();
  });
  // The reader closes the channel (closing it here may drop what was just posted, under
  // Deno); meanwhile it keeps nothing alive.
  port.unref();
  ctx.onAbort(wakeup.wake);
  let it: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  let done = false;
  try {
    const v = (await start()) as Partial<AsyncIterable<unknown> & Iterable<unknown>> | null;
    const make = v === null || typeof v !== "object" ? undefined : v[Symbol.asyncIterator] ?? v[Symbol.iterator];
    if (typeof make !== "function") {
      throw new TypeError(`pool.stream() reads the values a task yields: the task returned ${typeof v}, not a generator`);
    }
    it = (make as (this: unknown) => Iterator<unknown> | AsyncIterator<unknown>).call(v);
    for (let index = 0; ; index++) {
      while (credit <= 0 && !ctx.aborted) await wakeup.wait();
      if (ctx.aborted) throw ctx.signal.reason;
      const r = await resume(it, ctx);
      if (r.done === true) {
        done = true;
        return r.value;
      }
      credit--;
      sendValue(port, r.value, index, what);
    }
  } finally {
    try {
      if (it !== undefined && !done) await it.return?.();
    } finally {
      port.postMessage(STREAM_END);
      while (!acked && !ctx.aborted) await wakeup.wait();
    }
  }
}

/**
 * `it.next()` as the call `ctx`: a generator's body runs in its `next()` calls, not in the
 * task's call, so `taskSignal()` there finds its call (see `sync`).
 */
function resume(it: Iterator<unknown> | AsyncIterator<unknown>, ctx: CallContext): IteratorResult<unknown> | Promise<IteratorResult<unknown>> {
  const prev = slot.current;
  slot.current = ctx;
  try {
    return it.next();
  } finally {
    if (entry === null) slot.current = prev;
  }
}

/**
 * Sends value number `index` that `what` (the task) yielded on its stream's port, or throws
 * a TypeError naming it and what in it cannot cross (checked first, as a result is: a failed
 * send names nothing, and a value nested too deep could break the reader's side).
 */
function sendValue(port: MessagePort, value: unknown, index: number, what: string): void {
  const list = collectTransfers([value]);
  let bad = findUnsendable(value, { left: RESULT_WALK_BUDGET }, "the value itself", false, list);
  if (bad === undefined) {
    try {
      port.postMessage(seal(value, list), list as TransferListItem[]);
      return;
    } catch (e) {
      bad = safeMessage(e);
    }
  }
  throw new TypeError(`value ${index} that ${what} yielded cannot be sent to the reader: ${bad}`);
}

async function perform(req: CallRequest, ctx: CallContext): Promise<unknown> {
  switch (req.op) {
    case "call": {
      const fn = await taskOf(req.module, req.task);
      return await sync(fn, req.args, ctx);
    }
    case "batch": {
      const fn = await taskOf(req.module, req.task);
      const out = new Array<unknown>(req.items.length);
      for (let i = 0; i < req.items.length; i++) {
        const v = sync(fn, [req.items[i]], ctx);
        out[i] = isThenable(v) ? await v : v;
      }
      return out;
    }
    case "function":
      try {
        return await sync(functionOf(req.source), req.args, ctx);
      } catch (e) {
        // A name of the caller's scope, which did not travel with the function's source.
        if (e instanceof ReferenceError && / is not defined$/.test(e.message)) {
          e.message += ": toThread() sends a function as its source, without the variables, imports and " +
            "functions of its scope; pass them as arguments, or put the function in a task module";
        }
        throw e;
      }
    case "stream": {
      const start = async () => sync(await taskOf(req.module, req.task), req.args, ctx, true);
      return await streamValues(req.port, start, ctx, describeRequest(req));
    }
    default:
      throw new TypeError(`unknown request ${JSON.stringify((req as { op?: unknown }).op)}`);
  }
}

/**
 * Answers one request in a worker (see `serve`); results marked with `transfer()` are moved,
 * not copied. A call of a task already looked up, returning a plain value, is answered
 * synchronously. A worker also takes the short form of a call (`ShortCall`) for the pool's
 * task module; its entry says how the answer goes back (see `WorkerEntry.reply`).
 */
function handle(req: CallRequest | ShortCall): unknown {
  let id: number | undefined;
  if (typeof req === "string" || Array.isArray(req)) {
    const module = entry!.module;
    if (module === undefined) throw new TypeError("a short call reached a worker that has no task module");
    // The numbered form `[id, task, ...args]` names the call for an AbortNotice.
    const numbered = typeof req !== "string" && typeof req[0] === "number";
    if (numbered) id = req[0] as number;
    const task = typeof req === "string" ? req : (req[numbered ? 1 : 0] as string);
    const args = typeof req === "string" ? [] : req.slice(numbered ? 2 : 1);
    return handleCall({ op: "call", module, task, args }, begin(id));
  }
  id = (req as { id?: number }).id;
  if (req.op === "encoded" && req.large !== undefined) {
    const inner = unpack(req);
    if (!("op" in inner)) return reply(req, inner);
    req = inner;
  }
  const ctx = begin(id);
  return req.op === "call" ? handleCall(req, ctx) : handleAsync(req, ctx);
}

/**
 * The call this worker runs, or ran last, and its id (see AbortNotice): a worker runs one
 * call at a time, and the next replaces it. (An abort that arrives after its call answered
 * aborts a finished call: nothing.)
 */
let current: CallContext | null = null;
let currentId: number | undefined;

/**
 * Ids of AbortNotices that named no call running here: a broadcast (threads) or a notice on
 * the IPC channel (processes) can overtake its call while the worker still loads, so the
 * call is aborted as it starts. The notices meant for other workers land here too: only the
 * latest few are kept.
 */
const abortedEarly = new Set<number>();
const ABORTED_EARLY_KEPT = 256;

/**
 * @internal The context of the call that `handle` started last (the own thread backend's
 * worker keeps it, to abort that call alone when several run at once).
 */
export function runningCall(): CallContext | null {
  return current;
}

/** A call starts: its context, which an AbortNotice naming `id` aborts. */
function begin(id: number | undefined): CallContext {
  current = new CallContext();
  identify(current, id);
  return current;
}

/** The running call `ctx` is call `id` (see AbortNotice): aborted already if a notice came first. */
function identify(ctx: CallContext, id: number | undefined): void {
  currentId = id;
  if (id !== undefined && abortedEarly.delete(id)) ctx.abort();
}

/** @internal Aborts call `id` (null: whatever runs here), as an AbortNotice asks. */
export function abortCalls(id: number | null): void {
  if (current !== null && (id === null || id === currentId)) {
    current.abort();
  } else if (id !== null) {
    abortedEarly.add(id);
    if (abortedEarly.size > ABORTED_EARLY_KEPT) abortedEarly.delete(abortedEarly.values().next().value!);
  }
}

/** A request the host encoded itself, its arguments being larger than its check of them. */
type LargeRequest = CallRequest & { op: "encoded"; large: object };

/**
 * The request inside `req` (see `encodeLarge`), or the failure of reading it: a value nested
 * too deeply for this worker's stack fails its call, not the worker (whose port would report
 * it nowhere: the call would hang, or tinypool's worker die).
 */
function unpack(req: LargeRequest): CallRequest | CallResponse {
  try {
    return decodeEncoded(req.large) as CallRequest;
  } catch (e) {
    const why = e instanceof RangeError ? " (nested too deeply for the worker's stack?)" : "";
    const error = new TypeError(`the arguments of ${req.what} could not be read by the worker: ${describeThrown(e)}${why}`);
    return { ok: false, error: serializeError(error) };
  }
}

function handleCall(req: CallRequest & { op: "call" }, ctx: CallContext): unknown {
  const fn = resolved.get(req.module)?.get(req.task);
  if (fn === undefined) return handleAsync(req, ctx);
  let value: unknown;
  try {
    value = sync(fn, req.args, ctx);
  } catch (e) {
    return reply(req, { ok: false, error: serializeError(e) });
  }
  if (!isThenable(value)) return reply(req, { ok: true, value });
  return Promise.resolve(value).then(
    (v) => reply(req, { ok: true, value: v }),
    (e: unknown) => reply(req, { ok: false, error: serializeError(e) }),
  );
}

async function handleAsync(req: CallRequest, ctx: CallContext): Promise<unknown> {
  if (req.op === "encoded") {
    // A JSON-only channel (child processes under Deno): V8 serialisation inside a string.
    const inner = decodeValue(req.data!) as CallRequest;
    if (inner.op !== "encoded") identify(ctx, inner.id);
    const response = checkResult(inner, await answer(inner, ctx));
    try {
      return { op: "encoded", data: encodeValue(response) };
    } catch (e) {
      // Past what checkResult walked: it fails its call, not the worker.
      const error = unsendableResult(inner, safeMessage(e));
      return { op: "encoded", data: encodeValue({ ok: false, error } satisfies CallResponse) };
    }
  }
  return reply(req, await answer(req, ctx));
}

/**
 * @internal Answers a request on the calling thread (the inline backend uses this, with its
 * own `ctx` to abort).
 */
export async function answer(req: CallRequest, ctx: CallContext = new CallContext()): Promise<CallResponse> {
  if (req.op === "encoded" && req.large !== undefined) {
    const inner = unpack(req);
    if (!("op" in inner)) return inner;
    req = inner;
  }
  try {
    return { ok: true, value: await perform(req, ctx) };
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
}

/** How many values of a result are checked before it is sent back. */
const RESULT_WALK_BUDGET = 100_000;

/**
 * Whether the last `checkResult` ran out of budget: the result is larger than what was
 * checked, and a tinypool worker encodes it itself (see `encodeLarge`).
 */
let checkedPartly = false;

/**
 * @internal `response`, encoded by the worker when its check was partial or it goes to a child
 * process (see `encodeLarge`), or a
 * failure saying why it cannot be sent; `undefined` when it goes as it is.
 */
export function encodedResponse(
  req: CallRequest,
  response: CallResponse,
  transfer: readonly TransferListItem[],
  thread: boolean,
): CallResponse | undefined {
  if (!response.ok || response.encoded !== undefined) return undefined;
  // A child process's channel refuses host objects (a Blob, a KeyObject…) that no walk can
  // tell apart, and its failure there kills the worker: its object results are encoded here.
  const v = response.value;
  if (!checkedPartly && (thread || v === null || typeof v !== "object")) return undefined;
  try {
    // Only a thread moves buffers or shares memory; a child process copies.
    const encoded = encodeLarge(response.value, thread ? transfer : NO_TRANSFERS, thread);
    return encoded === undefined ? undefined : { ok: true, encoded };
  } catch (e) {
    return { ok: false, error: unsendableResult(req, safeMessage(e)) };
  }
}

function safeMessage(e: unknown): string {
  const s = serializeError(e);
  return `${s.name}: ${s.message}`;
}

/**
 * @internal The failure of a call whose result cannot be sent back: it names what produced
 * the result (the task, or the toThread() function) and `reason`.
 */
export function unsendableResult(req: CallRequest, reason: string, cause?: unknown): SerializedError {
  const what = req.op === "function" ? "the toThread() function" : describeRequest(req);
  const message = `the result of ${what} cannot be sent back from the worker: ${reason}`;
  return serializeError(cause === undefined ? new TypeError(message) : new TypeError(message, { cause }));
}

/** @internal What a result `v` of `req` moves (what `transfer()` marked; a batch's, in each item). */
export function resultTransfers(req: CallRequest, v: unknown): readonly TransferListItem[] {
  return v === null || typeof v !== "object" ? NO_TRANSFERS : collectTransfers(req.op === "batch" && Array.isArray(v) ? v : [v]);
}

/** @internal Turns a result that could not be sent back into a clear failure. */
export function checkResult(req: CallRequest, response: CallResponse): CallResponse {
  checkedPartly = false;
  if (!response.ok) return response;
  const v = response.value;
  if (v !== null && (typeof v === "object" || typeof v === "function" || typeof v === "symbol")) {
    // A failed send would kill the worker (or, too deep, the host that receives it): the
    // result is walked first (at most RESULT_WALK_BUDGET values of it).
    const budget = { left: RESULT_WALK_BUDGET };
    const bad = findUnsendable(v, budget, "the result itself", entry?.process === true);
    checkedPartly = budget.left < 0;
    if (bad !== undefined) return { ok: false, error: unsendableResult(req, bad) };
  }
  return response;
}

/** What the worker sends back for `checked`, once checked (see `WorkerEntry.reply`). */
function reply(req: CallRequest, checked: CallResponse): unknown {
  return entry!.reply(req, checkResult(req, checked));
}

