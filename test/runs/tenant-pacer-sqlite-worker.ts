/**
 * A child process for the cross-process SQLite pacer test: opens the given file, acquires create slots for one tenant
 * as fast as the pacer allows from `startAtMs` (a wall-clock time shared by the racing processes) for `durationMs`, and
 * prints the times of the slots it got as JSON.
 */
import Database from 'better-sqlite3';
import { systemClock } from '../../src/clock';
import { createSqlitePacer } from '../../src/ledger/tenant-pacer-sqlite';
import { TEST_LIMITS } from './tenant-pacer-contract';

// A ref'd timer: the shared sleep() is unref'd, which would let this process exit mid-wait.
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function main(): Promise<void> {
  const [file, startText, durationText] = process.argv.slice(2);
  const db = new Database(file as string, { timeout: 10_000 });
  // The pacer reads the clock once per decision, under the write lock: remember that reading, so the slot times
  // reported are the decision times the rule applies to (a time read after the call returns could be later).
  let decidedAt = 0;
  const clock = { now: () => (decidedAt = systemClock.now()) };
  const pacer = createSqlitePacer({ db, limits: TEST_LIMITS, clock });
  const got: number[] = [];
  await wait(Number(startText) - Date.now());
  const end = Date.now() + Number(durationText);
  while (Date.now() < end) {
    const r = await pacer.tryAcquire('shared', 'create');
    if (r.ok) got.push(decidedAt);
    else await wait(Math.min(r.retryAtMs - Date.now(), end - Date.now()));
  }
  db.close();
  process.stdout.write(JSON.stringify(got));
}

void main();
