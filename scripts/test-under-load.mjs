// Runs `npm test` several times in a row with CPU-bound processes beside it, the way a loaded CI
// machine runs it: `node scripts/test-under-load.mjs [runs=3] [burners=2]`. Every run must pass;
// the burners (and a run in progress) are stopped however this ends. One line per run with its time.
import { spawn } from "node:child_process";

const runs = Number(process.argv[2] ?? 3);
const burnerCount = Number(process.argv[3] ?? 2);
const burners = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
let current = null;
const stop = () => {
  for (const b of burners) b.kill("SIGKILL");
  // The run is its own process group (detached): stop all of it, tests and servers included.
  if (current !== null && current.exitCode === null) {
    try {
      process.kill(-current.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
};
process.on("exit", stop);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stop();
    process.exit(130);
  });
}

let failed = 0;
for (let i = 1; i <= runs; i++) {
  const started = Date.now();
  current = spawn("npm", ["test"], { stdio: "inherit", detached: true });
  const code = await new Promise((resolve) => current.on("exit", (c, s) => resolve(c ?? s)));
  current = null;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`test-under-load: run ${i} of ${runs} with ${burnerCount} burners: ${code === 0 ? "passed" : `FAILED (${code})`} in ${seconds} s`);
  if (code !== 0) failed++;
}
stop();
process.exit(failed === 0 ? 0 : 1);
