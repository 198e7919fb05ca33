/**
 * The inline backend: runs calls on the loop's own thread, for debugging (breakpoints and
 * stack traces in one place). Arguments are still cloned, so a value a worker could not
 * receive fails here too; a running call cannot be stopped, only abandoned.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import { answer, checkResult } from "../worker/runtime.ts";
import type { PoolBackend } from "./backend.ts";
import type { AbortHook } from "../call.ts";
import { type CallRequest, type CallResponse, unwrapResponse } from "../protocol.ts";

/** @internal */
export class InlineBackend implements PoolBackend {
  private _busy = 0;

  call(req: CallRequest, _transfer: readonly TransferListItem[], abort: AbortHook): Promise<CallResponse> {
    let copy: CallRequest;
    try {
      copy = structuredClone(req);
    } catch (e) {
      return Promise.reject(e);
    }
    this._busy++;
    const done = answer(copy)
      .then((r) => checkResult(copy, r))
      .finally(() => this._busy--);
    return new Promise<CallResponse>((resolve, reject) => {
      // The call cannot be stopped on this thread: aborting only stops waiting for it.
      const onAbort = () => reject(new Error("the call was abandoned"));
      abort.once("abort", onAbort);
      done.then(
        (r) => {
          abort.off("abort", onAbort);
          resolve(r);
        },
        (e: unknown) => {
          abort.off("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  result(raw: unknown): unknown {
    return unwrapResponse(raw as CallResponse);
  }

  failure(error: unknown): unknown {
    return error;
  }

  workers(): number {
    return this._busy > 0 ? 1 : 0;
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
