/**
 * The built-in workloads of `loopwork compare`, as plain exported functions: the same
 * module runs on the loop's thread (sequential and loop strategies) and as a worker-pool
 * task module (thread and process strategies).
 *
 * - `io(url)`: one request to the latency server; almost no CPU, all waiting.
 * - `cpu(units)`: pure computation, `units` million xorshift steps (~1.6 ms each on a
 *   2020s x86 core); no waiting at all.
 * - `mixed(url, units)`: a request, then computation on what came back.
 * - `mixedWait(url, units)` and `mixedCompute(waited)`: the two halves of `mixed`, for the
 *   loop+threads strategy (the loop waits, a thread pool computes); together they compute
 *   what `mixed` does.
 *
 * Each returns a checksum (so the work cannot be optimised away and results can be
 * checked across strategies) and, when it runs in a process of its own, that process's
 * CPU time, which the parent cannot see otherwise.
 * @module
 */
import { isMainThread } from "node:worker_threads";

/** What a workload call returns. */
export interface WorkloadResult {
  /** A checksum of the work done. */
  value: number;
  /** CPU ms spent by this call's process when it is a pool's child process; else 0. */
  childCpuMs: number;
}

/** Runs `units` million steps of a xorshift generator and returns a checksum. */
export function burn(units: number): number {
  if (!Number.isInteger(units) || units < 0) {
    throw new RangeError(`burn(): units must be an integer >= 0, got ${String(units)}`);
  }
  let x = 0x9e3779b9 | 0;
  let acc = 0;
  const n = units * 1_000_000;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    acc = (acc + (x & 0xffff)) | 0;
  }
  return acc >>> 0;
}

// A pool's child process is a main thread of its own; the parent's main thread runs these
// functions directly and measures its own CPU.
const inChildProcess = isMainThread && typeof process.send === "function";

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function measured(work: () => Promise<number> | number): Promise<WorkloadResult> {
  const before = inChildProcess ? cpuMs() : 0;
  const value = await work();
  return { value, childCpuMs: inChildProcess ? cpuMs() - before : 0 };
}

async function request(url: string): Promise<number> {
  const res = await fetch(url);
  const body = await res.text();
  if (!res.ok) throw new Error(`io(): ${url} answered ${res.status}`);
  return body.length;
}

/** One request to `url`: waits for the server's latency, computes nothing. */
export function io(url: string): Promise<WorkloadResult> {
  return measured(() => request(url));
}

/** `units` million steps of pure computation. */
export function cpu(units: number): Promise<WorkloadResult> {
  return measured(() => burn(units));
}

/** A request to `url`, then `units` million steps of computation. */
export function mixed(url: string, units: number): Promise<WorkloadResult> {
  return measured(async () => (await request(url)) + burn(units));
}

/** What the waiting half of `mixed` hands to its computing half. */
export interface MixedWaited {
  /** The length of the body that came back. */
  body: number;
  /** The computation still to do, in million steps. */
  units: number;
}

/** The waiting half of `mixed`: the request, and what is left to compute. */
export async function mixedWait(url: string, units: number): Promise<MixedWaited> {
  return { body: await request(url), units };
}

/** The computing half of `mixed`: `mixedCompute(await mixedWait(url, n))` equals `mixed(url, n)`. */
export function mixedCompute(waited: MixedWaited): Promise<WorkloadResult> {
  return measured(() => waited.body + burn(waited.units));
}
