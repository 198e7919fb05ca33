/**
 * The one FIFO of loopwork: a growable ring buffer (power-of-two capacity) with O(1) `push`
 * and `shift`, where an array's `shift()` is O(n) (which once made a large `asCompleted()`
 * quadratic). The loop's ready queue, `Queue` and `asCompleted` keep their items in it.
 * @module
 */

/**
 * The buffer of the last loop's ready queue, emptied, for the next loop's: each `run()` makes
 * a loop, and a fan-out of 100k tasks grows its queue from 64 entries to 131072, allocating
 * and copying twice that on every run. Holds no items; at most `SPARE_MAX` entries are kept.
 */
let spare: unknown[] | null = null;
const SPARE_MAX = 1 << 17;

/** @internal A FIFO on a growable ring buffer. */
export class Ring<T> {
  private _buf: (T | undefined)[];
  private _head = 0;
  /** How many items it holds. */
  length = 0;

  /** `capacity`: the starting size, a power of two. */
  constructor(capacity = 16) {
    this._buf = new Array<T | undefined>(capacity);
  }

  push(x: T): void {
    if (this.length === this._buf.length) this._grow();
    this._buf[(this._head + this.length) & (this._buf.length - 1)] = x;
    this.length++;
  }

  /** Takes the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const x = this._buf[this._head] as T;
    this._buf[this._head] = undefined;
    // Emptied, it starts again at the front: a queue that holds one or two items at a time
    // (a task switching with another, or yielding) stays in one cache line of its buffer
    // instead of walking through all of it, however large a fan-out made it.
    this._head = --this.length === 0 ? 0 : (this._head + 1) & (this._buf.length - 1);
    return x;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.length === 0 ? undefined : this._buf[this._head];
  }

  /** If `old` is the newest item, puts `x` in its place and says so; else leaves the ring as it is. */
  replaceLast(old: T, x: T): boolean {
    if (this.length === 0) return false;
    const buf = this._buf;
    const i = (this._head + this.length - 1) & (buf.length - 1);
    if (buf[i] !== old) return false;
    buf[i] = x;
    return true;
  }

  /** Takes every item out, oldest first. */
  drain(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this._buf[(this._head + i) & (this._buf.length - 1)] as T;
    this.clear();
    return out;
  }

  clear(): void {
    const buf = this._buf;
    const mask = buf.length - 1;
    for (let i = 0; i < this.length; i++) buf[(this._head + i) & mask] = undefined;
    this._head = this.length = 0;
  }

  /**
   * A ring that starts on the buffer the last `release()` gave back, if it is at least
   * `capacity` long (the loop's ready queue, one per `run()`).
   */
  static reusing<T>(capacity: number): Ring<T> {
    const buf = spare;
    if (buf === null || buf.length < capacity) return new Ring<T>(capacity);
    spare = null;
    const r = new Ring<T>(1);
    r._buf = buf as (T | undefined)[];
    return r;
  }

  /**
   * Empties the ring and gives its buffer to the next `reusing()`, when larger than the one
   * kept; the ring goes on with a small one.
   */
  release(): void {
    this.clear();
    const buf = this._buf;
    if (buf.length <= SPARE_MAX && (spare === null || buf.length > spare.length)) {
      spare = buf;
      this._buf = new Array<T | undefined>(16);
    }
  }

  private _grow(): void {
    const old = this._buf;
    const n = old.length;
    const buf = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.length; i++) buf[i] = old[(this._head + i) & (n - 1)];
    this._buf = buf;
    this._head = 0;
  }
}
