/**
 * Handles: the loop's unit of scheduled work. A `Handle` is a callback queued to run
 * soon; a `TimerHandle` is one queued to run at a deadline, kept in a binary heap ordered
 * by (deadline, scheduling order) so that timers due at one instant run in the order
 * they were scheduled, as in asyncio.
 * @module
 */

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

/** A binary min-heap of timers supporting removal by index. */
export class TimerHeap {
  /** @internal */ readonly items: TimerHandle[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): TimerHandle | undefined {
    return this.items[0];
  }

  push(t: TimerHandle): void {
    const items = this.items;
    t._index = items.length;
    items.push(t);
    this.up(t._index);
  }

  pop(): TimerHandle | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (last !== top) {
      items[0] = last;
      last._index = 0;
      this.down(0);
    }
    top._index = -1;
    return top;
  }

  remove(t: TimerHandle): void {
    const i = t._index;
    const items = this.items;
    if (i < 0 || items[i] !== t) return;
    const last = items.pop()!;
    t._index = -1;
    if (last === t) return;
    items[i] = last;
    last._index = i;
    this.down(i);
    this.up(last._index);
  }

  clear(): void {
    for (const t of this.items) t._index = -1;
    this.items.length = 0;
  }

  private up(i: number): void {
    const items = this.items;
    const t = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!before(t, parent)) break;
      items[i] = parent;
      parent._index = i;
      i = p;
    }
    items[i] = t;
    t._index = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const t = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!before(child, t)) break;
      items[i] = child;
      child._index = i;
      i = c;
    }
    items[i] = t;
    t._index = i;
  }
}
