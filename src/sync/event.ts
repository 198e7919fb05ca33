/**
 * Event: asyncio.Event. A flag that tasks wait for: `set()` wakes every waiter, `clear()`
 * resets it. Waking consumes nothing, so a cancelled waiter simply leaves.
 * @module
 */
import { type Future, failedWith, Grant, signalOf, resolved, type SignalOptions, WaiterList } from "../core/index.ts";

/**
 * An event flag for tasks (asyncio.Event): `wait()` resolves once the flag is set; `set()`
 * wakes every waiter, in the order they started waiting.
 *
 * @example
 * ```ts
 * import { Event, run, sleep, spawn } from "loopwork";
 *
 * const ready = new Event();
 * await run(function* () {
 *   const waiter = spawn(function* () {
 *     yield* ready.wait();
 *     return "go";
 *   });
 *   yield* sleep(100);
 *   ready.set();
 *   console.log(yield* waiter); // "go"
 * });
 * ```
 */
export class Event {
  /** @internal */ _value = false;
  /** @internal a done future, shared by every wait on a set event */ _ready: Future<true> | null = null;
  /** @internal */ readonly _waiters: WaiterList<Grant<true>> = new WaiterList(this, "wait for");

  /** Whether the flag is set. */
  isSet(): boolean {
    return this._value;
  }

  /** Sets the flag and wakes every waiter. Waits started after this resolve at once. */
  set(): void {
    if (this._value) return;
    this._value = true;
    const waiters = [...this._waiters];
    this._waiters.clear();
    for (const w of waiters) w.setResult(true);
  }

  /** Clears the flag: later `wait()`s wait for the next `set()`. */
  clear(): void {
    this._value = false;
  }

  /**
   * Waits until the flag is set; resolves to `true`. Cancelling the future (or the task
   * waiting on it) or aborting `options.signal` withdraws the wait.
   */
  wait(options?: SignalOptions): Future<true> {
    const signal = signalOf("Event.wait()", options);
    if (this._value) return (this._ready ??= resolved(true));
    if (signal?.aborted) return failedWith(signal.reason);
    const w = new Grant<true>(null);
    return this._waiters.wait(w, signal);
  }

  /** A short description such as `Event<set>` or `Event<unset, waiters: 3>`. */
  toString(): string {
    return this._value ? "Event<set>" : `Event<unset, waiters: ${this._waiters.size}>`;
  }
}
