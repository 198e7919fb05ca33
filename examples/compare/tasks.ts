/**
 * A task module to try `loopwork compare` on your own code:
 *
 *   loopwork compare --module examples/compare/tasks.ts --task checksum --args '[20]'
 *   loopwork compare --module examples/compare/tasks.ts --task lookup --args '[40]'
 *   loopwork compare --module examples/compare/tasks.ts --task report --args '[40, 20]' \
 *     --hybrid fetchRows,summarize
 *
 * `checksum` computes, `lookup` waits (as a remote call would), `report` does both; its two
 * halves `fetchRows` and `summarize` let the loop wait and a thread pool compute.
 */

/** Pure computation: `millions` million steps of a xorshift generator. */
export function checksum(millions: number): number {
  let x = 0x2545f491;
  let acc = 0;
  for (let i = 0; i < millions * 1_000_000; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    acc = (acc + (x & 0xff)) | 0;
  }
  return acc >>> 0;
}

/** Pure waiting: answers after `ms`, as a database or a remote service would. */
export async function lookup(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `row after ${ms} ms`;
}

/** What `fetchRows` hands to `summarize`. */
export interface Rows {
  rows: string;
  millions: number;
}

/** The waiting half of `report`. */
export async function fetchRows(ms: number, millions: number): Promise<Rows> {
  return { rows: await lookup(ms), millions };
}

/** The computing half of `report`. */
export function summarize(fetched: Rows): number {
  return fetched.rows.length + checksum(fetched.millions);
}

/** Waits, then computes: `summarize(await fetchRows(ms, millions))`. */
export async function report(ms: number, millions: number): Promise<number> {
  return summarize(await fetchRows(ms, millions));
}
