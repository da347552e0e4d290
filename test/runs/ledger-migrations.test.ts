/**
 * The tenant-scope migration on a ledger that already holds data: known posts, in-doubt attempts and the active run of
 * a sheet written before it keep working for their tenant (on SQLite and PostgreSQL), and are invisible to others.
 */
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { Pool } from 'pg';
import { ManualClock } from '../../src/clock';
import { ledgerMigrations } from '../../src/ledger/ledger-migrations';
import { openLedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger, type NewRun } from '../../src/ledger/run-ledger';
import { createPgTestDb } from '../contract/tier-kit';
import { tempDbFile } from './publish-test-kit';

const provider: MigrationProvider = { getMigrations: async () => ledgerMigrations };
const migrator = (db: Kysely<unknown>) =>
  new Migrator({
    db,
    provider,
    migrationTableName: 'ledger_migrations',
    migrationLockTableName: 'ledger_migrations_lock',
  });

/** Writes what a ledger before the tenant scope held: one run, a remembered post, an in-doubt attempt, its lock. */
async function seedBeforeScope(db: Kysely<unknown>): Promise<void> {
  await sql`insert into runs (id, owner_subject, mode, state, spreadsheet_id, sheet_name, sheet_id, workspace_id,
      tenant_id, api_key_sealed, total, summary_json, created_at, started_at, finished_at)
    values ('run_old', 'u1', 'publish', 'running', 'ss_1', 'Posts', 0, 'wks_1', 'tnt_a', 'sealed', 2, null, 1, 1, null)`.execute(
    db,
  );
  for (const [ordinal, key, postId, state] of [
    [0, 'k0', 'pst_0', 'created'],
    [1, 'k1', null, 'sending'],
  ] as const) {
    await sql`insert into run_rows (id, run_id, ordinal, spreadsheet_id, tenant_id, row_key, row_number, kind, state,
        body_json, post_id, failures, sent, next_attempt_at, lease_owner, lease_until, sheet_status, error,
        scheduled_at, link, result_seq, version, written_version, removed, updated_at)
      values (${`run_old:${ordinal}`}, 'run_old', ${ordinal}, 'ss_1', 'tnt_a', ${key}, ${ordinal + 2}, 'create',
        ${state}, '{}', ${postId}, 0, 1, 0, null, null, null, null, null, null, ${ordinal + 1}, 1, 0, 0, 1)`.execute(
      db,
    );
  }
  await sql`insert into posts_by_row (spreadsheet_id, row_key, post_id, workspace_id, body_hash, scheduled_at, status,
      link, updated_at) values ('ss_1', 'k0', 'pst_0', 'wks_1', 'h0', null, 'SCHEDULED', null, 1)`.execute(db);
  await sql`insert into attempts (id, row_id, run_id, spreadsheet_id, row_key, kind, idempotency_key, body, started_at,
      finished_at, outcome, http_status, error_code, error_message)
    values ('att_1', 'run_old:1', 'run_old', 'ss_1', 'k1', 'create', 'ps1-old', '{}', 1, null, 'unknown', null, null,
      null)`.execute(db);
  await sql`insert into active_sheets (spreadsheet_id, run_id, created_at) values ('ss_1', 'run_old', 1)`.execute(db);
}

async function checkAfterScope(ledger: RunLedger): Promise<void> {
  const a = { tenantId: 'tnt_a', workspaceId: 'wks_1' };
  const b = { tenantId: 'tnt_b', workspaceId: 'wks_1' };
  expect(await ledger.knownPost(a, 'ss_1', 'k0')).toMatchObject({ post_id: 'pst_0', body_hash: 'h0' });
  expect(await ledger.knownPost(b, 'ss_1', 'k0')).toBeUndefined();
  expect(await ledger.unresolvedCreate(a, 'ss_1', 'k1')).toMatchObject({ idempotency_key: 'ps1-old' });
  expect(await ledger.unresolvedCreate(b, 'ss_1', 'k1')).toBeUndefined();
  expect(await ledger.getRow('run_old:1')).toMatchObject({ workspace_id: 'wks_1', tenant_id: 'tnt_a' });
  const newRun = (tenantId: string): NewRun => ({
    ownerSubject: 'u1',
    mode: 'publish',
    spreadsheetId: 'ss_1',
    sheetName: 'Posts',
    sheetId: 0,
    workspaceId: 'wks_1',
    tenantId,
    apiKeySealed: 'sealed',
    rows: [{ rowKey: 'k9', rowNumber: 9, kind: 'create' as const, state: 'pending' as const, writeBack: false }],
  });
  // The old run still locks its own tenant's sheet, and no other tenant's.
  await expect(ledger.createRun(newRun('tnt_a'))).rejects.toThrow(/does not include row k9/);
  expect(await ledger.createRun(newRun('tnt_b'))).toMatchObject({ joined: false });
}

describe('ledger migration 003 (tenant scope) over existing data', () => {
  it('on SQLite', async () => {
    const file = tempDbFile();
    const raw = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    expect((await migrator(raw).migrateTo('002_dispatcher_instances')).error).toBeUndefined();
    await seedBeforeScope(raw);
    await raw.destroy();
    const db = await openLedgerDb(`sqlite:${file}`);
    try {
      await checkAfterScope(new RunLedger(db.db, new ManualClock(10)));
    } finally {
      await db.close();
    }
  });

  it('on PostgreSQL', async () => {
    const pg = await createPgTestDb();
    try {
      const raw = new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: new Pool({ connectionString: pg.url }) }),
      });
      expect((await migrator(raw).migrateTo('002_dispatcher_instances')).error).toBeUndefined();
      await seedBeforeScope(raw);
      await raw.destroy();
      const db = await openLedgerDb(pg.url);
      try {
        await checkAfterScope(new RunLedger(db.db, new ManualClock(10)));
      } finally {
        await db.close();
      }
    } finally {
      await pg.drop();
    }
  });
});
