import assert from "node:assert/strict";
import { monitorLag } from "../mod.ts";
import { describe, it } from "./harness.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("monitorLag", () => {
  it("a busy thread shows up as lag at least as long as the blocking, minus one interval", async () => {
    const lag = monitorLag({ intervalMs: 5 });
    await pause(20);
    const until = performance.now() + 80;
    while (performance.now() < until) { /* 80 ms of CPU on this thread */ }
    await pause(20);
    const r = lag.stop();
    assert.ok(r.samples >= 2, `ticked (${r.samples} samples)`);
    assert.ok(r.maxMs >= 80 - 5, `worst lag ${r.maxMs.toFixed(1)} ms covers the 80 ms block`);
    assert.ok(r.p50Ms <= r.p99Ms && r.p99Ms <= r.maxMs);
  });

  it("stop() ends the ticking: no sample is taken afterwards", async () => {
    const lag = monitorLag({ intervalMs: 2 });
    await pause(10);
    const r = lag.stop();
    await pause(10);
    assert.equal(lag.report().samples, r.samples);
  });

  it("a bad interval is refused", () => {
    assert.throws(() => monitorLag({ intervalMs: 0 }), /monitorLag\(\): intervalMs must be a finite number of milliseconds > 0, got number 0/);
    assert.throws(() => monitorLag({ intervalMs: NaN }), RangeError);
  });
});

describe("monitorLag: a thread blocked until stop()", () => {
  it("an overdue tick that could not fire before stop() still counts", () => {
    const lag = monitorLag({ intervalMs: 5 });
    const until = performance.now() + 60;
    while (performance.now() < until) { /* blocked for the whole measurement */ }
    const r = lag.stop();
    assert.equal(r.samples, 1);
    assert.ok(r.maxMs >= 50, `worst lag ${r.maxMs.toFixed(1)} ms`);
  });
});
