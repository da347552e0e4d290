/** Runs every bench/*-bench.ts in turn (the `npm run bench` script), each in its own process, and fails if one fails. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
// Benchmarks whose defaults are the full scenario of their issue run here with parameters that finish in minutes.
const ARGS: Record<string, string[]> = {
  'load-bench.ts': [
    ...['--tenants', '3', '--rows', '61', '--limit', '30', '--window-ms', '2000'],
    ...['--sheets-window-ms', '10000', '--writeback-timeout-s', '60'],
  ],
};
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('-bench.ts'))
  .sort();
let failed = 0;
for (const script of scripts) {
  const args = ARGS[script] ?? [];
  console.log(`\n=== ${[script, ...args].join(' ')} ===`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(dir, script), ...args], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    console.error(`${script} exited with ${res.status ?? res.signal}`);
  }
}
if (failed) process.exitCode = 1;
