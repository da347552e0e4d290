/**
 * Migration 009 (runs.tab_due) over a ledger that holds runs: a run that had ended counts as recorded in its "Postato
 * runs" tab, but a run still active during the upgrade is due once it ends. Before, every existing run counted as
 * recorded, so a run active during the upgrade never reached its tab.
 */
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { Pool } from 'pg';
import { ManualClock } from '../../src/clock';
import { ledgerMigrations } from '../../src/ledger/ledger-migrations';
import { openLedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger } from '../../src/ledger/run-ledger';
import { createPgTestDb } from '../contract/tier-kit';
import { tempDbFile } from '../runs/publish-test-kit';
import type { LedgerDialect } from './ledger-fixtures';

const provider: MigrationProvider = { getMigrations: async () => ledgerMigrations };

async function seedAt008(raw: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({
    db: raw,
    provider,
    migrationTableName: 'ledger_migrations',
    migrationLockTableName: 'ledger_migrations_lock',
  });
  expect((await migrator.migrateTo('008_unwritten_results_index')).error).toBeUndefined();
  for (const [id, state, finishedAt] of [
    ['run_active', 'running', null],
    ['run_queued', 'queued', null],
    ['run_done', 'done', 5],
  ] as const) {
    await sql`insert into runs (id, owner_subject, mode, state, spreadsheet_id, sheet_name, sheet_id, workspace_id,
        tenant_id, api_key_sealed, total, summary_json, created_at, started_at, finished_at)
      values (${id}, 'u1', 'publish', ${state}, ${`ss_${id}`}, 'Posts', 0, 'wks_1', 'tnt_a', 'sealed', 0, null, 1, 1,
        ${finishedAt})`.execute(raw);
  }
  await raw.destroy();
}

async function checkAfterUpgrade(url: string): Promise<void> {
  const handle = await openLedgerDb(url);
  try {
    const ledger = new RunLedger(handle.db, new ManualClock(10));
    // Nothing is due while the runs are active; the ended run was recorded before the upgrade.
    expect(await ledger.runsTabDue(10)).toEqual([]);
    expect(await ledger.takeRunTabDue('run_done')).toBeUndefined();
    // The active runs end after the upgrade: each is due for its tab, once.
    await sql`update runs set state = 'done', finished_at = 20 where id in ('run_active', 'run_queued')`.execute(
      handle.db,
    );
    expect((await ledger.runsTabDue(10)).sort()).toEqual(['run_active', 'run_queued']);
    expect(await ledger.takeRunTabDue('run_active')).toBe(10);
    expect(await ledger.takeRunTabDue('run_active')).toBeUndefined();
  } finally {
    await handle.close();
  }
}

describe.each<LedgerDialect>(['sqlite', 'postgres'])(
  'ledger migration 009 (runs tab due) over existing runs on %s',
  (dialect) => {
    it('marks the runs active during the upgrade as due once they end, and the ended ones as recorded', async () => {
      if (dialect === 'sqlite') {
        const file = tempDbFile();
        await seedAt008(new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) }));
        await checkAfterUpgrade(`sqlite:${file}`);
        return;
      }
      const pg = await createPgTestDb();
      try {
        await seedAt008(
          new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: pg.url }) }) }),
        );
        await checkAfterUpgrade(pg.url);
      } finally {
        await pg.drop();
      }
    });
  },
);
