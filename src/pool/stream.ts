/**
 * The reading side of `pool.stream()`: an async iterator over the values a worker's generator
 * task sends on a MessagePort, which gives the worker credit as values are read and cancels
 * the call when the reader leaves.
 * @module
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import type { Task } from "../core/index.ts";
import { NOT_SEALED, STREAM_END, unseal } from "./protocol.ts";

/** How many values a stream's worker may send ahead of its reader (see `pool.stream()`). */
export const STREAM_WINDOW = 16;

type Waiter = { resolve: (r: IteratorResult<unknown, undefined>) => void; reject: (e: unknown) => void };

/** A fresh "done" result each time, as an async generator gives (a reader may keep and change it). */
function done<R>(value: R): IteratorReturnResult<R> {
  return { value, done: true };
}

/**
 * What one stream holds. The port's listener and the call's callback reach this, never the
 * iterator, so a reader that drops its iterator lets it be collected (see `dropped`).
 */
class StreamState {
  /** Values received and not yet read. */
  readonly items: unknown[] = [];
  /** `next()` calls waiting for a value, in order. */
  readonly waiters: Waiter[] = [];
  port: MessagePort | null = null;
  call: Task<unknown> | null = null;
  /** The call's outcome once it settled (`undefined` before): its error, or none. */
  outcome: { error: unknown } | { error?: undefined } | undefined = undefined;
  /** Set once the reader left, or the call's outcome was read: `next()` answers done. */
  closed = false;

  /** Opens the channel and starts the call `open` makes (which gets the worker's end). */
  start(open: (port: MessagePort) => Task<unknown>): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on("message", (m: unknown) => {
      if (m === STREAM_END) {
        // Its worker answers once it knows that every value came (see streamValues).
        port1.postMessage(STREAM_END);
      } else if (!this.closed) {
        const v = unseal(m);
        this.items.push(v === NOT_SEALED ? m : v);
      }
      this.pump();
    });
    port1.postMessage(STREAM_WINDOW);
    let call: Task<unknown>;
    try {
      call = open(port2);
    } catch (e) {
      this.close();
      port2.close();
      throw e;
    }
    this.call = call;
    // Observed here, so a failure nobody reads is never an unhandled rejection.
    call.then(
      () => this.settle({}),
      (error: unknown) => this.settle({ error }),
    );
  }

  settle(outcome: { error?: unknown }): void {
    this.outcome = outcome;
    this.pump();
  }

  /** Answers the waiting `next()` calls with what has come. */
  pump(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (this.items.length > 0) {
        const value = this.items.shift();
        this.port?.postMessage(1);
        this.waiters.shift();
        w.resolve({ value, done: false });
      } else if (this.closed) {
        this.waiters.shift();
        w.resolve(done(undefined));
      } else if (this.outcome !== undefined) {
        // Every value came before the outcome (see streamValues): the call's result or error.
        // Taken first: Deno's port.close() hands over queued messages at once, re-entering here.
        this.waiters.shift();
        const outcome = this.outcome;
        this.close();
        if ("error" in outcome) w.reject(outcome.error);
        else w.resolve(done(undefined));
      } else {
        return;
      }
    }
  }

  /** Ends the stream: drops what was not read, closes the channel, cancels a running call. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    this.port?.close();
    const call = this.call;
    if (call !== null && !call.done()) call.cancel("pool.stream() ended early");
  }
}

/**
 * Cancels the call of a stream whose iterator was collected unclosed (a reader that stopped
 * reading and dropped it), so its worker is not held for ever.
 */
const dropped = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<StreamState>((state) => state.close())
  : undefined;

/**
 * @internal `pool.stream()`'s iterator. The call starts at the first `next()`; `return()` and
 * `throw()` end the stream at once, even while a `next()` waits for a value (which then
 * answers done): the call is cancelled and they resolve once it settled.
 */
export class StreamReader<T = unknown> implements AsyncIterableIterator<T, undefined, undefined> {
  private readonly _state = new StreamState();
  private _open: ((port: MessagePort) => Task<unknown>) | null;

  constructor(open: (port: MessagePort) => Task<unknown>) {
    this._open = open;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const s = this._state;
    const open = this._open;
    if (open !== null) {
      this._open = null;
      try {
        s.start(open);
      } catch (e) {
        return Promise.reject(e);
      }
      dropped?.register(this, s, s);
    }
    return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      s.waiters.push({ resolve: resolve as Waiter["resolve"], reject });
      s.pump();
    });
  }

  /** Ends the stream (see `_leave`); answers `{ value, done: true }`, as an async generator's `return(value)` does. */
  async return<R = undefined>(value?: R | PromiseLike<R>): Promise<IteratorReturnResult<R>> {
    await this._leave();
    return done(await (value as R));
  }

  async throw(e?: unknown): Promise<IteratorResult<T, undefined>> {
    await this._leave();
    throw e;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** `await using` ends the stream with its scope, as `return()` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._leave();
  }

  /** Closes the stream (a stream never started never starts) and waits for its call to settle. */
  private async _leave(): Promise<void> {
    const s = this._state;
    this._open = null;
    dropped?.unregister(s);
    s.close();
    s.pump();
    if (s.call !== null) await s.call.then(undefined, () => {});
  }
}
