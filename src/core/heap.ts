/**
 * The one binary min-heap of loopwork: the loop's timers and `PriorityQueue` both keep their
 * items in it. Each item records its own position (`_index`), so an item can be removed from
 * the middle in O(log n), which is how a cancelled timer leaves.
 * @module
 */

/** @internal What a heap holds: an item that knows its position (-1 when not in a heap). */
export interface HeapItem {
  _index: number;
}

/** @internal A binary min-heap ordered by `before`, supporting removal of any item. */
export class Heap<T extends HeapItem> {
  /** @internal */ readonly items: T[] = [];
  private readonly _before: (a: T, b: T) => boolean;

  /** `before(a, b)`: must `a` come out before `b`? Ties must be broken (by a sequence number). */
  constructor(before: (a: T, b: T) => boolean) {
    this._before = before;
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const items = this.items;
    x._index = items.length;
    items.push(x);
    this._up(x._index);
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (last !== top) {
      items[0] = last;
      last._index = 0;
      this._down(0);
    }
    top._index = -1;
    return top;
  }

  /** Takes `x` out, wherever it is; nothing happens when it is not in this heap. */
  remove(x: T): void {
    const i = x._index;
    const items = this.items;
    if (i < 0 || items[i] !== x) return;
    const last = items.pop()!;
    x._index = -1;
    if (last === x) return;
    items[i] = last;
    last._index = i;
    this._down(i);
    this._up(last._index);
  }

  clear(): void {
    for (const x of this.items) x._index = -1;
    this.items.length = 0;
  }

  private _up(i: number): void {
    const items = this.items;
    const x = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this._before(x, parent)) break;
      items[i] = parent;
      parent._index = i;
      i = p;
    }
    items[i] = x;
    x._index = i;
  }

  private _down(i: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this._before(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!this._before(child, x)) break;
      items[i] = child;
      child._index = i;
      i = c;
    }
    items[i] = x;
    x._index = i;
  }
}
