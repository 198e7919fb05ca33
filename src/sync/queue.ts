/**
 * Queues: asyncio.Queue, PriorityQueue and LifoQueue, with Python 3.13's `shutdown()`.
 * Back-pressure comes from `maxsize`: `put()` waits while the queue is full, `get()` while
 * it is empty, each in FIFO order. A put wakes the first waiting getter and reserves an
 * item for it; the getter takes the item at the head of the queue when its task resumes
 * (as in asyncio, so items reach consumers in queue order), or at once when it is awaited
 * as a promise. A getter woken then cancelled before it runs drops its reservation and the
 * next getter is woken: no item is lost or delivered twice. Puts mirror this: room made
 * for a `put()` a task waits on is held for it, and its item goes in when the task resumes
 * (as in asyncio); a putter woken then cancelled before it runs puts nothing and the room
 * goes to the next putter.
 *
 * Only a put a task waits on at `yield*` has room held for it. A `put()` that nobody
 * waits on when room comes (not awaited, not yielded: fire and forget) enters its item
 * then, as one that did not have to wait does at the call. asyncio has no such case (an
 * un-awaited coroutine never runs); holding the room for it kept it for ever, so the item
 * never entered and a later `get()` never ended.
 * @module
 */
import { InvalidStateError, type Future, describeValue, checkOptions, failedWith, Grant, type GrantOwner, signalOf, resolved, type SignalOptions, WaiterList, Ring, Heap } from "../core/index.ts";
import { Event } from "./event.ts";

/** What a woken put's grant holds until its task resumes and enters the item. */
const HELD_SLOT = Symbol("held slot") as unknown as void;

/**
 * Raised by `putNowait()` on a full queue.
 *
 * @example
 * ```ts
 * import { Queue, QueueFull } from "loopwork";
 *
 * const q = new Queue<number>({ maxsize: 1 });
 * q.putNowait(1);
 * try { q.putNowait(2); } catch (e) { console.log(e instanceof QueueFull); } // true
 * ```
 */
export class QueueFull extends Error {
  /** Creates the error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "The queue is full", options);
    this.name = "QueueFull";
  }
}

/**
 * Raised by `getNowait()` on an empty queue.
 *
 * @example
 * ```ts
 * import { Queue, QueueEmpty } from "loopwork";
 *
 * const q = new Queue<number>();
 * try { q.getNowait(); } catch (e) { console.log(e instanceof QueueEmpty); } // true
 * ```
 */
export class QueueEmpty extends Error {
  /** Creates the error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "The queue is empty", options);
    this.name = "QueueEmpty";
  }
}

/**
 * Raised by `put()`/`putNowait()` on a queue that was shut down, and by `get()`/
 * `getNowait()` once such a queue is empty (at once after `shutdown(true)`).
 *
 * @example
 * ```ts
 * import { Queue, QueueShutDown } from "loopwork";
 *
 * const q = new Queue<number>();
 * q.shutdown();
 * try { q.putNowait(1); } catch (e) { console.log(e instanceof QueueShutDown); } // true
 * ```
 */
export class QueueShutDown extends Error {
  /** Creates the error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "The queue is shut down", options);
    this.name = "QueueShutDown";
  }
}

/** Is `e` a `QueueShutDown`? Never throws: an abort reason may be a Proxy whose traps throw. */
function isShutDown(e: unknown): boolean {
  try {
    return e instanceof QueueShutDown;
  } catch {
    return false;
  }
}

/**
 * Options of `new Queue()`, `new LifoQueue()`.
 *
 * @example
 * ```ts
 * import { Queue, type QueueOptions } from "loopwork";
 *
 * const options: QueueOptions = { maxsize: 100 };
 * const q = new Queue<string>(options);
 * ```
 */
export interface QueueOptions {
  /** Most items the queue holds before `put()` waits; 0 (the default) means no limit. */
  maxsize?: number;
}

/**
 * Options of `new PriorityQueue()`.
 *
 * @example
 * ```ts
 * import { PriorityQueue, type PriorityQueueOptions } from "loopwork";
 *
 * const byDeadline: PriorityQueueOptions<{ due: number }> = { compare: (a, b) => a.due - b.due };
 * const q = new PriorityQueue(byDeadline);
 * ```
 */
export interface PriorityQueueOptions<T> extends QueueOptions {
  /**
   * Orders items: negative when `a` comes first. Default: `<` on the items (numbers,
   * strings). Items that compare equal come out in the order they went in.
   */
  compare?: (a: T, b: T) => number;
}

const QUEUE_OPTIONS = ["maxsize"] as const;
const PRIORITY_QUEUE_OPTIONS = ["maxsize", "compare"] as const;

function checkMaxsize(what: string, options: QueueOptions | undefined): number {
  if (options === undefined) return 0;
  const m = options.maxsize;
  if (m === undefined) return 0;
  if (typeof m !== "number" || !Number.isInteger(m) || m < 0) {
    throw new RangeError(`${what}: maxsize must be an integer >= 0 (0 for no limit), got ${describeValue(m)}`);
  }
  return m;
}

/**
 * A FIFO queue for tasks (asyncio.Queue). `put` and `get` return futures to `yield*` or
 * `await`; `putNowait`/`getNowait` never wait. `taskDone()` and `join()` track work;
 * `shutdown()` ends the queue, and `for await (const x of queue)` reads until then.
 *
 * @example
 * ```ts
 * import { Queue, run, spawn } from "loopwork";
 *
 * await run(function* () {
 *   const q = new Queue<number>({ maxsize: 2 });
 *   const consumer = spawn(async (signal) => {
 *     let sum = 0;
 *     // `iterate({ signal })`: cancelling the task also ends a wait for the next item
 *     for await (const n of q.iterate({ signal })) { sum += n; q.taskDone(); }
 *     return sum;
 *   });
 *   for (let i = 1; i <= 5; i++) yield* q.put(i); // waits while 2 are queued
 *   yield* q.join();
 *   q.shutdown();
 *   console.log(yield* consumer); // 15
 * });
 * ```
 */
export class Queue<T> implements AsyncIterable<T>, Disposable, GrantOwner {
  /** Most items held before `put()` waits; 0 means no limit. */
  readonly maxsize: number;
  /** @internal */ readonly _getters: WaiterList<Grant<T>> = new WaiterList(this, "get from");
  /** @internal */ readonly _putters: WaiterList<Grant<void>> = new WaiterList(this, "put to");
  /** @internal a done future, shared by every put that does not wait */ _ready: Future<void> | null = null;
  /** @internal items held for getters woken but not resumed yet */ _reserved = 0;
  /** @internal room held for putters woken but not resumed yet */ _heldSlots = 0;
  /** @internal */ _unfinished = 0;
  /** @internal */ readonly _finished: Event = new Event();
  /** @internal */ _isShutdown = false;
  /** @internal */ _immediate = false;
  private readonly _items: Ring<T> = new Ring<T>();

  /**
   * Creates a queue holding at most `maxsize` items (0, the default, for no limit).
   * @throws {RangeError} when `maxsize` is not an integer >= 0
   * @throws {TypeError} for an unknown option
   */
  constructor(options?: QueueOptions) {
    // `this` is already a PriorityQueue (or a subclass's) while this constructor runs.
    checkOptions(new.target.name, options, this instanceof PriorityQueue ? PRIORITY_QUEUE_OPTIONS : QUEUE_OPTIONS);
    this.maxsize = checkMaxsize(`new ${new.target.name}()`, options);
    this._finished.set();
  }

  // ---- storage: what the subclasses change ------------------------------------------

  /** @internal */ _size(): number {
    return this._items.length;
  }
  /** @internal */ _push(item: T): void {
    this._items.push(item);
  }
  /** @internal */ _take(): T {
    return this._items.shift() as T; // called only when not empty
  }

  // ---- public surface ---------------------------------------------------------------

  /**
   * Number of items in the queue, not counting those already promised to getters that
   * were woken and have not resumed yet.
   */
  qsize(): number {
    return this._size() - this._reserved;
  }

  /** Whether the queue holds no item (see `qsize()`). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /**
   * Whether the queue holds `maxsize` items (never, without a limit), counting the room
   * held for waiting puts that were woken and have not resumed yet.
   */
  full(): boolean {
    return this.maxsize > 0 && this.qsize() + this._heldSlots >= this.maxsize;
  }

  /** Whether `shutdown()` was called. */
  isShutdown(): boolean {
    return this._isShutdown;
  }

  /**
   * Puts `item` without waiting.
   * @throws {QueueFull} when the queue is full
   * @throws {QueueShutDown} when the queue was shut down
   */
  putNowait(item: T): void {
    if (this._isShutdown) throw new QueueShutDown("putNowait(): the queue is shut down");
    if (this.full()) throw new QueueFull(`putNowait(): the queue is full (maxsize ${this.maxsize})`);
    this._enter(item);
  }

  /**
   * Puts `item`, waiting while the queue is full (behind earlier waiting puts). Fails with
   * `QueueShutDown` if the queue is or gets shut down before the item is in. A waiting put
   * given room enters its item when its task resumes (at once when awaited as a promise, or
   * when nobody waits on it); cancelled before that, it puts nothing and the room goes to
   * the next waiting put (asyncio's `Queue.put`).
   */
  put(item: T, options?: SignalOptions): Future<void> {
    const signal = signalOf("Queue.put()", options);
    if (this._isShutdown) return failedWith(new QueueShutDown("put(): the queue is shut down"));
    if (!this.full() && this._putters.size === 0) {
      if (signal?.aborted) return failedWith(signal.reason);
      try {
        this._enter(item);
      } catch (e) {
        return failedWith(e); // a PriorityQueue's comparator threw: nothing entered
      }
      return (this._ready ??= resolved(undefined));
    }
    const g = new Grant<void>(this);
    g._item = item;
    return this._putters.wait(g, signal);
  }

  /**
   * Removes and returns the next item without waiting.
   * @throws {QueueEmpty} when the queue is empty
   * @throws {QueueShutDown} when the queue is empty and shut down
   */
  getNowait(): T {
    if (this.qsize() === 0) {
      if (this._isShutdown) throw new QueueShutDown("getNowait(): the queue is shut down and empty");
      throw new QueueEmpty("getNowait(): the queue is empty");
    }
    const item = this._take();
    this._admitPutters();
    return item;
  }

  /**
   * Removes and returns the next item, waiting while the queue is empty (behind earlier
   * waiting gets). Fails with `QueueShutDown` once the queue is shut down and empty.
   */
  get(options?: SignalOptions): Future<T> {
    const signal = signalOf("Queue.get()", options);
    if (this.qsize() > 0) {
      if (signal?.aborted) return failedWith(signal.reason);
      let item: T;
      try {
        item = this.getNowait();
      } catch (e) {
        return failedWith(e); // a PriorityQueue's comparator threw: nothing was taken
      }
      return resolved(item);
    }
    if (this._isShutdown) return failedWith(new QueueShutDown("get(): the queue is shut down and empty"));
    return this._getters.wait(new Grant<T>(this), signal);
  }

  /**
   * Marks one item taken with `get` as processed; `join()` resolves when every item put
   * was marked.
   * @throws {InvalidStateError} when called more times than items were put
   */
  taskDone(): void {
    if (this._unfinished <= 0) {
      throw new InvalidStateError("taskDone() called more times than there were items put");
    }
    if (--this._unfinished === 0) this._finished.set();
  }

  /** Resolves once every item put has been marked with `taskDone()` (at once if none is pending). */
  join(options?: SignalOptions): Future<void> {
    return this._finished.wait(options) as Future<unknown> as Future<void>;
  }

  /**
   * Shuts the queue down (Python 3.13): `put` fails with `QueueShutDown` from now on, and
   * so do waiting puts; `get` drains what is left, then fails with `QueueShutDown`. With
   * `immediate`, the items left are dropped at once (counted as done for `join()`), so
   * every waiting `get` fails too.
   */
  shutdown(immediate: boolean = false): void {
    this._isShutdown = true;
    if (immediate) {
      // Every item goes, those reserved for woken getters too: they fail on resuming.
      this._immediate = true;
      this._reserved = 0;
      while (this._size() > 0) {
        this._take();
        if (this._unfinished > 0) this._unfinished--;
      }
      if (this._unfinished === 0) this._finished.set();
    }
    const getters = [...this._getters];
    this._getters.clear();
    for (const g of getters) g.setException(new QueueShutDown("get(): the queue was shut down"));
    const putters = [...this._putters];
    this._putters.clear();
    for (const p of putters) p.setException(new QueueShutDown("put(): the queue was shut down"));
  }

  /** `using q = new Queue()`: the queue is shut down (not immediately) when the block ends. */
  [Symbol.dispose](): void {
    this.shutdown();
  }

  /**
   * `for await (const x of queue)`: gets items until the queue is shut down and empty. In
   * an async task, prefer `queue.iterate({ signal })`, so that cancelling the task also
   * ends a wait for the next item (an async function cannot otherwise be interrupted).
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterate();
  }

  /**
   * Gets items until the queue is shut down and empty; `options.signal` stops the
   * iteration (the pending `get` is withdrawn and the loop throws the abort reason).
   */
  async *iterate(options?: SignalOptions): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.get(options);
      } catch (e) {
        if (isShutDown(e)) return;
        throw e;
      }
      yield item;
    }
  }

  /** A short description such as `Queue<size: 2/10, getters: 0, putters: 0>`. */
  toString(): string {
    const cap = this.maxsize > 0 ? `/${this.maxsize}` : "";
    const down = this._isShutdown ? ", shut down" : "";
    return `${this.constructor.name}<size: ${this._size()}${cap}, getters: ${this._getters.size}, putters: ${this._putters.size}${down}>`;
  }

  // ---- internals --------------------------------------------------------------------

  /**
   * An item enters, and wakes a waiting getter. If it cannot enter (a PriorityQueue's
   * comparator threw), this throws and nothing changed.
   */
  private _enter(item: T): void {
    this._push(item);
    this._unfinished++;
    this._finished.clear();
    this._wakeGetters();
  }

  /**
   * Wakes waiting getters while items are available. A getter whose result is awaited as a
   * promise takes its item now; any other gets the item reserved and takes the head of the
   * queue when it resumes or is read, so items reach consumers in queue order. (A reserved
   * item blocks no one: `qsize()` and `full()` leave it out.)
   */
  private _wakeGetters(): void {
    while (this._getters.size > 0 && this.qsize() > 0) {
      const g = this._getters.shift()!;
      if (g._claimed) {
        let item: T;
        try {
          item = this._take();
        } catch (e) {
          g.setException(e); // a PriorityQueue's comparator threw: that get fails, the items stay
          continue;
        }
        g.setResult(item);
        this._admitPutters();
      } else {
        g._reserved = true;
        this._reserved++;
        g.setResult(undefined as T);
      }
    }
  }

  /**
   * Room was made: waiting puts are woken, oldest first. A put awaited as a promise (or that
   * nobody waits on) enters its item now; one a task waits on at `yield*` is held the room
   * and enters its item when it resumes, so a cancellation before then puts nothing
   * (asyncio's order of events).
   */
  private _admitPutters(): void {
    while (this._putters.size > 0 && !this.full()) {
      const p = this._putters.shift()!;
      if (!p._taskWaits()) {
        const item = p._item as T;
        p._item = undefined;
        try {
          this._enter(item);
        } catch (e) {
          p.setException(e); // its item cannot enter (a comparator threw): that put fails
          continue;
        }
        p.setResult(undefined);
      } else {
        p._reserved = true;
        this._heldSlots++;
        p.setResult(HELD_SLOT);
      }
    }
  }

  /** @internal A woken getter resumed: it takes the item at the head; a woken put enters its item. */
  _claimGrant(g: Grant<unknown>): void {
    g._reserved = false;
    if (g._value === HELD_SLOT) {
      this._heldSlots--;
      const item = g._item as T;
      g._item = undefined;
      if (this._isShutdown) {
        g._failClaim(new QueueShutDown("put(): the queue was shut down"));
        return;
      }
      try {
        this._enter(item);
      } catch (e) {
        g._failClaim(e); // its item cannot enter (a comparator threw): that put fails
        this._admitPutters();
        return;
      }
      g._claimResult(undefined);
      return;
    }
    if (this._immediate && this._size() === 0) {
      // Its item went with `shutdown(true)`.
      g._failClaim(new QueueShutDown("get(): the queue was shut down (immediate)"));
      return;
    }
    this._reserved--;
    let item: T;
    try {
      item = this._take();
    } catch (e) {
      g._failClaim(e); // a PriorityQueue's comparator threw: that get fails, the items stay
      this._wakeGetters();
      return;
    }
    g._claimResult(item);
    this._admitPutters();
  }

  /**
   * @internal A woken getter was cancelled before it resumed: its item goes to the next
   * getter; a woken put: its room goes to the next put.
   */
  _abandonGrant(g: Grant<unknown>): void {
    if (!g._reserved) return; // a put awaited as a promise: its item is in; nothing else was given
    g._reserved = false;
    if (g._value === HELD_SLOT) {
      this._heldSlots--;
      g._item = undefined;
      this._admitPutters();
      return;
    }
    if (this._immediate && this._size() === 0) return;
    this._reserved--;
    this._wakeGetters();
  }
}

/**
 * A queue that gives the smallest item first (asyncio.PriorityQueue), by `<` or by
 * `options.compare`; equal items come out in the order they were put.
 *
 * @example
 * ```ts
 * import { PriorityQueue } from "loopwork";
 *
 * const q = new PriorityQueue<{ p: number; job: string }>({ compare: (a, b) => a.p - b.p });
 * q.putNowait({ p: 2, job: "later" });
 * q.putNowait({ p: 1, job: "first" });
 * console.log(q.getNowait().job); // "first"
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  private readonly _heap: Heap<Entry<T>>;
  private _seq = 0;

  /**
   * Creates a priority queue.
   * @throws {RangeError} when `maxsize` is not an integer >= 0
   * @throws {TypeError} when `compare` is not a function
   */
  constructor(options?: PriorityQueueOptions<T>) {
    super(options);
    const compare = options?.compare;
    if (compare !== undefined && typeof compare !== "function") {
      throw new TypeError(`new PriorityQueue(): compare must be a function, got ${describeValue(compare)}`);
    }
    const cmp = compare ?? defaultCompare;
    this._heap = new Heap<Entry<T>>((a, b) => {
      const c = cmp(a.item, b.item);
      return c < 0 || (c === 0 && a.seq < b.seq);
    });
  }

  /** @internal */ override _size(): number {
    return this._heap.size;
  }
  /** @internal */ override _push(item: T): void {
    this._heap.push({ item, seq: ++this._seq, _index: -1 });
  }
  /** @internal */ override _take(): T {
    return this._heap.pop()!.item;
  }
}

/** An item of a `PriorityQueue`, with its order of arrival to break ties. */
interface Entry<T> {
  item: T;
  seq: number;
  _index: number;
}

function defaultCompare(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/**
 * A queue that gives the most recently put item first (asyncio.LifoQueue).
 *
 * @example
 * ```ts
 * import { LifoQueue } from "loopwork";
 *
 * const q = new LifoQueue<number>();
 * q.putNowait(1);
 * q.putNowait(2);
 * console.log(q.getNowait()); // 2
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  private readonly _stack: T[] = [];

  /** @internal */ override _size(): number {
    return this._stack.length;
  }
  /** @internal */ override _push(item: T): void {
    this._stack.push(item);
  }
  /** @internal */ override _take(): T {
    return this._stack.pop()!;
  }
}
