/**
 * The ledger's migrations, provided in code to kysely's Migrator so the same steps run on SQLite and PostgreSQL.
 * Only portable types are used: text, integer (bigint for millisecond times), no JSON or SQLite-only SQL.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const m001: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_subject', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('sheet_name', 'text', (c) => c.notNull())
      .addColumn('sheet_id', 'integer', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('api_key_sealed', 'text')
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('summary_json', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema.createIndex('runs_by_state').on('runs').columns(['state']).execute();

    await db.schema
      .createTable('run_rows')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('row_key', 'text', (c) => c.notNull())
      .addColumn('row_number', 'integer')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('body_json', 'text')
      .addColumn('post_id', 'text')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('sheet_status', 'text')
      .addColumn('error', 'text')
      .addColumn('scheduled_at', 'text')
      .addColumn('link', 'text')
      .addColumn('result_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('written_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('removed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_rows_by_run').on('run_rows').columns(['run_id', 'ordinal']).execute();
    await db.schema
      .createIndex('run_rows_due')
      .on('run_rows')
      .columns(['state', 'tenant_id', 'next_attempt_at'])
      .execute();
    await db.schema.createIndex('run_rows_by_seq').on('run_rows').columns(['run_id', 'result_seq']).execute();
    await db.schema.createIndex('run_rows_by_post').on('run_rows').columns(['post_id']).execute();
    await db.schema
      .createIndex('run_rows_unwritten')
      .on('run_rows')
      .columns(['spreadsheet_id', 'written_version', 'version'])
      .execute();

    await db.schema
      .createTable('attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('row_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('row_key', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text')
      .addColumn('body', 'text')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('http_status', 'integer')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .execute();
    await db.schema
      .createIndex('attempts_by_sheet_row')
      .on('attempts')
      .columns(['spreadsheet_id', 'row_key', 'outcome'])
      .execute();
    await db.schema.createIndex('attempts_by_row').on('attempts').columns(['row_id']).execute();

    await db.schema
      .createTable('posts_by_row')
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('row_key', 'text', (c) => c.notNull())
      .addColumn('post_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('body_hash', 'text')
      .addColumn('scheduled_at', 'text')
      .addColumn('status', 'text')
      .addColumn('link', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('posts_by_row_pk', ['spreadsheet_id', 'row_key'])
      .execute();
    await db.schema.createIndex('posts_by_row_post').on('posts_by_row').columns(['post_id']).execute();

    await db.schema
      .createTable('active_sheets')
      .addColumn('spreadsheet_id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
    await (db as Kysely<{ counters: { name: string; value: number } }>)
      .insertInto('counters')
      .values({ name: 'result_seq', value: 0 })
      .execute();

    await db.schema
      .createTable('webhook_events')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('webhook_secrets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('webhook_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sheet_access')
      .addColumn('spreadsheet_id', 'text', (c) => c.primaryKey())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .addColumn('message', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/**
 * Live dispatcher instances: each one heartbeats here, so a crashed instance's leases are taken over once its
 * heartbeat goes stale instead of when each lease runs out.
 */
const m002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('dispatcher_instances')
      .addColumn('owner_id', 'text', (c) => c.primaryKey())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('dispatcher_instances').execute();
  },
};

/** Every migration, in order. New ones are appended with the next number. */
export const ledgerMigrations: Record<string, Migration> = { '001_initial': m001, '002_dispatcher_instances': m002 };

const provider: MigrationProvider = { getMigrations: async () => ledgerMigrations };

/** Brings the database to the latest schema; throws with the failing migration's error. */
export async function migrateLedger(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'ledger_migrations',
    migrationLockTableName: 'ledger_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Ledger migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
