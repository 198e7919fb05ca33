/**
 * What denoland/std's async tests import, for their translated copies in this folder:
 * `test` (Deno.test, on test/harness.ts's `it`), the @std/assert functions they use (on
 * node:assert/strict) and a small FakeTime (as @std/testing/time's: it replaces
 * `Date.now`, `setTimeout` and `clearTimeout` until the test ends).
 */
import assertNode from "node:assert/strict";
import { it, runtime, skip } from "../harness.ts";

export { runtime };

interface Step {
  step(name: string, fn: () => void | Promise<void>): Promise<boolean>;
}
type TestFn = (t: Step) => void | Promise<void>;
interface TestDef {
  name: string;
  fn: TestFn;
  ignore?: boolean;
  sanitizeOps?: boolean;
  sanitizeResources?: boolean;
}

const step: Step = {
  async step(_name, fn) {
    await fn();
    return true;
  },
};

/** Deno.test: a case run by vitest under Node and by Deno.test under Deno. */
export function test(def: string | TestDef, fn?: TestFn): void {
  const d: TestDef = typeof def === "string" ? { name: def, fn: fn! } : def;
  if (d.ignore) {
    skip(d.name);
    return;
  }
  it(d.name, async () => {
    try {
      await d.fn(step);
    } finally {
      current?.restore();
    }
  });
}

// ---- @std/assert, on node:assert/strict ----

export function assert(expr: unknown, msg?: string): asserts expr {
  assertNode.ok(expr, msg);
}
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assertNode.deepStrictEqual(actual, expected, msg);
}
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  assertNode.notDeepStrictEqual(actual, expected, msg);
}
export function assertStrictEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  assertNode.equal(actual, expected, msg);
}
export function assertLess<T>(actual: T, expected: T): void {
  assertNode.ok(actual < expected, `expected ${String(actual)} < ${String(expected)}`);
}
export function assertGreater<T>(actual: T, expected: T): void {
  assertNode.ok(actual > expected, `expected ${String(actual)} > ${String(expected)}`);
}
export function assertGreaterOrEqual<T>(actual: T, expected: T): void {
  assertNode.ok(actual >= expected, `expected ${String(actual)} >= ${String(expected)}`);
}
export function assertStringIncludes(actual: string, expected: string): void {
  assertNode.ok(actual.includes(expected), `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`);
}
// deno-lint-ignore no-explicit-any
type Ctor<T> = abstract new (...args: any[]) => T;
export function assertInstanceOf<T>(actual: unknown, type: Ctor<T>, msg?: string): asserts actual is T {
  assertNode.ok(actual instanceof type, msg ?? `expected an instance of ${type.name}, got ${String(actual)}`);
}

function checkError(e: unknown, type?: Ctor<Error> | string, includes?: string): void {
  if (typeof type === "function") {
    assertNode.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
  }
  if (includes !== undefined) {
    assertNode.ok(
      e instanceof Error && e.message.includes(includes),
      `expected the message to include ${JSON.stringify(includes)}, got ${String((e as Error)?.message ?? e)}`,
    );
  }
}

// deno-lint-ignore no-explicit-any
export function assertThrows(fn: () => unknown, type?: Ctor<Error> | string, includes?: string): any {
  try {
    fn();
  } catch (e) {
    checkError(e, type, includes);
    return e;
  }
  throw new assertNode.AssertionError({ message: "Expected function to throw." });
}

export async function assertRejects(
  fn: () => PromiseLike<unknown>,
  type?: Ctor<Error> | string,
  includes?: string,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  let p: PromiseLike<unknown>;
  try {
    p = fn();
  } catch (e) {
    throw new assertNode.AssertionError({ message: `Function throws when expected to reject: ${String(e)}` });
  }
  assertNode.ok(p !== null && typeof p === "object" && typeof p.then === "function", "Function does not return a thenable");
  try {
    await p;
  } catch (e) {
    checkError(e, type, includes);
    return e;
  }
  throw new assertNode.AssertionError({ message: "Expected promise to reject." });
}

// ---- @std/testing/time's FakeTime: the parts the tests use ----

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  cb: (...args: unknown[]) => void;
  args: unknown[];
}

let current: FakeTime | null = null;
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realDateNow = Date.now;

/** Virtual time for one test: `Date.now`, `setTimeout` and `clearTimeout` follow it. */
export class FakeTime {
  #now: number;
  #timers = new Map<number, FakeTimer>();
  #nextId = 1;
  #seq = 0;

  constructor(start?: number | Date) {
    current?.restore();
    this.#now = start === undefined ? realDateNow() : Number(start);
    current = this;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = (cb: (...a: unknown[]) => void, ms = 0, ...args: unknown[]) => {
      const id = this.#nextId++;
      const delay = Math.max(0, Math.trunc(Number(ms)) || 0);
      this.#timers.set(id, { id, at: this.#now + delay, seq: this.#seq++, cb, args });
      return id;
    };
    g.clearTimeout = (id: unknown) => {
      this.#timers.delete(Number(id));
    };
    Date.now = () => this.#now;
  }

  /** The fake clock, ms since the epoch. */
  get now(): number {
    return this.#now;
  }

  #due(limit: number): FakeTimer | undefined {
    let first: FakeTimer | undefined;
    for (const t of this.#timers.values()) {
      if (t.at <= limit && (first === undefined || t.at < first.at || (t.at === first.at && t.seq < first.seq))) {
        first = t;
      }
    }
    return first;
  }

  #fire(t: FakeTimer): void {
    this.#timers.delete(t.id);
    if (t.at > this.#now) this.#now = t.at;
    t.cb(...t.args);
  }

  /** Advances by `ms`, running the timers that fall due. */
  tick(ms = 0): void {
    const end = this.#now + ms;
    for (let t = this.#due(end); t !== undefined; t = this.#due(end)) this.#fire(t);
    this.#now = end;
  }

  /** As `tick`, letting pending microtasks run before each timer. */
  async tickAsync(ms = 0): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await this.runMicrotasks();
      const t = this.#due(end);
      if (t === undefined) break;
      this.#fire(t);
    }
    this.#now = end;
  }

  /** Runs the next timer; false when there is none. */
  next(): boolean {
    const t = this.#due(Infinity);
    if (t === undefined) return false;
    this.#fire(t);
    return true;
  }

  /** As `next`, letting pending microtasks run first. */
  async nextAsync(): Promise<boolean> {
    await this.runMicrotasks();
    return this.next();
  }

  /** Runs every timer, letting microtasks run before each. */
  async runAllAsync(): Promise<void> {
    while (await this.nextAsync());
  }

  /** Lets pending microtasks (and promise chains) run. */
  async runMicrotasks(): Promise<void> {
    await new Promise<void>((resolve) => realSetTimeout(resolve, 0));
  }

  /** Puts the real timers back. */
  restore(): void {
    if (current !== this) return;
    current = null;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = realSetTimeout;
    g.clearTimeout = realClearTimeout;
    Date.now = realDateNow;
  }

  [Symbol.dispose](): void {
    this.restore();
  }
}

// ---- what Node 20 lacks (std's tests call Promise.withResolvers and Array.fromAsync) ----

/** Promise.withResolvers (Node 22+). */
export function withResolvers<T>(): { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void } {
  let resolve!: (v: T | PromiseLike<T>) => void;
  let reject!: (e?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Array.fromAsync (Node 22+), for async iterables. */
export async function fromAsync<T>(source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of source) out.push(x);
  return out;
}
