/**
 * Barrier: asyncio.Barrier. `parties` tasks meet: each `wait()` blocks until the last one
 * arrives, then all pass together and the barrier is ready for the next round. `abort()`
 * breaks it (waiters and later arrivals get `BrokenBarrierError`), `reset()` breaks the
 * current round and makes it usable again.
 * @module
 */
import { type Future, describeValue, failedWith, Grant, signalOf, type SignalOptions, WaiterList } from "../core/index.ts";

/**
 * Raised by `Barrier.wait()` when the barrier is aborted or reset while waiting, or is
 * broken when the wait starts.
 *
 * @example
 * ```ts
 * import { Barrier, BrokenBarrierError, run } from "loopwork";
 *
 * await run(function* () {
 *   const barrier = new Barrier(2);
 *   barrier.abort();
 *   try {
 *     yield* barrier.wait();
 *   } catch (e) {
 *     console.log(e instanceof BrokenBarrierError); // true
 *   }
 * });
 * ```
 */
export class BrokenBarrierError extends Error {
  /** Creates the error; the message says how the barrier broke. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message ?? "The barrier is broken", options);
    this.name = "BrokenBarrierError";
  }
}

/**
 * A barrier for `parties` tasks (asyncio.Barrier). `wait()` resolves, once all parties
 * have arrived, to this caller's arrival index in the round (0 for the first, `parties - 1`
 * for the last). A waiter cancelled before the round completes leaves it (the round then
 * needs another arrival). Rounds repeat: the barrier is cyclic.
 *
 * @example
 * ```ts
 * import { Barrier, run, sleep, spawn } from "loopwork";
 *
 * const barrier = new Barrier(3);
 * await run(function* () {
 *   const party = function* (ms: number) {
 *     yield* sleep(ms);
 *     const index = yield* barrier.wait(); // all three pass at 30 ms
 *     return index;
 *   };
 *   const tasks = [10, 20, 30].map((ms) => spawn(party(ms)));
 *   const indices = [];
 *   for (const t of tasks) indices.push(yield* t);
 *   console.log(indices); // [0, 1, 2]
 * });
 * ```
 */
export class Barrier implements Disposable {
  /** How many tasks must arrive for a round to pass. */
  readonly parties: number;
  /** @internal arrivals of the current round, in order */ readonly _waiters: WaiterList<Grant<number>> = new WaiterList(this, "wait at");
  /** @internal */ _broken = false;

  /**
   * Creates a barrier for `parties` tasks.
   * @throws {RangeError} when `parties` is not an integer >= 1
   */
  constructor(parties: number) {
    if (typeof parties !== "number" || !Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`new Barrier(): parties must be an integer >= 1, got ${describeValue(parties)}`);
    }
    this.parties = parties;
  }

  /** How many tasks wait in the current round. */
  get nWaiting(): number {
    return this._waiters.size;
  }

  /** Whether the barrier is broken (by `abort()`), until `reset()`. */
  get broken(): boolean {
    return this._broken;
  }

  /**
   * Waits for the round to fill; resolves to this caller's arrival index. The last
   * arrival resolves at once and releases the others.
   * Fails with `BrokenBarrierError` when the barrier is or becomes broken or reset.
   */
  wait(options?: SignalOptions): Future<number> {
    const signal = signalOf("Barrier.wait()", options);
    if (this._broken) return failedWith(new BrokenBarrierError("Barrier.wait(): the barrier is broken (aborted)"));
    if (signal?.aborted) return failedWith(signal.reason);
    const w = new Grant<number>(null);
    this._waiters.add(w);
    if (this._waiters.size === this.parties) {
      const round = [...this._waiters];
      this._waiters.clear();
      for (let i = 0; i < round.length; i++) round[i]!.setResult(i);
      return w;
    }
    w._watch(signal);
    return w;
  }

  /** Breaks the barrier: every waiter, and every later `wait()`, fails with `BrokenBarrierError`. */
  abort(): void {
    this._broken = true;
    this._breakRound("Barrier.abort(): the barrier was aborted");
  }

  /**
   * Returns the barrier to its initial state: waiters of the current round fail with
   * `BrokenBarrierError`, and a broken barrier becomes usable again.
   */
  reset(): void {
    this._breakRound("Barrier.reset(): the barrier was reset while waiting");
    this._broken = false;
  }

  private _breakRound(message: string): void {
    const round = [...this._waiters];
    this._waiters.clear();
    for (const w of round) w.setException(new BrokenBarrierError(message));
  }

  /**
   * `using barrier = new Barrier(n)`: the barrier is aborted when the block ends, so no
   * party keeps waiting for one that left the scope.
   */
  [Symbol.dispose](): void {
    this.abort();
  }

  /** A short description such as `Barrier<waiting: 1/3>`. */
  toString(): string {
    return `Barrier<${this._broken ? "broken" : `waiting: ${this._waiters.size}/${this.parties}`}>`;
  }
}
