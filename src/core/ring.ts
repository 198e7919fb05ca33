/**
 * The one FIFO of loopwork: a growable ring buffer (power-of-two capacity) with O(1) `push`
 * and `shift`, where an array's `shift()` is O(n) (which once made a large `asCompleted()`
 * quadratic). The loop's ready queue, `Queue` and `asCompleted` keep their items in it.
 * @module
 */

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
    this._head = (this._head + 1) & (this._buf.length - 1);
    this.length--;
    return x;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.length === 0 ? undefined : this._buf[this._head];
  }

  /** The newest item, left in place. */
  peekLast(): T | undefined {
    return this.length === 0 ? undefined : this._buf[(this._head + this.length - 1) & (this._buf.length - 1)];
  }

  /** Takes every item out, oldest first. */
  drain(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this._buf[(this._head + i) & (this._buf.length - 1)] as T;
    this.clear();
    return out;
  }

  clear(): void {
    this._buf.fill(undefined);
    this._head = this.length = 0;
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
