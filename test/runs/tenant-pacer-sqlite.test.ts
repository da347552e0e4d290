/** The SQLite pacer against the shared contract, and two Database handles on one file sharing one limit. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../src/clock';
import { createSqlitePacer } from '../../src/ledger/tenant-pacer-sqlite';
import { effectiveLimit, type TenantPacer } from '../../src/pacing/tenant-pacer';
import { assertWithinLimit, describePacerContract, TEST_LIMITS } from './tenant-pacer-contract';

const dir = mkdtempSync(join(tmpdir(), 'pacer-sqlite-'));
const handles: Database.Database[] = [];
const open = (file: string) => {
  const db = new Database(join(dir, file));
  db.pragma('journal_mode = WAL');
  handles.push(db);
  return db;
};

afterAll(() => {
  for (const db of handles) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describePacerContract(
  'sqlite',
  (clock, limits = TEST_LIMITS) => createSqlitePacer({ db: open('contract.db'), limits, clock }),
  {
    propertyRuns: 40,
  },
);

describe('sqlite pacer across processes', () => {
  test('when two handles on one file take turns at random, then together they never exceed the limit', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const pacers: TenantPacer[] = [
      createSqlitePacer({ db: open('shared.db'), limits: TEST_LIMITS, clock }),
      createSqlitePacer({ db: open('shared.db'), limits: TEST_LIMITS, clock }),
    ];
    const sent: number[] = [];
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 600; i++) {
      clock.advance(Math.floor(rand() * 30));
      const pacer = pacers[rand() < 0.5 ? 0 : 1] as TenantPacer;
      if ((await pacer.tryAcquire('shared-tenant', 'create')).ok) sent.push(clock.now());
    }
    const rule = effectiveLimit(TEST_LIMITS, 'create');
    assertWithinLimit(sent, TEST_LIMITS.create.limit, TEST_LIMITS.create.windowMs);
    assertWithinLimit(sent, rule.max, rule.spanMs);
    // ~9 s of traffic at up to 9 per 1.05 s: the pair is paced, not starved.
    expect(sent.length).toBeGreaterThan(60);
  });

  test('when two real processes race for one tenant on one file, then their slots together stay within the limit', async () => {
    const file = join(dir, 'processes.db');
    open(file.slice(dir.length + 1)).pragma('journal_mode = WAL');
    // Both start at the same wall-clock instant, after tsx has loaded in each, so they really race.
    const startAt = Date.now() + 4000;
    const runChild = () =>
      new Promise<number[]>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', join(__dirname, 'tenant-pacer-sqlite-worker.ts'), file, String(startAt), '2500'],
          { timeout: 30_000 },
          (err, stdout, stderr) => {
            if (err) return reject(new Error(`${err.message}\n${stderr}`));
            try {
              resolve(JSON.parse(stdout) as number[]);
            } catch {
              reject(new Error(`the worker printed no slot list: ${stdout.slice(0, 200)}\n${stderr}`));
            }
          },
        );
      });
    const [a, b] = await Promise.all([runChild(), runChild()]);
    const sent = [...a, ...b].sort((x, y) => x - y);
    const rule = effectiveLimit(TEST_LIMITS, 'create');
    assertWithinLimit(sent, TEST_LIMITS.create.limit, TEST_LIMITS.create.windowMs);
    assertWithinLimit(sent, rule.max, rule.spanMs);
    // The budget was used (the pacer is not fair between processes, and need not be: they serve one tenant).
    expect(sent.length).toBeGreaterThanOrEqual(rule.max * 2);
  });

  test('when one handle records a 429 pause, then the other handle honours it', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const a = createSqlitePacer({ db: open('pause.db'), limits: TEST_LIMITS, clock });
    const b = createSqlitePacer({ db: open('pause.db'), limits: TEST_LIMITS, clock });
    await a.pause('t', 'create', clock.now() + 2000);
    expect(await b.tryAcquire('t', 'create')).toEqual({ ok: false, retryAtMs: clock.now() + 2000 });
  });
});
