/**
 * The SQLite ledger's WAL is checkpointed by a worker thread on its own connection, not inside the service's commits.
 * The WAL must still stay bounded, closing the ledger must end the worker, and a dead worker must hand checkpoints
 * back to SQLite's automatic ones.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openLedgerDb } from '../../src/ledger/ledger-db';
import { startWalCheckpointer } from '../../src/ledger/wal-checkpointer';

const dir = mkdtempSync(join(tmpdir(), 'wal-checkpointer-'));
let n = 0;
const freshFile = () => join(dir, `ledger-${++n}.db`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A WAL-mode connection with automatic checkpoints as SQLite has them by default, and one table to write. */
function walConnection(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.exec('create table filler (body text not null)');
  return db;
}

const walBytes = (file: string) => statSync(`${file}-wal`).size;

test('when many commits go through while the checkpointer runs, then the WAL stays within a bound', async () => {
  const file = freshFile();
  const db = walConnection(file);
  const checkpointer = startWalCheckpointer({
    file,
    connection: db,
    intervalMs: 5,
    maxWalBytes: 256 * 1024,
    onFailure: (err) => {
      throw err;
    },
  });
  const insert = db.prepare('insert into filler (body) values (?)');
  const body = 'x'.repeat(3000);
  let largest = 0;
  // 200 rounds × 20 commits of ~3 KB each: about 12 MB of WAL if nothing checkpointed it.
  for (let round = 0; round < 200; round += 1) {
    for (let i = 0; i < 20; i += 1) insert.run(body);
    largest = Math.max(largest, walBytes(file));
    // Two reports: the second one's checkpoint began after this round's commits.
    await checkpointer.nextCheckpoint();
    await checkpointer.nextCheckpoint();
  }
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  expect(largest).toBeLessThan(1024 * 1024);
  await checkpointer.stop();
  db.close();
});

test('when the worker cannot run, then the connection goes back to automatic checkpoints and the failure is told', async () => {
  const file = freshFile();
  const db = walConnection(file);
  const failure = new Promise<Error>((resolve) => {
    startWalCheckpointer({ file: join(dir, 'no-such-folder', 'ledger.db'), connection: db, onFailure: resolve });
  });
  // The worker's error comes from another realm: its message, not its class, is what can be checked.
  await expect(failure).resolves.toMatchObject({ message: expect.stringMatching(/directory does not exist/) });
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  db.close();
});

test('when a ledger file is opened, then a checkpointer runs until the ledger is closed', async () => {
  const ledger = await openLedgerDb(`sqlite:${freshFile()}`);
  const checkpointer = ledger.checkpointer!;
  expect(checkpointer.running).toBe(true);
  expect(ledger.sqlite!.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  await expect(checkpointer.nextCheckpoint()).resolves.toMatchObject({ mode: 'PASSIVE', busy: 0 });

  await ledger.close();
  expect(checkpointer.running).toBe(false);
  await expect(checkpointer.nextCheckpoint()).rejects.toThrow('not running');
});

test('when two connections share a ledger file, then both checkpointers run beside each other', async () => {
  const file = freshFile();
  const failures: Error[] = [];
  const first = await openLedgerDb(`sqlite:${file}`, { onCheckpointerFailure: (err) => failures.push(err) });
  const second = await openLedgerDb(`sqlite:${file}`, { onCheckpointerFailure: (err) => failures.push(err) });
  await Promise.all([first.checkpointer!.nextCheckpoint(), second.checkpointer!.nextCheckpoint()]);
  await first.close();
  // The file stays usable by the other connection, whose checkpointer goes on.
  await expect(second.checkpointer!.nextCheckpoint()).resolves.toMatchObject({ mode: 'PASSIVE' });
  await second.close();
  expect(failures).toEqual([]);
});

test('when the ledger is in memory, then no checkpointer is started', async () => {
  const ledger = await openLedgerDb('sqlite::memory:');
  expect(ledger.checkpointer).toBeUndefined();
  await ledger.close();
});

test('when the WAL passes its bound while the service is inside read-then-write transactions, then none of them is refused as locked', async () => {
  const file = freshFile();
  const db = walConnection(file);
  const checkpointer = startWalCheckpointer({
    file,
    connection: db,
    intervalMs: 1,
    maxWalBytes: 64 * 1024,
    onFailure: (err) => {
      throw err;
    },
  });
  const count = db.prepare('select count(*) as n from filler');
  const insert = db.prepare('insert into filler (body) values (?)');
  const body = 'x'.repeat(3000);
  const refusals: string[] = [];
  let restarts = 0;
  const tally = () =>
    checkpointer.nextCheckpoint().then(
      (r) => {
        if (r.mode === 'RESTART') restarts += 1;
        void tally();
      },
      () => undefined,
    );
  void tally();
  // A deferred transaction as kysely opens them: it reads, lets the event loop turn, then writes. SQLite refuses the
  // upgrade to a writer at once (no busy wait) whenever another connection holds the write lock at that moment.
  for (let i = 0; i < 400 && (restarts < 5 || i < 200); i += 1) {
    db.exec('begin');
    count.get();
    await new Promise((r) => setTimeout(r, 1));
    try {
      for (let j = 0; j < 4; j += 1) insert.run(body);
      db.exec('commit');
    } catch (err) {
      refusals.push((err as Error).message);
      db.exec('rollback');
    }
    // Between two transactions, as the service's loop has them: the RESTART runs only here.
    await new Promise((r) => setTimeout(r, 1));
  }
  await checkpointer.stop();
  db.close();
  expect(restarts).toBeGreaterThan(0);
  expect(refusals).toEqual([]);
});

test('when the service is inside a transaction whenever the WAL is to be restarted, then SQLite checkpoints in its commits until the worker can again', async () => {
  const file = freshFile();
  const db = walConnection(file);
  const checkpointer = startWalCheckpointer({
    file,
    connection: db,
    intervalMs: 1,
    maxWalBytes: 64 * 1024,
    maxSkippedRestarts: 4,
    onFailure: (err) => {
      throw err;
    },
  });
  const boundPages = (64 * 1024) / (db.pragma('page_size', { simple: true }) as number);
  const autocheckpoint = () => db.pragma('wal_autocheckpoint', { simple: true }) as number;
  const insert = db.prepare('insert into filler (body) values (?)');
  const body = 'x'.repeat(3000);
  let largest = 0;
  const settings = new Set<number>();
  try {
    // 300 rounds of ~60 KB: about 18 MB of WAL if nothing restarted it. Every report arrives while a transaction is
    // open (commit and the next begin share a turn of the event loop), so every RESTART the worker asks for is skipped.
    db.exec('begin');
    for (let round = 0; round < 300; round += 1) {
      for (let i = 0; i < 20; i += 1) insert.run(body);
      await checkpointer.nextCheckpoint();
      settings.add(autocheckpoint());
      db.exec('commit');
      db.exec('begin');
      largest = Math.max(largest, walBytes(file));
    }
    db.exec('commit');
    expect(largest).toBeLessThan(1024 * 1024);
    // The commits checkpointed at the bound (in pages) once the RESTARTs had been skipped a few times.
    expect([...settings]).toEqual([0, boundPages]);

    // Gaps between transactions again: the worker's RESTART runs, and the commits no longer checkpoint.
    for (let round = 0; round < 50; round += 1) {
      for (let i = 0; i < 20; i += 1) insert.run(body);
      await checkpointer.nextCheckpoint();
      await checkpointer.nextCheckpoint();
    }
    expect(autocheckpoint()).toBe(0);
    expect(checkpointer.running).toBe(true);
  } finally {
    await checkpointer.stop();
    db.close();
  }
});
