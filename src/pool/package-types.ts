/**
 * The parts of tinypool's and bullmq's types that the pool's backends use, declared here so
 * that loopwork type-checks with neither package at hand: a Deno program importing loopwork
 * by path has no import map for them, and bullmq is an optional peer dependency. A type test
 * (test/types.test.ts) checks that the real packages fit these shapes.
 * @module
 */
import type { ResourceLimits, TransferListItem } from "node:worker_threads";

// ---- tinypool ----

/** @internal A call as tinypool's queue holds it. */
export interface TinypoolTask {
  cancel(): void;
}

/** @internal The queue a tinypool pool takes as `taskQueue`. */
export interface TinypoolTaskQueue {
  readonly size: number;
  shift(): TinypoolTask | null;
  remove(task: TinypoolTask): void;
  push(task: TinypoolTask): void;
  cancel(): void;
}

/** @internal A worker (thread or child process) of a tinypool pool. */
export interface TinypoolWorker {
  /** A child process gives its exit code and signal; a thread, its exit code. */
  once(event: "exit", listener: (code: number | null, signal?: string | null) => void): unknown;
  /** A process worker's child process (tinypool's ProcessWorker); absent on a thread. */
  process?: TinypoolChild;
  /** A thread worker's Worker (tinypool's ThreadWorker); absent on a process. */
  thread?: {
    on(event: "message" | "error", listener: (m: unknown) => void): unknown;
    off(event: "message", listener: (m: unknown) => void): unknown;
  };
}

/** @internal What the tinypool backend uses of a process worker's child process. */
export interface TinypoolChild {
  connected?: boolean;
  send?(message: unknown): unknown;
  on(event: "message" | "error", listener: (m: unknown) => void): unknown;
  off(event: "message", listener: (m: unknown) => void): unknown;
}

/** @internal The options loopwork gives tinypool. */
export interface TinypoolOptions {
  filename: string;
  runtime: "worker_threads" | "child_process";
  minThreads: number;
  maxThreads: number;
  concurrentTasksPerWorker: number;
  idleTimeout: number;
  maxQueue: number;
  useAtomics: boolean;
  taskQueue: TinypoolTaskQueue;
  serialization?: "advanced";
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
}

/** @internal The abort hook tinypool listens on for a call (its event-emitter form). */
export interface TinypoolAbortHook {
  once(name: "abort", listener: () => void): void;
  off(name: "abort", listener: () => void): void;
}

/** @internal A tinypool pool. */
export interface TinypoolPool {
  readonly threads: TinypoolWorker[];
  /** Calls in its queue beyond those the workers it is starting will take. */
  readonly queueSize: number;
  run(task: unknown, options: { transferList?: TransferListItem[]; signal?: TinypoolAbortHook }): Promise<unknown>;
  destroy(): Promise<void>;
  on(event: "error", listener: (e: unknown) => void): unknown;
  /** Its live options: `minThreads` is read each time it tops its workers up. */
  readonly options?: { minThreads?: number };
}

/** @internal What loopwork takes from the tinypool module. */
export interface TinypoolModule {
  default: new (options: TinypoolOptions) => TinypoolPool;
  markMovable(value: object): void;
}

// ---- bullmq ----

/** @internal BullMQ's connection options (ioredis's), passed on as they are. */
export type BullmqConnection = Record<string, unknown>;

/** @internal What `getBackend()` of a BullMQ queue object gives: its ioredis client. */
export interface BullmqBackendOf {
  getBackend(): { client: Promise<unknown> };
}

/** @internal A job as `Queue.add` returns it. */
export interface BullmqJob {
  id?: string;
}

/** @internal A BullMQ queue, as a producer of jobs. */
export interface BullmqQueue extends BullmqBackendOf {
  add(name: string, data: unknown, options?: Record<string, unknown>): Promise<BullmqJob>;
  remove(jobId: string): Promise<number>;
  getJobState(jobId: string): Promise<string>;
  getWorkersCount(): Promise<number>;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
  on(event: "error", listener: (e: Error) => void): unknown;
}

/** @internal Publishes custom events on a queue's event stream. */
export interface BullmqQueueEventsProducer extends BullmqBackendOf {
  publishEvent(event: { eventName: string; [key: string]: unknown }, maxEvents?: number): Promise<unknown>;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
  on(event: "error", listener: (e: Error) => void): unknown;
}

/** @internal Reads a queue's event stream. */
export interface BullmqQueueEvents extends BullmqBackendOf {
  on(event: "error", listener: (e: Error) => void): unknown;
  on(event: "completed", listener: (args: { jobId: string; returnvalue: unknown }) => void): unknown;
  on(event: "failed", listener: (args: { jobId: string; failedReason: string }) => void): unknown;
  on(event: "removed", listener: (args: { jobId: string }) => void): unknown;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

/** @internal What loopwork's pool takes from the bullmq module (`loopwork worker` uses more). */
export interface BullmqModule {
  Queue: new (name: string, options: { connection: BullmqConnection }) => BullmqQueue;
  QueueEventsProducer: new (name: string, options: { connection: BullmqConnection }) => BullmqQueueEventsProducer;
  QueueEvents: new (
    name: string,
    options: { connection: BullmqConnection; lastEventId?: string; autorun?: boolean },
  ) => BullmqQueueEvents;
}
