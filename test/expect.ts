/** Helpers for tests that expect a failure (they return the error, or fail the test), or that must not hang. */
import assert from "node:assert/strict";
import type { Coroutine, Future } from "../mod.ts";

/** Waits on `f` (a future or task) in a coroutine and returns what it threw. */
export function* catching(f: Future<unknown>): Coroutine<unknown> {
  try {
    yield* f;
  } catch (e) {
    return e;
  }
  assert.fail("expected a failure, got a result");
}

/** Awaits `p` and returns what it rejected with. */
export async function rejection(p: PromiseLike<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected a rejection, got a result" });
}

/** Generous "it did not hang" bound, in real time; never a speed check. */
export const HANG_GUARD_MS = 15_000;

/** `p`, or a rejection naming `what` once `guardMs` of real time have passed. */
export async function within<T>(what: string, p: PromiseLike<T>, guardMs: number = HANG_GUARD_MS): Promise<T> {
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        guard = setTimeout(() => reject(new Error(`${what}: still running after ${guardMs} ms of real time`)), guardMs);
      }),
    ]);
  } finally {
    clearTimeout(guard);
  }
}

/** An AbortController whose signal counts its live "abort" listeners. */
export function countedSignal(): { ac: AbortController; live: () => number } {
  const ac = new AbortController();
  const listeners = new Set<unknown>();
  const add = ac.signal.addEventListener.bind(ac.signal);
  const remove = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((type: string, l: Parameters<AbortSignal["addEventListener"]>[1], o?: Parameters<AbortSignal["addEventListener"]>[2]) => {
    if (type === "abort") listeners.add(l);
    add(type, l, o);
  }) as AbortSignal["addEventListener"];
  ac.signal.removeEventListener = ((type: string, l: Parameters<AbortSignal["addEventListener"]>[1], o?: Parameters<AbortSignal["removeEventListener"]>[2]) => {
    if (type === "abort") listeners.delete(l);
    remove(type, l, o);
  }) as AbortSignal["removeEventListener"];
  return { ac, live: () => listeners.size };
}

/**
 * Records the rejections nobody handled, on either runtime, while `body` runs (within
 * `guardMs` of real time) and a few macrotasks after, when late ones surface.
 */
export async function unhandledDuring(body: () => Promise<void>, guardMs: number = HANG_GUARD_MS): Promise<unknown[]> {
  const escaped: unknown[] = [];
  const onNode = (e: unknown) => escaped.push(e);
  const onWeb = (e: Event & { reason?: unknown; preventDefault(): void }) => {
    e.preventDefault();
    escaped.push(e.reason);
  };
  const host = globalThis as unknown as {
    Deno?: unknown;
    process?: { on(t: string, l: (e: unknown) => void): void; off(t: string, l: (e: unknown) => void): void };
    addEventListener(t: string, l: (e: never) => void): void;
    removeEventListener(t: string, l: (e: never) => void): void;
  };
  const deno = host.Deno !== undefined;
  if (deno) host.addEventListener("unhandledrejection", onWeb);
  else host.process!.on("unhandledRejection", onNode);
  try {
    await within("the sweep", body(), guardMs);
    // Let late rejections surface (an unhandled rejection is reported after a macrotask).
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    if (deno) host.removeEventListener("unhandledrejection", onWeb);
    else host.process!.off("unhandledRejection", onNode);
  }
  return escaped;
}
