/** CPU-bound tasks for the pool examples: plain exported functions. */

/** The n-th Fibonacci number, the slow way (about 2^n/1.6 calls): pure CPU. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Does nothing: measures a worker round-trip. */
export function noop(): null {
  return null;
}

/** The pid of the process that ran the call. */
export function whereAmI(): number {
  return process.pid;
}

/** Ends the worker it runs on. */
export function crash(): void {
  process.exit(1);
}
