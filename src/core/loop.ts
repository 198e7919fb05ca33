/**
 * The loop: a ready queue of callbacks and a heap of timers, run in batches on top of the
 * host's event loop. It is asyncio's `BaseEventLoop._run_once`, turned inside out: the host
 * owns the thread, so the loop runs its ready queue from a host microtask, hands control
 * back to the host when the queue is empty (or after a time slice, so host I/O is never
 * starved), and waits for the earliest timer with a single host timer. A virtual clock
 * instead jumps straight to the next timer once nothing is runnable and host microtasks
 * have flushed.
 * @module
 */
import { InvalidStateError } from "./errors.ts";
import { Future, PENDING, REJECTED } from "./future.ts";
import { describeValue, checkOptions, checkMs, MAX_HOST_TIMEOUT } from "./checks.ts";
import { Task, type TaskBody, type TaskOptions } from "./task.ts";
import { createClock, type ClockKind, type RealClock, type VirtualClock } from "./clock.ts";
import { Handle, TimerHandle, makeTimerHeap, type ErrorSink, type Runnable } from "./handles.ts";
import { defaultExceptionReport } from "./report.ts";
import { state } from "./running.ts";
import { Ring } from "./ring.ts";

/**
 * Options of `new Loop()` and of `run()`.
 *
 * @example
 * ```ts
 * import { type LoopOptions, run, sleep } from "loopwork";
 *
 * const options: LoopOptions = { clock: "virtual", debug: { slowStepMs: 50 } };
 * await run(function* () { yield* sleep(1_000); }, options);
 * ```
 */
export interface LoopOptions {
  /** `"real"` (default) keeps host time; `"virtual"` starts at 0 and jumps to the next timer. */
  clock?: ClockKind;
  /**
   * Debug mode: `true`, or `{ slowStepMs }` to report every task step or callback that
   * blocked the loop longer than that (default 100 ms when `true`).
   */
  debug?: boolean | { slowStepMs?: number };
}

/** @internal The keys of `LoopOptions`, for the check of misspelt options. */
export const LOOP_OPTIONS = ["clock", "debug"] as const;

/**
 * What the loop passes to its exception handler.
 *
 * @example
 * ```ts
 * import { type ExceptionContext, Loop } from "loopwork";
 *
 * const loop = new Loop();
 * loop.setExceptionHandler((context: ExceptionContext) => console.log(context.message));
 * ```
 */
export interface ExceptionContext {
  /** What happened, in words. */
  message: string;
  /** The error, when there is one. */
  exception?: unknown;
  /** The task concerned, when there is one. */
  task?: Task<unknown>;
  /** The handle whose callback threw, when that is what happened. */
  handle?: Handle;
  /** The name of the task concerned, when the task itself may be gone. */
  taskName?: string;
}

/**
 * Receives errors that have nowhere else to go (a callback threw, a task failed unobserved).
 *
 * @example
 * ```ts
 * import { type ExceptionHandler, Loop } from "loopwork";
 *
 * const handler: ExceptionHandler = (context) => console.error("loop:", context.message, context.exception);
 * new Loop().setExceptionHandler(handler);
 * ```
 */
export type ExceptionHandler = (context: ExceptionContext, loop: Loop) => void;

/**
 * Something that runs named tasks away from the loop: a worker pool is one. The loop only
 * needs this much of it to offer `runInExecutor` and to close a default executor it owns.
 *
 * @example
 * ```ts
 * import type { Executor } from "loopwork";
 *
 * const inline: Executor = {
 *   run: (name, ...args) => Promise.resolve(`${name}(${args.join(", ")})`),
 *   close: () => Promise.resolve(),
 * };
 * ```
 */
export interface Executor {
  /** Runs the task called `name` with `args`; resolves to its result. */
  run(name: string, ...args: unknown[]): PromiseLike<unknown>;
  /** Finishes queued work and releases the executor's resources. */
  close(): PromiseLike<void>;
}

/** @internal A failed task nobody asked about yet. */
export interface UnretrievedRecord {
  loop: Loop;
  task: WeakRef<Task<unknown>>;
  name: string;
  error: unknown;
}

// Reports a failed task's exception when the task is collected without anyone having
// read it, as asyncio does from Task.__del__; the loop reports the rest when it closes.
const unretrievedRegistry = new FinalizationRegistry<UnretrievedRecord>((rec) => rec.loop._reportRecord(rec));

const MAX_SHUTDOWN_ROUNDS = 100;
const SHUTDOWN_WARN_MS = 2_000;

function unrefTimer(handle: ReturnType<typeof setTimeout>): void {
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (deno?.unrefTimer && typeof handle === "number") deno.unrefTimer(handle);
  else (handle as { unref?(): void }).unref?.();
}

/** Longest time the loop runs its queue before handing the thread back to the host, ms. */
const TIME_SLICE_MS = 8;
/** Most callbacks the loop runs between two readings of the host clock. */
const MAX_CLOCK_STRIDE = 256;

type Immediate = unknown;
const hostSetImmediate: (cb: () => void) => Immediate =
  (globalThis as { setImmediate?: (cb: () => void) => Immediate }).setImmediate ??
  ((cb) => setTimeout(cb, 0));
const hostClearImmediate: (h: Immediate) => void =
  (globalThis as { clearImmediate?: (h: Immediate) => void }).clearImmediate ??
  ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));

/**
 * `cb` bound to `args`. A function of its own: a method that makes a closure allocates the
 * closure's variables on every call, even when it makes none (the common call without args).
 */
function withArgs<A extends unknown[]>(cb: (...args: A) => void, args: A): () => void {
  return () => cb(...args);
}

function checkCallback(what: string, cb: unknown): void {
  if (typeof cb !== "function") {
    throw new TypeError(`${what}: callback must be a function, got ${describeValue(cb)}`);
  }
}

let loopIds = 0;

/**
 * An event loop in the manner of asyncio: it runs tasks and callbacks, keeps timers, and
 * owns the clock they read. Most code never touches it directly: `run()` makes one, runs
 * the main task and closes it.
 *
 * @example
 * ```ts
 * import { Loop, sleep } from "loopwork";
 *
 * const loop = new Loop({ clock: "virtual" });
 * const value = await loop.runUntilComplete(function* () {
 *   yield* sleep(60_000); // takes no wall time on the virtual clock
 *   return loop.time();
 * });
 * console.log(value); // 60000
 * loop.close();
 * ```
 */
export class Loop implements ErrorSink {
  // The ready queue: a ring buffer (power-of-two capacity), so a batch never reallocates
  // or truncates an array; that matters when every switch between tasks is one batch.
  private readonly _ready = Ring.reusing<Runnable>(64);
  private readonly _timers = makeTimerHeap();
  private _timerSeq = 0;
  private readonly _clock: RealClock | VirtualClock;
  private readonly _virtual: boolean;
  private _running = false;
  private _closed = false;
  private _stopping = false;
  private _inDrain = false;
  private _drainScheduled = false;
  /**
   * @internal Set when host code (an async function, a promise callback) is active: it
   * scheduled loop work from outside the loop, or a done future settled a host promise.
   */
  _hostWoken = false;
  private _hostTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _hostTimerAt = Infinity;
  private _immediate: Immediate | undefined = undefined;
  private _onStopped: (() => void) | null = null;
  private _exceptionHandler: ExceptionHandler | null = null;
  private _defaultExecutor: Executor | null = null;
  /** @internal head of the intrusive list of tasks not yet done (cheaper than a Set) */
  private _liveHead: Task<unknown> | null = null;
  /** @internal failed tasks whose exception nobody read yet (records, not the tasks) */
  readonly _unretrieved: Set<UnretrievedRecord> = new Set();
  /**
   * @internal Whether this loop keeps its unread failures until it closes. A loop that never
   * runs nor closes (the pool's host loop) keeps none: each is reported when its task is
   * collected unread, and only then.
   */
  protected _holdsUnretrieved = true;
  /** @internal 0 when off */ readonly _slowStepMs: number;
  /** @internal */ readonly _id: number = ++loopIds;
  /** @internal batches run so far: how run()'s stuck watch (task-tree.ts) sees progress */ _batches = 0;
  private _taskIds = 0;

  /** Creates a loop; it does nothing until run with `runUntilComplete` or `runForever`. */
  constructor(options: LoopOptions = {}) {
    checkOptions("Loop", options, LOOP_OPTIONS);
    this._clock = createClock(options.clock);
    this._virtual = this._clock.kind === "virtual";
    this._slowStepMs = slowStepFrom(options.debug);
  }

  /** The loop's clock, in milliseconds: monotonic host time, or virtual time from 0. */
  time(): number {
    return this._clock.now();
  }

  /** Whether this loop keeps virtual time. */
  isVirtual(): boolean {
    return this._virtual;
  }

  /** Whether the loop is running now. */
  isRunning(): boolean {
    return this._running;
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this._closed;
  }

  /** Whether debug mode is on. */
  getDebug(): boolean {
    return this._slowStepMs > 0;
  }

  /** Schedules `cb(...args)` to run on the next turn of the loop, after what is queued. */
  callSoon<A extends unknown[]>(cb: (...args: A) => void, ...args: A): Handle {
    checkCallback("callSoon()", cb);
    this._checkOpen("callSoon()");
    const h = new Handle(args.length === 0 ? (cb as () => void) : withArgs(cb, args), undefined, this);
    this._pushReady(h);
    return h;
  }

  /** Schedules `cb(...args)` to run once `ms` milliseconds have passed on the loop's clock. */
  callLater<A extends unknown[]>(ms: number, cb: (...args: A) => void, ...args: A): TimerHandle {
    checkMs("callLater()", "delay", ms);
    return this.callAt(this._clock.now() + ms, cb, ...args);
  }

  /** Schedules `cb(...args)` to run at loop time `when` (at once if that is in the past). */
  callAt<A extends unknown[]>(when: number, cb: (...args: A) => void, ...args: A): TimerHandle {
    if (typeof when !== "number" || !Number.isFinite(when)) {
      throw new RangeError(`callAt(): time must be a finite number, got ${describeValue(when)}`);
    }
    checkCallback("callAt()", cb);
    return this._callAt1(when, args.length === 0 ? (cb as () => void) : withArgs(cb, args), undefined);
  }

  /** Creates a future bound to this loop. */
  createFuture<T = unknown>(): Future<T> {
    return new Future<T>(this);
  }

  /**
   * Wraps a coroutine (or a generator function, or an async function taking an
   * `AbortSignal`) in a task scheduled on this loop.
   */
  createTask<T>(body: TaskBody<T>, options?: TaskOptions): Task<T> {
    this._checkOpen("createTask()");
    return new Task(body, this, options);
  }

  /**
   * Runs the loop until `body` (a future, task or anything `createTask` takes) is done, and
   * resolves to its result (or rejects with its exception). The host's event loop keeps
   * turning underneath: this returns a promise.
   */
  runUntilComplete<T>(body: Future<T> | TaskBody<T>): Promise<T> {
    this._checkCanRun("runUntilComplete()");
    if (body instanceof Future && body._loop !== null && body._loop !== this) {
      throw new InvalidStateError("runUntilComplete(): the future belongs to another loop");
    }
    const fut = body instanceof Future ? body : this.createTask(body);
    const stopper = () => this.stop();
    fut.addDoneCallback(stopper);
    return this.runForever().then(() => {
      if (!fut.done()) {
        fut.removeDoneCallback(stopper);
        throw new InvalidStateError("The loop stopped before the future completed.");
      }
      return fut.result();
    });
  }

  /** Runs the loop until `stop()` is called; resolves then. */
  runForever(): Promise<void> {
    this._checkCanRun("runForever()");
    this._running = true;
    state.loop = this;
    return new Promise<void>((resolve) => {
      this._onStopped = resolve;
      this._scheduleDrain();
    });
  }

  /**
   * Stops the loop after the batch of callbacks now running (callbacks they schedule wait
   * for the next run). Called while the loop is not running, it makes the next run do one
   * turn and stop.
   */
  stop(): void {
    this._stopping = true;
    if (this._running && !this._inDrain) this._scheduleDrain();
  }

  /**
   * Closes the loop: drops pending callbacks and timers and releases host timers. Closing a
   * running loop throws; closing twice does nothing. Use `run()` to get the orderly version
   * (cancel tasks, close executors, then close).
   */
  close(): void {
    if (this._running) throw new InvalidStateError("Cannot close a running loop: stop it first.");
    if (this._closed) return;
    this._closed = true;
    this._reportUnretrieved();
    this._ready.release();
    this._timers.clear();
    this._clearHostWakeups();
  }

  /**
   * Runs `taskName(...args)` on `executor`, or on the default executor when it is `null`,
   * as a task of this loop.
   */
  runInExecutor(executor: Executor | null, taskName: string, ...args: unknown[]): Task<unknown> {
    const ex = executor ?? this._defaultExecutor;
    if (ex === null) {
      throw new InvalidStateError(
        "runInExecutor(null, …): this loop has no default executor; call setDefaultExecutor() first",
      );
    }
    // The executor's call, when it is a Future (a WorkerPool's is), is waited on by the task,
    // so cancelling the task cancels the call (and stops its worker).
    return this.createTask(() => ex.run(taskName, ...args), { name: `executor:${taskName}` });
  }

  /** Sets the executor `runInExecutor(null, …)` uses; the loop closes it when `run()` ends. */
  setDefaultExecutor(executor: Executor): void {
    if (executor === null || typeof executor !== "object" || typeof executor.run !== "function") {
      throw new TypeError(`setDefaultExecutor() expects an executor, got ${describeValue(executor)}`);
    }
    this._defaultExecutor = executor;
  }

  /** The default executor, if one was set. */
  getDefaultExecutor(): Executor | undefined {
    return this._defaultExecutor ?? undefined;
  }

  /** Sets the handler for errors with nowhere else to go; `null` restores the default. */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(`setExceptionHandler() expects a function or null, got ${describeValue(handler)}`);
    }
    this._exceptionHandler = handler;
  }

  /** Passes `context` to the exception handler (by default it is logged with `console.error`). */
  callExceptionHandler(context: ExceptionContext): void {
    const handler = this._exceptionHandler;
    if (handler !== null) {
      try {
        handler(context, this);
        return;
      } catch (e) {
        console.error("loopwork: the exception handler threw:", e);
      }
    }
    defaultExceptionReport(context);
  }

  // ---- internals --------------------------------------------------------------------

  /** @internal Adds a new task to the list of live tasks. */
  _linkTask(t: Task<unknown>): void {
    const head = this._liveHead;
    t._nextLive = head;
    if (head !== null) head._prevLive = t;
    this._liveHead = t;
  }

  /** @internal Removes a finished task from the list of live tasks. */
  _unlinkTask(t: Task<unknown>): void {
    const prev = t._prevLive;
    const next = t._nextLive;
    if (prev !== null) prev._nextLive = next;
    else if (this._liveHead === t) this._liveHead = next;
    if (next !== null) next._prevLive = prev;
    t._prevLive = t._nextLive = null;
  }

  /** @internal The tasks not yet done, oldest first. */
  _liveTasks(): Task<unknown>[] {
    const out: Task<unknown>[] = [];
    for (let t = this._liveHead; t !== null; t = t._nextLive) out.push(t);
    return out.reverse();
  }

  /** @internal The number of the next automatic `Task-N` name. */
  _nextTaskId(): number {
    return ++this._taskIds;
  }

  /** @internal callSoon without the checks and the rest-args, for the core. */
  _callSoon1(cb: (arg: unknown) => void, arg: unknown): Handle {
    const h = new Handle(cb, arg, this);
    this._pushReady(h);
    return h;
  }

  /** @internal callAt without the checks, for the core. */
  _callAt1(when: number, cb: (arg: unknown) => void, arg: unknown): TimerHandle {
    this._checkOpen("callAt()");
    const t = new TimerHandle(when, ++this._timerSeq, cb, arg, this);
    this._timers.push(t);
    if (this._running && !this._inDrain && this._timers.peek() === t) this._scheduleDrain();
    return t;
  }

  /** @internal */
  _pushReady(r: Runnable): void {
    this._ready.push(r);
    if (!this._inDrain && !this._drainScheduled && this._running) this._scheduleDrain();
  }

  /**
   * @internal If `r` is the last thing queued to run, `next` takes its place (and `r` will
   * not run); says whether it did.
   */
  _replaceLastReady(r: Runnable, next: Runnable): boolean {
    return this._ready.replaceLast(r, next);
  }

  /** @internal How many callbacks are ready to run. */
  _readyCount(): number {
    return this._ready.length;
  }

  /** @internal */
  _timerCancelled(t: TimerHandle): void {
    this._timers.remove(t);
  }

  /** @internal */
  _reportCallbackError(error: unknown, handle: Handle): void {
    this.callExceptionHandler({ message: "Exception in callback", exception: error, handle });
  }

  /** @internal Reports a step that held the loop for `ms` in debug mode. */
  _reportSlowStep(what: string, ms: number): void {
    console.warn(
      `loopwork: ${what} blocked the loop for ${ms.toFixed(1)} ms (slowStepMs ${this._slowStepMs}). ` +
        "Move CPU-bound work to a worker pool (WorkerPool, toThread) or yield to the loop in long loops.",
    );
  }

  private _checkCanRun(what: string): void {
    this._checkOpen(what);
    if (this._running) throw new InvalidStateError(`${what}: this loop is already running`);
    if (state.loop !== null) {
      throw new InvalidStateError(
        `${what}: cannot run a loop while another loop is running: one loop runs at a time`,
      );
    }
  }

  /** @internal */
  _checkOpen(what: string): void {
    if (this._closed) throw new InvalidStateError(`${what}: the loop is closed`);
  }

  private _scheduleDrain(): void {
    // Called from outside the loop's own batches: host code is at work.
    this._hostWoken = true;
    if (this._drainScheduled) return;
    this._drainScheduled = true;
    queueMicrotask(this._drain);
  }

  /** Runs batches of ready callbacks until the queue is empty, the slice ends or a stop. */
  private readonly _drain = (): void => {
    this._drainScheduled = false;
    if (!this._running || this._inDrain) return;
    this._inDrain = true;
    const slow = this._slowStepMs > 0;
    const sliceStart = performance.now();
    let lastCheck = sliceStart;
    // Reading the clock costs ~50 ns on Node and 200-500 ns on Deno, a switch between tasks
    // 20-50 ns: check it once `stride` callbacks have run, every batch while they are slow,
    // up to every 256th callback while they take under 0.25 ms all told (so a run of quick
    // steps that turn slow overshoots the slice by at most 256 of them).
    let stride = 1;
    let sinceCheck = 0;
    try {
      for (;;) {
        if (this._timers.size > 0) this._collectDueTimers();
        if (this._ready.length === 0) break;
        sinceCheck += this._runBatch(slow);
        if (this._stopping) break;
        if (this._hostWoken) {
          this._hostWoken = false;
          if (this._ready.length > 0) {
            // Async functions are at work, and their steps are host microtasks: let every
            // pending one run before the next batch (one batch per host turn), so an async
            // task steps as often as a generator task does instead of once per time slice.
            this._scheduleImmediate();
            return;
          }
        }
        if (sinceCheck >= stride) {
          sinceCheck = 0;
          const now = performance.now();
          if (now - sliceStart > TIME_SLICE_MS) {
            // Hand the thread back to the host so its I/O and timers get their turn.
            this._scheduleImmediate();
            return;
          }
          const took = now - lastCheck;
          stride = took > 1 ? 1 : took < 0.25 ? Math.min(stride * 2, MAX_CLOCK_STRIDE) : stride;
          lastCheck = now;
        }
      }
      if (this._stopping) {
        this._finishStop();
        return;
      }
      this._waitForWork();
    } finally {
      this._inDrain = false;
    }
  };

  /** Runs the callbacks that are ready now (those they schedule wait for the next batch); returns how many. */
  private _runBatch(slow: boolean): number {
    const n = this._ready.length;
    this._batches++;
    for (let i = 0; i < n; i++) {
      // Read the ring afresh: a callback may have grown it.
      const r = this._ready.shift()!;
      try {
        if (slow) this._runTimed(r);
        else r._run();
      } catch (e) {
        // Handles and tasks catch their own errors; this is the loop's last line of defence.
        this.callExceptionHandler({ message: "Exception escaped a loop step", exception: e });
      }
    }
    return n;
  }

  private _runTimed(r: Runnable): void {
    const task = r instanceof Task ? r : null;
    const t0 = performance.now();
    r._run();
    const dt = performance.now() - t0;
    if (dt > this._slowStepMs) {
      this._reportSlowStep(task !== null ? `a step of task ${task.name}` : "a callback", dt);
    }
  }

  /** Moves every timer that is due into the ready queue, in deadline order. */
  private _collectDueTimers(): void {
    const now = this._clock.now();
    const timers = this._timers;
    let t = timers.peek();
    while (t !== undefined && t._when <= now) {
      timers.pop();
      this._ready.push(t);
      t = timers.peek();
    }
  }

  /** Nothing is runnable: wait for the next timer (or for outside events). */
  private _waitForWork(): void {
    const next = this._timers.peek();
    if (next === undefined) {
      this._clearHostWakeups();
      return;
    }
    if (this._virtual) {
      this._scheduleImmediate();
      return;
    }
    const when = next._when;
    if (this._hostTimer !== undefined) {
      if (this._hostTimerAt <= when) return;
      clearTimeout(this._hostTimer);
    }
    // A host fires a timer longer than 2^31 - 1 ms after 1 ms (Node warns each time): wait
    // at most that long; the loop then finds nothing due and waits again for the rest.
    const delay = Math.min(MAX_HOST_TIMEOUT, Math.max(0, Math.ceil(when - this._clock.now())));
    this._hostTimerAt = when;
    this._hostTimer = setTimeout(this._onHostTimer, delay);
  }

  private readonly _onHostTimer = (): void => {
    this._hostTimer = undefined;
    this._hostTimerAt = Infinity;
    this._drain();
  };

  /** A host macrotask: lets host microtasks and I/O run first, then continues. */
  private _scheduleImmediate(): void {
    if (this._immediate !== undefined) return;
    this._immediate = hostSetImmediate(this._onImmediate);
  }

  private readonly _onImmediate = (): void => {
    this._immediate = undefined;
    if (!this._running) return;
    if (this._virtual && this._ready.length === 0 && !this._stopping) {
      // Nothing became runnable while host microtasks flushed: time jumps to the next timer.
      const next = this._timers.peek();
      if (next !== undefined) (this._clock as VirtualClock).advanceTo(next._when);
    }
    this._drain();
  };

  private _clearHostWakeups(): void {
    if (this._hostTimer !== undefined) {
      clearTimeout(this._hostTimer);
      this._hostTimer = undefined;
      this._hostTimerAt = Infinity;
    }
    if (this._immediate !== undefined) {
      hostClearImmediate(this._immediate);
      this._immediate = undefined;
    }
  }

  private _finishStop(): void {
    this._stopping = false;
    this._running = false;
    if (state.loop === this) state.loop = null;
    this._clearHostWakeups();
    const resolve = this._onStopped;
    this._onStopped = null;
    resolve?.();
  }

  /**
   * @internal Cancels every live task and waits for them, from inside the loop (abort
   * listeners may use the loop); repeats while tasks spawned during shutdown appear.
   */
  async _cancelAllTasks(): Promise<void> {
    for (let round = 0; round < MAX_SHUTDOWN_ROUNDS; round++) {
      const tasks = this._liveTasks();
      if (tasks.length === 0) return;
      const all = this.createFuture<void>();
      let left = tasks.length;
      const onDone = () => {
        if (--left === 0) all.setResult();
      };
      this.callSoon(() => {
        for (const t of tasks) t.addDoneCallback(onDone);
        cancelRound(tasks);
      });
      const stubborn = setTimeout(() => {
        const alive = tasks.filter((t) => !t.done());
        // A generator task runs its coroutine (`_body`); an async one follows its promise.
        const gens: string[] = [];
        const fns: string[] = [];
        for (const t of alive) (t._body !== null && typeof t._body === "object" ? gens : fns).push(t.name);
        console.warn(
          `loopwork: run() is waiting for ${alive.length} cancelled task(s) that have not ended after ` +
            `${SHUTDOWN_WARN_MS / 1000} s: ${someNames(alive.map((t) => t.name))}.` +
            (fns.length > 0
              ? ` An async task ends only when its function settles: pass its AbortSignal to what it awaits (${someNames(fns)}).`
              : "") +
            (gens.length > 0
              ? ` A generator task that catches CancelledError must end (or rethrow it) once it has cleaned up (${someNames(gens)}).`
              : ""),
        );
      }, SHUTDOWN_WARN_MS);
      unrefTimer(stubborn);
      try {
        await this.runUntilComplete(all);
      } finally {
        clearTimeout(stubborn);
      }
      for (const t of tasks) {
        if (t._state === REJECTED) {
          this.callExceptionHandler({
            message: "unhandled exception during run() shutdown",
            exception: t.exception(),
            task: t,
          });
        }
      }
    }
    const left = this._liveTasks();
    if (left.length > 0) {
      this.callExceptionHandler({
        message: `tasks kept being spawned during shutdown; ${left.length} left pending: ` +
          someNames(left.map((t) => t.name)),
      });
    }
  }

  /** @internal Starts tracking a failed task until its exception is read. */
  _trackUnretrieved(task: Task<unknown>): UnretrievedRecord {
    const rec: UnretrievedRecord = { loop: this, task: new WeakRef(task), name: task.name, error: task._value };
    if (this._holdsUnretrieved) this._unretrieved.add(rec);
    unretrievedRegistry.register(task, rec, rec);
    return rec;
  }

  /** @internal The task's exception was read: forget it. */
  _untrackUnretrieved(rec: UnretrievedRecord): void {
    this._unretrieved.delete(rec);
    unretrievedRegistry.unregister(rec);
  }

  /** @internal Reports failed tasks whose exception nobody read. */
  _reportUnretrieved(): void {
    for (const rec of this._unretrieved) this._reportRecord(rec);
  }

  /** @internal Reports one unread failure, once: from close(), or when its task is collected. */
  _reportRecord(rec: UnretrievedRecord): void {
    if (!this._unretrieved.delete(rec) && this._holdsUnretrieved) return;
    unretrievedRegistry.unregister(rec);
    this.callExceptionHandler({
      message: "Task exception was never retrieved",
      exception: rec.error,
      task: rec.task.deref(),
      taskName: rec.name,
    });
  }

  /** @internal Closes the default executor, if any; for `run()`. */
  async _closeDefaultExecutor(): Promise<void> {
    const ex = this._defaultExecutor;
    this._defaultExecutor = null;
    if (ex !== null) await ex.close();
  }
}

/**
 * Cancels every task of a shutdown round in linear time. A task that waits on a task is
 * cancelled after it (`waitedOnFirst`); if that task holds a request of this round, the
 * request stands behind it (`_cancelBehind`), as a passed one would, instead of walking
 * down the chain again (which made a chain of n waiting tasks cost n²/2 `cancel()` calls).
 * A task that received a request of this round already (passed on to it through a future
 * that cancels its tasks, such as gather's) gets no second one. The rest get `cancel()`.
 */
function cancelRound(tasks: readonly Task<unknown>[]): void {
  const order = waitedOnFirst(tasks);
  const before = new Map<Task<unknown>, number>();
  for (const t of order) before.set(t, t.cancelling());
  for (const t of order) {
    if (t.cancelling() > before.get(t)!) continue;
    const w = t._futWaiter;
    const held = w instanceof Task && w._state === PENDING && before.has(w) && w.cancelling() > before.get(w)!;
    if (held) t._cancelBehind();
    else t.cancel();
  }
}

/**
 * `tasks` reordered so that a task comes after the task it waits on (`_futWaiter`), when
 * that one is among them; the tasks of a cycle come in cycle order from where it was entered.
 */
function waitedOnFirst(tasks: readonly Task<unknown>[]): Task<unknown>[] {
  const among = new Set(tasks);
  const seen = new Set<Task<unknown>>();
  const out: Task<unknown>[] = [];
  const path: Task<unknown>[] = [];
  for (const start of tasks) {
    for (let t: Task<unknown> | null = start; t !== null && !seen.has(t); ) {
      seen.add(t);
      path.push(t);
      const w: Future<unknown> | null = t._futWaiter;
      t = w instanceof Task && among.has(w) ? w : null;
    }
    while (path.length > 0) out.push(path.pop()!);
  }
  return out;
}

/** The first few names of a list for a message, with how many more there are: a warning stays one readable line. */
function someNames(names: readonly string[]): string {
  const shown = 10;
  return names.length <= shown ? names.join(", ") : `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`;
}

function slowStepFrom(debug: LoopOptions["debug"]): number {
  if (debug === undefined || debug === false) return 0;
  if (debug === true) return 100;
  if (typeof debug === "object" && debug !== null) {
    checkOptions("Loop", debug, ["slowStepMs"], "debug.");
    return checkMs("Loop", "debug.slowStepMs", debug.slowStepMs ?? 100, { zero: false });
  }
  throw new TypeError(`debug must be a boolean or { slowStepMs }, got ${describeValue(debug)}`);
}

