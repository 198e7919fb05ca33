/**
 * The inline backend: runs calls on the loop's own thread, for debugging (breakpoints and
 * stack traces in one place). Arguments are still cloned, so a value a worker could not
 * receive fails here too; a running call cannot be stopped, only abandoned.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import { answer } from "../../workers/runtime.ts";
import type { PoolBackend } from "./backend.ts";
import type { CallRequest, CallResponse } from "./protocol.ts";

/** @internal */
export class InlineBackend implements PoolBackend {
  private _busy = 0;

  call(req: CallRequest, _transfer: TransferListItem[], signal: AbortSignal | null): Promise<CallResponse> {
    let copy: CallRequest;
    try {
      copy = structuredClone(req);
    } catch (e) {
      return Promise.reject(e);
    }
    this._busy++;
    const done = answer(copy).finally(() => this._busy--);
    if (signal === null) return done;
    return new Promise<CallResponse>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      done.then(
        (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  workers(): number {
    return this._busy > 0 ? 1 : 0;
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
