/**
 * The core's one entry: what the other layers (structured, sync, std, inspect, pool, cluster,
 * tools) may use of the loop, futures, tasks and their machinery. A file outside src/core
 * imports the core only from here (test/layout.test.ts checks it); what is not listed here
 * is private to the core.
 * @module
 */
export { type Awaitable, type AwaitedOf, checkNotAwaitable, notABody, oneFuture, toFutures } from "./awaitable.ts";
export { linkSignal, startBody } from "./body.ts";
export { checkMs, formatMs, MAX_HOST_TIMEOUT, checkOptions, checkSignal, checkTimeout, describeValue, isAbortSignal, isGenerator, isThenable } from "./checks.ts";
export { CancelledError, InvalidStateError, TimeoutError } from "./errors.ts";
export { isCancelledError } from "./errors.ts";
export { blocking, CANCELLED, type Coroutine, type DoneCallback, FULFILLED, Future, isFuture, PENDING, REJECTED, type Waiter } from "./future.ts";
export { failedWith, Grant, type GrantOwner, resolved, signalOf, type SignalOptions, WaiterList } from "./grant.ts";
export { type Handle, type TimerHandle } from "./handles.ts";
export { Heap } from "./heap.ts";
export { keepAlive, onIdleLoop } from "./keepalive.ts";
export { startTask } from "./host-loop.ts";
export { Loop } from "./loop.ts";
export { reportException } from "./report.ts";
export { Ring } from "./ring.ts";
export { run, runWatch } from "./run.ts";
export { currentTask, getRunningLoop, state, tryGetRunningLoop } from "./running.ts";
export { SignalFuture } from "./signal-future.ts";
export { spawn } from "./spawn.ts";
export { Task, type TaskBody, type TaskOptions } from "./task.ts";
export { until } from "./until.ts";
