/**
 * Committing a run does not hold the result counter (PostgreSQL). Every recorded result takes the next number from one
 * counter row; a run that took its rows' numbers inside its own transaction held that row's lock while it inserted
 * hundreds of rows, so every other run's commit and every result of every instance queued behind it, each holding a
 * pooled connection (100 runs at once starved the service). The run's first numbers are taken before its transaction.
 */
import { Client } from 'pg';
import { ManualClock } from '../../src/clock';
import { RunLedger } from '../../src/ledger/run-ledger';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { createPgTestDb } from '../contract/tier-kit';
import { newRunOf } from './ledger-fixtures';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const runOf = (spreadsheetId: string, rows: number) => newRunOf({ spreadsheetId }, rows);

describe('committing a run on PostgreSQL', () => {
  const clock = new ManualClock(1_900_000_000_000);
  let pg: Awaited<ReturnType<typeof createPgTestDb>>;
  let handle: LedgerDb;
  let ledger: RunLedger;
  let other: Client;

  beforeAll(async () => {
    pg = await createPgTestDb();
    handle = await openLedgerDb(pg.url);
    ledger = new RunLedger(handle.db, clock);
    other = new Client({ connectionString: pg.url });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await handle.close();
    await pg.drop();
  });

  it('when a run is still inserting its rows, then the result counter is free for others, and its rows get results after', async () => {
    // Another session holds run_rows, so the run's transaction stops at its row inserts and stays open.
    await other.query('begin');
    await other.query('lock table run_rows in share mode');
    const committing = ledger.createRun(runOf('sheet-1', 300));
    for (;;) {
      const { rows } = await other.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
      );
      if (Number(rows[0]!.n) > 0) break;
      await pause(10);
    }
    // NOWAIT: refused at once (55P03) if the waiting run's transaction held the counter's row.
    const counter = await other.query<{ value: string }>(
      `select value from counters where name = 'result_seq' for update nowait`,
    );
    expect(counter.rows).toHaveLength(1);
    await other.query('rollback');

    const { runId } = await committing;
    const first = await ledger.resultsSince(runId, 0, 1000);
    await ledger.setResult(`${runId}:7`, { state: 'failed', sheetStatus: 'FAILED', error: 'x' });
    // A result recorded later is numbered after every number the run's rows started with: the cursor sees it.
    const later = await ledger.resultsSince(runId, first.cursor, 1000);
    expect(later.results.map((r) => r.key)).toEqual(['k7']);
  });
});
