/**
 * Handles: the loop's unit of scheduled work. A `Handle` is a callback queued to run
 * soon; a `TimerHandle` is one queued to run at a deadline, kept in a binary heap ordered
 * by (deadline, scheduling order) so that timers due at one instant run in the order
 * they were scheduled, as in asyncio.
 * @module
 */
import { Heap } from "./heap.ts";

/** Anything the loop can put on its ready queue: a handle, or a task to step. */
export interface Runnable {
  _run(): void;
}

/** Where a handle reports a callback that threw; implemented by the loop. */
export interface ErrorSink {
  _reportCallbackError(error: unknown, handle: Handle): void;
  _timerCancelled(handle: TimerHandle): void;
}

/**
 * A callback scheduled with `loop.callSoon()`. `cancel()` stops it from running if it has
 * not run yet.
 *
 * @example
 * ```ts
 * import { Loop } from "loopwork";
 *
 * const loop = new Loop();
 * const handle = loop.callSoon(() => console.log("never printed"));
 * handle.cancel();
 * console.log(handle.cancelled()); // true
 * loop.close();
 * ```
 */
export class Handle implements Runnable {
  /** @internal */ _cb: ((arg: unknown) => void) | null;
  /** @internal */ _arg: unknown;
  /** @internal */ _sink: ErrorSink;
  /** @internal */ _cancelled = false;

  /** @internal Handles are created by the loop, not by users. */
  constructor(cb: (arg: unknown) => void, arg: unknown, sink: ErrorSink) {
    this._cb = cb;
    this._arg = arg;
    this._sink = sink;
  }

  /** Prevents the callback from running. Has no effect once it ran. */
  cancel(): void {
    if (this._cb !== null) this._cancelled = true;
    this._cb = null;
    this._arg = undefined;
  }

  /** Whether `cancel()` was called before the callback ran. */
  cancelled(): boolean {
    return this._cancelled;
  }

  /** @internal */
  _run(): void {
    const cb = this._cb;
    if (cb === null) return;
    this._cb = null;
    const arg = this._arg;
    this._arg = undefined;
    try {
      cb(arg);
    } catch (e) {
      this._sink._reportCallbackError(e, this);
    }
  }
}

/**
 * A callback scheduled at a deadline with `loop.callLater()` or `loop.callAt()`.
 *
 * @example
 * ```ts
 * import { Loop } from "loopwork";
 *
 * const loop = new Loop({ clock: "virtual" });
 * const timer = loop.callLater(500, () => console.log("fired"));
 * console.log(timer.when()); // 500
 * timer.cancel();
 * loop.close();
 * ```
 */
export class TimerHandle extends Handle {
  /** @internal */ readonly _when: number;
  /** @internal */ readonly _seq: number;
  /** @internal index in the heap, or -1 when not in it */ _index = -1;

  /** @internal */
  constructor(when: number, seq: number, cb: (arg: unknown) => void, arg: unknown, sink: ErrorSink) {
    super(cb, arg, sink);
    this._when = when;
    this._seq = seq;
  }

  /** The deadline, in the loop's `time()` milliseconds. */
  when(): number {
    return this._when;
  }

  /** Prevents the callback from running and takes the timer off the loop's schedule. */
  override cancel(): void {
    if (this._cb === null) return;
    super.cancel();
    this._sink._timerCancelled(this);
  }
}

function before(a: TimerHandle, b: TimerHandle): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

/** @internal The loop's timers, earliest first (ties in the order they were scheduled). */
export function makeTimerHeap(): Heap<TimerHandle> {
  return new Heap<TimerHandle>(before);
}
