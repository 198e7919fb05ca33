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

  /** Adds `x`. If `before` throws, the heap is left as it was and the error propagates. */
  push(x: T): void {
    const items = this.items;
    x._index = items.length;
    items.push(x);
    try {
      this._up(x._index);
    } catch (e) {
      items.pop(); // `_up` put `x` back at the end
      x._index = -1;
      throw e;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (last !== top) {
      items[0] = last;
      last._index = 0;
      try {
        this._down(0);
      } catch (e) {
        // `_down` put `last` back at the root: the heap is restored whole, `top` included.
        items[0] = top;
        last._index = items.length;
        items.push(last);
        throw e;
      }
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

  // The sifts move items into a hole and place the item last. A `before` that throws (a
  // PriorityQueue's comparator is user code) would leave one item lost and another twice:
  // they undo their moves and rethrow, so a failed operation changes nothing.

  private _up(i: number): void {
    const items = this.items;
    const x = items[i]!;
    const start = i;
    try {
      while (i > 0) {
        const p = (i - 1) >> 1;
        const parent = items[p]!;
        if (!this._before(x, parent)) break;
        items[i] = parent;
        parent._index = i;
        i = p;
      }
    } catch (e) {
      // The parents moved down along start's ancestors up to the hole `i`: move them back,
      // top first.
      const path: number[] = [];
      for (let h = start; h !== i; h = (h - 1) >> 1) path.push(h);
      for (let k = path.length - 1; k >= 0; k--) {
        const h = path[k]!;
        const p = (h - 1) >> 1;
        items[p] = items[h]!;
        items[p]!._index = p;
      }
      items[start] = x;
      x._index = start;
      throw e;
    }
    items[i] = x;
    x._index = i;
  }

  private _down(i: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[i]!;
    const start = i;
    try {
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
    } catch (e) {
      // The children moved up along the hole's ancestors down from start: move them back.
      for (let h = i; h !== start; ) {
        const p = (h - 1) >> 1;
        items[h] = items[p]!;
        items[h]!._index = h;
        h = p;
      }
      items[start] = x;
      x._index = start;
      throw e;
    }
    items[i] = x;
    x._index = i;
  }
}
