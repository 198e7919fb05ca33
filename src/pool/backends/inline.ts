/**
 * The inline backend: runs calls on the loop's own thread, for debugging (breakpoints and
 * stack traces in one place). Arguments are still cloned, so a value a worker could not
 * receive fails here too; a running call cannot be stopped, only abandoned (its signal is
 * aborted: see `taskSignal`).
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import { answer, checkResult, isLoading } from "../worker/tasks.ts";
import type { PoolBackend } from "./backend.ts";
import type { PoolCall } from "../call.ts";
import { type CallRequest, type CallResponse, unwrapResponse } from "../protocol.ts";
import { CallContext } from "../task-context.ts";

/** @internal */
export class InlineBackend implements PoolBackend {
  private _busy = 0;

  call(req: CallRequest, transfer: readonly TransferListItem[], call: PoolCall): Promise<CallResponse> {
    let copy: CallRequest;
    try {
      // A MessagePort moved with `transfer()` moves as it does to a thread: the task gets a
      // port on the same channel, the caller's is closed. Buffers are copied (see `transfer`).
      // A stream's port is the channel, not data: it is handed over as it is.
      const ports = transfer.filter((t) => !(t instanceof ArrayBuffer) && t !== (req as { port?: unknown }).port);
      const options = ports.length > 0 ? { transfer: ports } : undefined;
      const clone = structuredClone as <T>(value: T, options?: { transfer: readonly unknown[] }) => T;
      copy = req.op === "stream" ? { ...clone({ ...req, port: null }, options), port: req.port } : clone(req, options);
    } catch (e) {
      return Promise.reject(e);
    }
    this._busy++;
    const ctx = new CallContext();
    const done = answer(copy, ctx)
      .then((r) => checkResult(copy, r))
      .finally(() => this._busy--);
    return new Promise<CallResponse>((resolve, reject) => {
      // The call cannot be stopped on this thread: aborting only stops waiting for it.
      const onAbort = () => {
        ctx.abort();
        reject(new Error("the call was abandoned"));
      };
      call.job = onAbort;
      done.then(
        (r) => {
          call.job = undefined;
          resolve(r);
        },
        (e: unknown) => {
          call.job = undefined;
          reject(e);
        },
      );
    });
  }

  stop(call: PoolCall): void {
    const onAbort = call.takeJob<() => void>();
    onAbort?.();
  }

  result(raw: unknown): unknown {
    return unwrapResponse(raw as CallResponse);
  }

  failure(error: unknown): unknown {
    return error;
  }

  loading(call: PoolCall): boolean {
    const req = call.req;
    return (req.op === "call" || req.op === "batch" || req.op === "stream") && isLoading(req.module);
  }

  workers(): number {
    return this._busy > 0 ? 1 : 0;
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
