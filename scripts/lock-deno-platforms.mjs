// The npm registry reachable here serves only the linux-x64 build of the `deno` package's
// platform binaries, so `npm install` leaves the other platforms out of package-lock.json
// and `npm ci` then refuses the lock ("Missing: @deno/darwin-arm64@ from lock file").
// This adds lock entries for the missing platforms, marked optional with their os/cpu, so
// `npm ci` skips them on this platform as it would have anyway. Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const deno = lock.packages["node_modules/deno"];
const platforms = {
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm64-glibc": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  "linux-x64-glibc": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "win32-x64": { os: ["win32"], cpu: ["x64"] },
};
let added = 0;
for (const [name, version] of Object.entries(deno?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const platform = platforms[name.replace("@deno/", "")] ?? {};
  lock.packages[key] = { version, dev: true, license: "MIT", optional: true, ...platform };
  added++;
}
// msgpackr-extract (through bullmq's msgpackr) has the same per-platform optional packages.
const extract = lock.packages["node_modules/msgpackr-extract"];
const extractPlatforms = {
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm": { os: ["linux"], cpu: ["arm"] },
  "linux-arm64": { os: ["linux"], cpu: ["arm64"] },
  "linux-x64": { os: ["linux"], cpu: ["x64"] },
  "win32-x64": { os: ["win32"], cpu: ["x64"] },
};
for (const [name, version] of Object.entries(extract?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const platform = extractPlatforms[name.replace("@msgpackr-extract/msgpackr-extract-", "")] ?? {};
  lock.packages[key] = { version, license: "MIT", optional: true, ...platform };
  added++;
}
writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: added ${added} platform entries (deno, msgpackr-extract)`);
