// Runs `npm test` several times in a row with CPU-bound processes beside it, the way a loaded CI
// machine runs it: `node scripts/test-under-load.mjs [runs=3] [burners=2]`. Every run must pass;
// the burners are killed however the runs end. Prints one line per run with its time.
import { spawn, spawnSync } from "node:child_process";

const runs = Number(process.argv[2] ?? 3);
const burnerCount = Number(process.argv[3] ?? 2);
const burners = Array.from({ length: burnerCount }, () =>
  spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
const stop = () => {
  for (const b of burners) b.kill("SIGKILL");
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
  const r = spawnSync("npm", ["test"], { stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`test-under-load: run ${i} of ${runs} with ${burnerCount} burners: ${r.status === 0 ? "passed" : `FAILED (exit ${r.status})`} in ${seconds} s`);
  if (r.status !== 0) failed++;
}
stop();
process.exit(failed === 0 ? 0 : 1);
