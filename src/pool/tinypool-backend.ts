/**
 * The tinypool backend: worker threads (`worker_threads`) or child processes
 * (`child_process`), on Node and on Deno. Every worker loads workers/runtime, which imports
 * the task module lazily. Tinypool's own queue stays empty (the WorkerPool hands it at most
 * one call per worker), so its job is to start, stop, replace and talk to workers.
 * @module
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { TransferListItem } from "node:worker_threads";
import Tinypool, { type Task as TinypoolTask, type TaskQueue } from "tinypool";
import type { PoolBackend } from "./backend.ts";
import type { AbortHook } from "./call.ts";
import { WorkerCrashedError } from "./errors.ts";
import { describeHeapLimits, type ResolvedPoolOptions, type ResourceLimits } from "./options.ts";
import {
  type CallRequest,
  type CallResponse,
  decodeLarge,
  decodeValue,
  type EncodedAnswer,
  deserializeError,
  describeRequest,
  encodeValue,
  isThreadFailure,
  type ShortCall,
  unwrapResponse,
} from "./protocol.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** A queue of its own per pool: tinypool's default queue object is shared by all pools. */
class OwnQueue implements TaskQueue {
  private readonly tasks: TinypoolTask[] = [];
  get size(): number {
    return this.tasks.length;
  }
  shift(): TinypoolTask | null {
    return this.tasks.shift() ?? null;
  }
  remove(task: TinypoolTask): void {
    const i = this.tasks.indexOf(task);
    if (i >= 0) this.tasks.splice(i, 1);
  }
  push(task: TinypoolTask): void {
    this.tasks.push(task);
  }
  cancel(): void {
    while (this.tasks.length > 0) this.tasks.pop()!.cancel();
  }
}

let workerEntry: string | undefined;

/**
 * @internal The module tinypool (or the own thread backend) loads in each worker. Built to
 * JavaScript (dist/), or run by Deno, it is workers/runtime itself. Run from the TypeScript
 * sources on Node, it is a tiny `data:` module that registers tsx first, since Node 20
 * cannot import a `.ts` file on its own.
 */
export function workerEntryUrl(): string {
  if (workerEntry !== undefined) return workerEntry;
  const fromSource = import.meta.url.endsWith(".ts");
  const runtime = new URL(`../../workers/runtime.${fromSource ? "ts" : "js"}`, import.meta.url).href;
  if (isDeno || !fromSource) return (workerEntry = runtime);
  const tsxDir = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const tsxApi = pathToFileURL(join(tsxDir, "dist/esm/api/index.mjs")).href;
  const source =
    `const { register } = await import(${JSON.stringify(tsxApi)});\n` +
    `if (globalThis.__loopworkTsx !== true) { register(); globalThis.__loopworkTsx = true; }\n` +
    `const runtime = await import(${JSON.stringify(runtime)});\n` +
    `export default runtime.default;\n`;
  return (workerEntry = `data:text/javascript,${encodeURIComponent(source)}`);
}

/** How tinypool prints a WorkerExitNotice carrying `token` (see protocol.ts). */
function exitNoticePattern(token: string): RegExp {
  return new RegExp(`loopworkWorkerExit: (-?\\d+),\\s*token: '${token}'(?:,\\s*reason: '((?:[^'\\\\]|\\\\.)*)')?`);
}

/** Turns tinypool's ways of reporting a dead worker into a WorkerCrashedError. */
function crashError(e: unknown, what: string, exitNotice: RegExp): unknown {
  if (!(e instanceof Error)) {
    // A worker thread that died of a non-Error (or of an error that lost its class on the way).
    const detail =
      e !== null && typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : String(e);
    return new WorkerCrashedError(`the worker running ${what} died: ${detail}`);
  }
  const m = exitNotice.exec(e.message);
  if (m !== null) {
    const code = Number(m[1]);
    const reason = m[2] !== undefined ? ` after an uncaught ${m[2].replace(/\\(.)/g, "$1")}` : "";
    return new WorkerCrashedError(`the worker running ${what} exited with code ${code}${reason}`, code);
  }
  if (e.message === "Worker exited unexpectedly") {
    return new WorkerCrashedError(`the worker process running ${what} exited unexpectedly`, undefined, { cause: e });
  }
  if (e.message.startsWith("Unexpected message on Worker")) {
    // Not the runtime's notice: the task posted on parentPort, and tinypool stopped its worker.
    return new Error(
      `the worker running ${what} posted a message on parentPort, which a pool does not read: a task ` +
        `answers by returning its result. The worker was stopped. (${e.message.slice(0, 200)})`,
      { cause: e },
    );
  }
  if (e.name === "AbortError" || e.name === "DataCloneError" || e.message === "Terminating worker thread") return e;
  // An uncaught error in a worker thread arrives as the error itself.
  return new WorkerCrashedError(
    `the worker running ${what} died of an uncaught ${e.name}: ${e.message}`,
    undefined,
    { cause: e },
  );
}

/**
 * Tinypool's options for `limits`: a thread takes them as they are; a child process takes
 * its heap limit as `--max-old-space-size` (after the host's own flags, which it inherits).
 */
function limitOptions(
  process_: boolean,
  limits: Readonly<ResourceLimits> | null,
): { resourceLimits?: ResourceLimits; execArgv?: string[] } {
  if (limits === null) return {};
  if (!process_) return { resourceLimits: { ...limits } };
  const old = limits.maxOldGenerationSizeMb;
  return old === undefined ? {} : { execArgv: [...process.execArgv, `--max-old-space-size=${old}`] };
}

/**
 * The WorkerCrashedError of a worker that ran out of memory under `limits`: a thread says so
 * itself (ERR_WORKER_OUT_OF_MEMORY); a child process only dies (tinypool does not tell how),
 * so with a heap limit its error says what it may have met. Else undefined.
 */
function outOfMemory(
  e: unknown,
  process_: boolean,
  limits: Readonly<ResourceLimits> | null,
  what: string,
): WorkerCrashedError | undefined {
  if (!(e instanceof Error)) return undefined;
  if ((e as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY") {
    return new WorkerCrashedError(`the worker running ${what} ran out of memory (${describeHeapLimits(limits)}) and was stopped`, undefined, {
      cause: e,
    });
  }
  if (process_ && limits?.maxOldGenerationSizeMb !== undefined && e.message === "Worker exited unexpectedly") {
    return new WorkerCrashedError(
      `the worker process running ${what} exited unexpectedly (it may have run out of memory: ${describeHeapLimits(limits)})`,
      undefined,
      { cause: e },
    );
  }
  return undefined;
}

/** @internal */
export class TinypoolBackend implements PoolBackend {
  private readonly _pool: Tinypool;
  private readonly _process: boolean;
  /** Deno's child processes carry JSON only: requests travel V8-encoded inside a string. */
  private readonly _encode: boolean;

  /** The pool's task module, which its worker threads know from `workerData`. */
  private readonly _module: string | null;
  /** Tells the runtime's exit notice from a look-alike a task posts (see WorkerExitNotice). */
  private readonly _exitToken = randomUUID();
  private readonly _exitNotice = exitNoticePattern(this._exitToken);
  private readonly _limits: Readonly<ResourceLimits> | null;

  constructor(options: ResolvedPoolOptions, module: string | null) {
    this._process = options.kind === "process";
    this._encode = this._process && isDeno;
    this._module = module;
    this._limits = options.resourceLimits;
    this._pool = new Tinypool({
      filename: workerEntryUrl(),
      runtime: this._process ? "child_process" : "worker_threads",
      minThreads: options.minWorkers,
      maxThreads: options.maxWorkers,
      idleTimeout: options.idleTimeoutMs,
      maxQueue: Infinity,
      // Tinypool's Atomics fast path hangs under Deno.
      useAtomics: !isDeno,
      taskQueue: new OwnQueue(),
      ...(this._process && !isDeno ? { serialization: "advanced" as const } : {}),
      // Threads speak the short wire (see ShortCall); processes get no workerData from tinypool.
      ...(this._process ? {} : { workerData: { loopworkModule: module, loopworkExitToken: this._exitToken } }),
      ...limitOptions(this._process, options.resourceLimits),
    });
    // A worker that dies with no call running is replaced; there is nobody to tell.
    this._pool.on("error", () => {});
  }

  call(req: CallRequest, transfer: readonly TransferListItem[], abort: AbortHook): Promise<unknown> {
    let message: CallRequest | ShortCall = req;
    if (!this._process) {
      if (req.op === "call" && req.module === this._module) {
        message = req.args.length === 0 ? req.task : [req.task, ...req.args];
      }
    } else if (this._encode) {
      try {
        message = { op: "encoded", data: encodeValue(req) };
      } catch (e) {
        // V8's serialiser says "could not be cloned" with a plain Error: name it as postMessage does.
        const clone = new Error(e instanceof Error ? e.message : String(e), { cause: e });
        clone.name = "DataCloneError";
        return Promise.reject(clone);
      }
    }
    return this._pool.run(message, {
      // Child processes copy everything; only threads can move buffers.
      transferList: this._process || transfer.length === 0 ? undefined : (transfer as TransferListItem[]),
      signal: abort,
    }) as Promise<unknown>;
  }

  result(raw: unknown, req: CallRequest): unknown {
    if (!this._process) {
      // A thread answers with the bare result (and fails by throwing: see `failure`), or a
      // large one encoded (see `encodeLarge`).
      if (raw !== null && typeof raw === "object" && (raw as Partial<EncodedAnswer>).loopworkEncoded === this._exitToken) {
        return decodeLarge((raw as EncodedAnswer).data, describeRequest(req));
      }
      return raw;
    }
    if (this._encode) return unwrapResponse(decodeValue((raw as { op: "encoded"; data: string }).data) as CallResponse);
    return unwrapResponse(raw as CallResponse, describeRequest(req));
  }

  failure(error: unknown, req: CallRequest): unknown {
    if (isThreadFailure(error)) return deserializeError(error.loopworkError);
    const limits = outOfMemory(error, this._process, this._limits, describeRequest(req));
    if (limits !== undefined) return limits;
    return crashError(error, describeRequest(req), this._exitNotice);
  }

  workers(): number {
    return this._pool.threads.length;
  }

  destroy(): Promise<void> {
    return this._pool.destroy();
  }
}
