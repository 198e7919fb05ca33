/**
 * Barrier: asyncio.Barrier. `parties` tasks meet: each `wait()` blocks until the last one
 * arrives, then all pass together and the barrier is ready for the next round. `abort()`
 * breaks it (waiters and later arrivals get `BrokenBarrierError`), `reset()` breaks the
 * current round and makes it usable again.
 * @module
 */
import { type Future, describeValue, failedWith, Grant, type GrantOwner, signalOf, type SignalOptions, tryGetRunningLoop, WaiterList } from "../core/index.ts";

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

/** The phases of asyncio.Barrier: parties arrive (filling), the released round leaves (draining), a reset or an abort. */
type BarrierState = "filling" | "draining" | "resetting" | "broken";

/**
 * A barrier for `parties` tasks (asyncio.Barrier). `wait()` resolves, once all parties
 * have arrived, to this caller's arrival index in the round (0 for the first, `parties - 1`
 * for the last). A waiter cancelled before the round completes leaves it (the round then
 * needs another arrival). Rounds repeat: the barrier is cyclic.
 *
 * As asyncio's, a round is over once every released party has resumed (the barrier
 * *drains*): a task that passes and arrives again before the others of its round resumed
 * waits until they have, and only then counts for the next round. A `reset()` or `abort()`
 * while the round drains fails the released parties that have not resumed yet with
 * `BrokenBarrierError`; after a `reset()` new arrivals wait until those have left.
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
export class Barrier implements Disposable, GrantOwner {
  /** How many tasks must arrive for a round to pass. */
  readonly parties: number;
  /** @internal arrivals of the current round, in order */ readonly _waiters: WaiterList<Grant<number>> = new WaiterList(this, "wait at");
  /** @internal arrivals held while the last round drains or a reset completes */ readonly _blocked: WaiterList<Grant<number>> = new WaiterList(this, "wait at");
  /** @internal */ _state: BarrierState = "filling";
  /** @internal released (or reset) parties a task waits on that have not resumed yet */ _inside = 0;
  /** @internal the held arrivals are to join on the next turn */ _admitting = false;

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

  /** How many tasks wait in the current round (0 while a round drains, as asyncio's `n_waiting`). */
  get nWaiting(): number {
    return this._waiters.size;
  }

  /** Whether the barrier is broken (by `abort()`), until `reset()`. */
  get broken(): boolean {
    return this._state === "broken";
  }

  /**
   * Waits for the round to fill; resolves to this caller's arrival index. The last
   * arrival resolves at once and releases the others. While the previous round drains
   * (or a reset completes) the caller waits before it joins a round.
   * Fails with `BrokenBarrierError` when the barrier is or becomes broken or reset.
   */
  wait(options?: SignalOptions): Future<number> {
    const signal = signalOf("Barrier.wait()", options);
    if (this._state === "broken") return failedWith(new BrokenBarrierError("Barrier.wait(): the barrier is broken (aborted)"));
    if (signal?.aborted) return failedWith(signal.reason);
    const w = new Grant<number>(this);
    if (this._state !== "filling") return this._blocked.wait(w, signal);
    w._watch(signal);
    this._arrive(w);
    return w;
  }

  /** Breaks the barrier: every waiter, and every later `wait()`, fails with `BrokenBarrierError`. */
  abort(): void {
    this._state = "broken";
    this._breakRound("Barrier.abort(): the barrier was aborted");
    const blocked = [...this._blocked];
    this._blocked.clear();
    for (const w of blocked) w.setException(new BrokenBarrierError("Barrier.abort(): the barrier was aborted"));
  }

  /**
   * Returns the barrier to its initial state: waiters of the current round, and released
   * parties that have not resumed yet, fail with `BrokenBarrierError`, and a broken barrier
   * becomes usable again once they have left.
   */
  reset(): void {
    if (this._state === "broken") this._state = "filling"; // the aborted round's parties are failing already
    this._breakRound("Barrier.reset(): the barrier was reset while waiting");
    if (this._inside > 0) this._state = "resetting";
    else this._refill();
  }

  /** @internal Puts an arrival into the filling round; the last one releases the round. */
  _arrive(w: Grant<number>): void {
    this._waiters.add(w);
    if (this._waiters.size < this.parties) return;
    const round = [...this._waiters];
    this._waiters.clear();
    this._state = "draining";
    for (let i = 0; i < round.length; i++) this._settle(round[i]!, i);
    if (this._inside === 0) this._refill();
  }

  /**
   * @internal Settles a party's grant with `index`, or with a break (`index` null). One a
   * task waits on at `yield*` stays inside the barrier until it resumes, which is when it
   * sees the outcome: a round reset or aborted meanwhile fails it (asyncio's order of events).
   */
  _settle(w: Grant<number>, index: number | null, message?: string): void {
    if (w._taskWaits()) {
      w._reserved = true;
      this._inside++;
      w._item = message;
      w.setResult(index ?? -1);
    } else if (index === null) {
      w.setException(new BrokenBarrierError(message));
    } else {
      w.setResult(index);
    }
  }

  /** @internal A released (or reset) party resumed: it sees the barrier as it is now, then leaves. */
  _claimGrant(g: Grant<unknown>): void {
    g._reserved = false;
    const message = g._item as string | undefined;
    g._item = undefined;
    if (message !== undefined) g._failClaim(new BrokenBarrierError(message));
    else if (this._state === "resetting") g._failClaim(new BrokenBarrierError("Barrier.reset(): the barrier was reset before this party resumed"));
    else if (this._state === "broken") g._failClaim(new BrokenBarrierError("Barrier.abort(): the barrier was aborted before this party resumed"));
    this._leave();
  }

  /** @internal A released party was cancelled before it resumed: it leaves all the same. */
  _abandonGrant(g: Grant<unknown>): void {
    if (!g._reserved) return;
    g._reserved = false;
    g._item = undefined;
    this._leave();
  }

  /** @internal One party left; the last one out ends the draining or the reset. */
  _leave(): void {
    if (--this._inside > 0) return;
    if (this._state === "draining" || this._state === "resetting") this._refill();
  }

  /**
   * @internal The barrier fills again. The arrivals held meanwhile join on the next turn,
   * oldest first, as asyncio's woken `_block()` waiters do: the task that ended the drain
   * (or the reset) goes on first, and a `reset()` it makes at once does not break them.
   */
  _refill(): void {
    this._state = "filling";
    if (this._blocked.size === 0 || this._admitting) return;
    this._admitting = true;
    const admit = (): void => {
      this._admitting = false;
      while (this._state === "filling" && this._blocked.size > 0) this._arrive(this._blocked.shift()!);
    };
    const loop = tryGetRunningLoop();
    if (loop !== undefined) loop.callSoon(admit);
    else queueMicrotask(admit);
  }

  private _breakRound(message: string): void {
    const round = [...this._waiters];
    this._waiters.clear();
    for (const w of round) this._settle(w, null, message);
  }

  /**
   * `using barrier = new Barrier(n)`: the barrier is aborted when the block ends, so no
   * party keeps waiting for one that left the scope.
   */
  [Symbol.dispose](): void {
    this.abort();
  }

  /** A short description such as `Barrier<filling, waiting: 1/3>` or `Barrier<broken>`. */
  toString(): string {
    return this._state === "broken" ? "Barrier<broken>" : `Barrier<${this._state}, waiting: ${this._waiters.size}/${this.parties}>`;
  }
}
