/**
 * Semaphore and BoundedSemaphore: asyncio's. A counter of permits; `acquire()` takes one
 * (waiting in FIFO order while none is free), `release()` gives one back, handing it
 * straight to the first waiter. A waiter woken then cancelled before it runs hands its
 * permit on, so permits never leak.
 * @module
 */
import { InvalidStateError, type Future, describeValue, failedWith, Grant, type GrantOwner, signalOf, resolved, type SignalOptions, WaiterList } from "../core/index.ts";
import { checkBody, type Held, HeldOnce, Scoped, type ScopedBody } from "./scope.ts";

function checkValue(what: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what}: value must be a number of permits, got ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${what}: value must be an integer >= 0, got ${value}`);
  }
  return value;
}

/**
 * A semaphore for tasks (asyncio.Semaphore): at most `value` holders at once, the rest
 * waiting in FIFO order. `withPermit(body)` holds a permit for the body and releases it on
 * every exit path.
 *
 * @example
 * ```ts
 * import { run, Semaphore, sleep, spawn } from "loopwork";
 *
 * const sem = new Semaphore(2);
 * let running = 0, peak = 0;
 * await run(function* () {
 *   const job = function* () {
 *     yield* sem.withPermit(function* () {
 *       peak = Math.max(peak, ++running);
 *       yield* sleep(100);
 *       running--;
 *     });
 *   };
 *   const tasks = [1, 2, 3, 4, 5].map(() => spawn(job));
 *   for (const t of tasks) yield* t;
 * });
 * console.log(peak); // 2
 * ```
 */
export class Semaphore implements GrantOwner {
  /** @internal permits free and not granted */ _value: number;
  /** @internal */ readonly _waiters: WaiterList<Grant<Held>> = new WaiterList(this, "acquire");
  /** @internal gives back one acquisition: what each acquisition's handle calls */ readonly _giveBack: () => void;

  /**
   * Creates a semaphore with `value` permits (default 1).
   * @throws {RangeError} when `value` is not an integer >= 0
   */
  constructor(value: number = 1) {
    this._value = checkValue(`new ${new.target.name}()`, value);
    this._giveBack = (): void => this.release();
  }

  /** Permits free right now. */
  get value(): number {
    return this._value;
  }

  /** Whether an `acquire()` would have to wait: no permit free, or others already waiting. */
  locked(): boolean {
    return this._value === 0 || this._waiters.size > 0;
  }

  /**
   * Takes a permit: the future resolves (to a `Held` handle) once this caller has one, at
   * once when one is free and nobody waits. Cancelling the future (or its task) or aborting
   * `options.signal` withdraws from the queue.
   */
  acquire(options?: SignalOptions): Future<Held> {
    const signal = signalOf("Semaphore.acquire()", options);
    if (this._value > 0 && this._waiters.size === 0) {
      if (signal?.aborted) return failedWith(signal.reason);
      this._value--;
      return resolved<Held>(this._newHeld());
    }
    return this._waiters.wait(new Grant<Held>(this), signal);
  }

  /**
   * Takes a permit if one is free and nobody waits for one (Trio's and AnyIO's
   * `acquire_nowait`, as a boolean): `true` if taken (give it back with `release()`),
   * `false` otherwise. Never waits and never overtakes a waiting task.
   *
   * @example
   * ```ts
   * import { Semaphore } from "loopwork";
   *
   * const sem = new Semaphore(1);
   * console.log(sem.tryAcquire(), sem.tryAcquire()); // true false
   * sem.release();
   * ```
   */
  tryAcquire(): boolean {
    if (this._value === 0 || this._waiters.size > 0) return false;
    this._value--;
    return true;
  }

  /** Gives a permit back, handing it to the first waiter if there is one. */
  release(): void {
    const next = this._waiters.shift();
    if (next === undefined) {
      this._value++;
      return;
    }
    next.setResult(this._newHeld());
  }

  /**
   * Runs `body` holding a permit and releases it on every exit path. `yield*` the result
   * in a generator task (a generator body then runs inline, in that task) or `await` it;
   * the permit is taken only then.
   */
  withPermit<R>(body: ScopedBody<R>, options?: SignalOptions): Scoped<R> {
    checkBody(`${this.constructor.name}.withPermit()`, body);
    signalOf(`${this.constructor.name}.withPermit()`, options);
    return new Scoped(this, options, body);
  }

  /** @internal A waiter given a permit was cancelled before it ran: hand the permit on. */
  _abandonGrant(): void {
    this.release();
  }

  /** @internal */
  _claimGrant(): void {}

  /** @internal The handle of one acquisition (it releases once). */
  _newHeld(): Held {
    return new HeldOnce(this._giveBack, `${this.constructor.name}.release()`);
  }

  /** A short description such as `Semaphore<value: 0, waiters: 2>`. */
  toString(): string {
    return `${this.constructor.name}<value: ${this._value}, waiters: ${this._waiters.size}>`;
  }
}

/**
 * A semaphore that refuses to be released more times than it was acquired
 * (asyncio.BoundedSemaphore): a release beyond the initial value throws.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from "loopwork";
 *
 * const sem = new BoundedSemaphore(1);
 * try {
 *   sem.release(); // nothing was acquired
 * } catch (e) {
 *   console.log((e as Error).name); // "InvalidStateError"
 * }
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** The initial number of permits, which `value` never exceeds. */
  readonly bound: number;

  /**
   * Creates a bounded semaphore with `value` permits (default 1).
   * @throws {RangeError} when `value` is not an integer >= 0
   */
  constructor(value: number = 1) {
    super(value);
    this.bound = value;
  }

  /**
   * Gives a permit back.
   * @throws {InvalidStateError} when that would raise the permits above the initial value
   */
  override release(): void {
    if (this._value >= this.bound) {
      throw new InvalidStateError(
        `BoundedSemaphore.release(): released too many times (value ${this._value} is already the bound ${this.bound})`,
      );
    }
    super.release();
  }
}
