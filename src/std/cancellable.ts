/**
 * `runCancellable`, which runs async work as a task of the running loop, or outside one as
 * a cancellable future whose body starts at once (as @std/async's functions do; a host task,
 * src/core/host-loop.ts, would take its first step a microtask later).
 * @module
 */
import { CancelledError, Future, tryGetRunningLoop, SignalFuture } from "../core/index.ts";

/**
 * @internal Runs `body(signal)` as cancellable work: a task of the running loop (so
 * cancelling it, or the task waiting on it, aborts `signal`), or, with no loop, a future
 * whose cancellation aborts the signal. `outer` aborting aborts the signal too, and the
 * result then rejects with `outer.reason`.
 */
export function runCancellable<T>(
  name: string,
  body: (signal: AbortSignal) => PromiseLike<T>,
  outer: AbortSignal | undefined,
): Future<T> {
  const loop = tryGetRunningLoop();
  if (loop !== undefined) {
    return loop.createTask(
      (signal: AbortSignal) => body(outer === undefined ? signal : AbortSignal.any([signal, outer])),
      { name },
    );
  }
  const ac = new AbortController();
  const f = new SignalFuture<T>();
  f.addDoneCallback(() => {
    if (f.cancelled()) ac.abort(new CancelledError(f._cancelMessageOf()));
  });
  f._watch(outer);
  if (f.done()) return f;
  body(outer === undefined ? ac.signal : AbortSignal.any([ac.signal, outer])).then(
    (v) => {
      if (!f.done()) f.setResult(v);
    },
    (e) => {
      if (!f.done()) f.setException(e);
    },
  );
  return f;
}
