/**
 * `transfer()`: moving buffers to and from workers instead of copying them.
 * @module
 */
import { describeValue } from "../core/index.ts";
import { transferMarks } from "./protocol.ts";

/**
 * Marks `value` (an `ArrayBuffer`, a typed array or `DataView`, or a `MessagePort`) to be
 * moved, not copied, when it is passed as an argument of `pool.run()` (or as an item of
 * `pool.map()`), or returned by a task. Moving is instant whatever the size, but the sender
 * loses the value: its buffer is detached (length 0) afterwards. Only thread pools move
 * buffers; process pools and the inline pool copy them. A MessagePort moves to a thread,
 * and inline (the task gets a port on the same channel; the caller's is closed); it cannot
 * reach a process. Returns `value` itself.
 *
 * @throws {TypeError} when `value` cannot be moved
 * @example
 * ```ts
 * import { transfer, WorkerPool } from "loopwork";
 *
 * const pool = new WorkerPool<typeof import("./tasks.ts")>(new URL("./tasks.ts", import.meta.url));
 * const data = new Float64Array(1_000_000).fill(1);
 * console.log(await pool.run("sum", transfer(data))); // 1000000
 * console.log(data.length); // 0: the buffer went to the worker
 * await pool.close();
 * ```
 */
export function transfer<T extends ArrayBuffer | ArrayBufferView | MessagePortLike>(value: T): T {
  if (
    value === null ||
    typeof value !== "object" ||
    !(value instanceof ArrayBuffer || ArrayBuffer.isView(value) || typeof (value as MessagePortLike).postMessage === "function")
  ) {
    throw new TypeError(
      `transfer() expects an ArrayBuffer, a typed array, a DataView or a MessagePort, got ${describeValue(value)}`,
    );
  }
  transferMarks().add(value);
  return value;
}

/**
 * Something with `postMessage`, such as a `MessagePort`: `transfer()` accepts it.
 *
 * @example
 * ```ts
 * import { type MessagePortLike, transfer } from "loopwork";
 * import { MessageChannel } from "node:worker_threads";
 *
 * const { port1 } = new MessageChannel();
 * const port: MessagePortLike = transfer(port1);
 * ```
 */
export interface MessagePortLike {
  /** Posts a message. */
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
}
