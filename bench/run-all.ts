/** Runs every bench/*-bench.ts in turn (the `npm run bench` script), each in its own process, and fails if one fails. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('-bench.ts'))
  .sort();
let failed = 0;
for (const script of scripts) {
  console.log(`\n=== ${script} ===`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(dir, script)], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    console.error(`${script} exited with ${res.status ?? res.signal}`);
  }
}
if (failed) process.exitCode = 1;
