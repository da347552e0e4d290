/**
 * The ledger's migrations, provided in code to kysely's Migrator so the same steps run on SQLite and PostgreSQL.
 * Only portable types are used: text, integer (bigint for millisecond times), no JSON or SQLite-only SQL.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

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

/**
 * Tenant scope: everything that is looked up by spreadsheet and row key (known posts, in-doubt attempts, the active
 * run of a sheet, webhook event ids) is also keyed by the tenant (hash of the Postato API key) and the workspace, so
 * two tenants naming the same spreadsheet id and row keys never see, replay, lock or join each other's rows.
 * Tables whose primary key changes are rebuilt (SQLite cannot alter a primary key); rows keep their data, and the
 * new scope columns are filled from the run each row belongs to.
 */
const m003: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('run_rows')
      .addColumn('workspace_id', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await sql`update run_rows set workspace_id = (select runs.workspace_id from runs where runs.id = run_rows.run_id)`.execute(
      db,
    );

    await db.schema
      .alterTable('attempts')
      .addColumn('tenant_id', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema
      .alterTable('attempts')
      .addColumn('workspace_id', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await sql`update attempts set
        tenant_id = (select runs.tenant_id from runs where runs.id = attempts.run_id),
        workspace_id = (select runs.workspace_id from runs where runs.id = attempts.run_id)`.execute(db);
    await db.schema.dropIndex('attempts_by_sheet_row').execute();
    await db.schema
      .createIndex('attempts_by_tenant_row')
      .on('attempts')
      .columns(['tenant_id', 'workspace_id', 'spreadsheet_id', 'row_key', 'outcome'])
      .execute();

    await db.schema
      .createTable('posts_by_row_scoped')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('row_key', 'text', (c) => c.notNull())
      .addColumn('post_id', 'text', (c) => c.notNull())
      .addColumn('body_hash', 'text')
      .addColumn('scheduled_at', 'text')
      .addColumn('status', 'text')
      .addColumn('link', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('posts_by_row_scoped_pk', ['tenant_id', 'workspace_id', 'spreadsheet_id', 'row_key'])
      .execute();
    // A known post belongs to the tenant of the latest run row that holds its post id (every post came from a run).
    await sql`insert into posts_by_row_scoped
        (tenant_id, workspace_id, spreadsheet_id, row_key, post_id, body_hash, scheduled_at, status, link, updated_at)
      select coalesce((select r.tenant_id from run_rows r
                        where r.post_id = p.post_id and r.spreadsheet_id = p.spreadsheet_id
                        order by r.result_seq desc limit 1), ''),
             p.workspace_id, p.spreadsheet_id, p.row_key, p.post_id, p.body_hash, p.scheduled_at, p.status, p.link,
             p.updated_at
        from posts_by_row p`.execute(db);
    await db.schema.dropTable('posts_by_row').execute();
    await db.schema.alterTable('posts_by_row_scoped').renameTo('posts_by_row').execute();
    await db.schema.createIndex('posts_by_row_by_post').on('posts_by_row').columns(['post_id']).execute();

    await db.schema
      .createTable('active_sheets_scoped')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('active_sheets_scoped_pk', ['tenant_id', 'workspace_id', 'spreadsheet_id'])
      .execute();
    await sql`insert into active_sheets_scoped (tenant_id, workspace_id, spreadsheet_id, run_id, created_at)
      select runs.tenant_id, runs.workspace_id, a.spreadsheet_id, a.run_id, a.created_at
        from active_sheets a inner join runs on runs.id = a.run_id`.execute(db);
    await db.schema.dropTable('active_sheets').execute();
    await db.schema.alterTable('active_sheets_scoped').renameTo('active_sheets').execute();
    await db.schema.createIndex('active_sheets_by_run').on('active_sheets').columns(['run_id']).execute();

    // Event ids are remembered per workspace whose secret signed them, so a foreign-signed copy cannot use one up.
    await db.schema
      .createTable('webhook_events_scoped')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_events_scoped_pk', ['workspace_id', 'event_id'])
      .execute();
    await sql`insert into webhook_events_scoped (workspace_id, event_id, received_at)
      select '', event_id, received_at from webhook_events`.execute(db);
    await db.schema.dropTable('webhook_events').execute();
    await db.schema.alterTable('webhook_events_scoped').renameTo('webhook_events').execute();

    await db.schema.createIndex('run_rows_by_scope_post').on('run_rows').columns(['workspace_id', 'post_id']).execute();
  },
};

/**
 * 004: the embedded dispatcher claims a tenant's next rows in order, a batch at a time; run_rows_claim serves that
 * ORDER BY … LIMIT straight from the index, without sorting a tenant's whole backlog per claim. run_rows_by_run_state
 * answers "is anything of this run left to send" (asked after every finished row) without reading the whole run.
 */
const m004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('run_rows_claim')
      .on('run_rows')
      .columns(['tenant_id', 'state', 'next_attempt_at', 'ordinal'])
      .execute();
    await db.schema.createIndex('run_rows_by_run_state').on('run_rows').columns(['run_id', 'state']).execute();
  },
};

/**
 * Media from Google Drive (issue 17): the Drive files uploaded to Postato, keyed by tenant, workspace, file id and
 * Drive version, and the caller's sealed Drive token on the run (erased when the run ends, like the API key).
 */
const m005: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('runs').addColumn('drive_token_sealed', 'text').execute();
    await db.schema
      .createTable('drive_media')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('drive_file_id', 'text', (c) => c.notNull())
      .addColumn('drive_version', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('media_id', 'text')
      .addColumn('mime_type', 'text')
      .addColumn('size_bytes', 'bigint')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_token', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('drive_media_pk', ['tenant_id', 'workspace_id', 'drive_file_id', 'drive_version'])
      .execute();
  },
};

/**
 * 006: the optional Approved column: the approval of a sheet row (its content fingerprint when the tick was first
 * seen, from whom and when), and on each sent run row who approved it, so the run report can say so after the tick is
 * gone.
 */
const m006: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('row_approvals')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('row_key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('approved_by', 'text', (c) => c.notNull())
      .addColumn('approved_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('row_approvals_pk', ['tenant_id', 'workspace_id', 'spreadsheet_id', 'row_key'])
      .execute();
    await db.schema.alterTable('run_rows').addColumn('approved_by', 'text').execute();
    await db.schema.alterTable('run_rows').addColumn('approved_at', 'bigint').execute();
  },
};

/**
 * Proof of access to a spreadsheet: short-lived challenges handed to a caller (only their hash is kept) and the
 * bindings a verified challenge creates, per caller and spreadsheet, until they expire.
 */
const m007: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('sheet_proof_challenges')
      .addColumn('challenge_hash', 'text', (c) => c.primaryKey())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('sheet_proof_challenges_by_expiry')
      .on('sheet_proof_challenges')
      .columns(['expires_at'])
      .execute();
    await db.schema
      .createTable('sheet_bindings')
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('spreadsheet_id', 'text', (c) => c.notNull())
      .addColumn('proven_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sheet_bindings_pk', ['subject', 'spreadsheet_id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('sheet_bindings').execute();
    await db.schema.dropTable('sheet_proof_challenges').execute();
  },
};

/**
 * 008: run_rows_unwritten_by_seq holds only the results still to be written to a sheet, in result order, so the
 * write-back's "next results of this spreadsheet" reads them straight off the index instead of filtering and sorting
 * every row the spreadsheet ever had (issue 13). It replaces run_rows_unwritten. Queries say `removed = 0` as a
 * literal: a bound parameter would hide from the planner that the partial index's condition holds.
 */
const m008: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('run_rows_unwritten_by_seq')
      .on('run_rows')
      .columns(['spreadsheet_id', 'result_seq'])
      .where(sql<boolean>`version > written_version and removed = 0`)
      .execute();
    await db.schema.dropIndex('run_rows_unwritten').execute();
  },
};

/**
 * 009: runs.tab_due marks a run whose row the "Postato runs" tab has not received yet, so a stop that could not wait
 * for the Sheets budget leaves it for the next start instead of dropping it. Ended runs count as recorded; active ones are due.
 */
const m009: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('runs')
      .addColumn('tab_due', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // A run still active during the upgrade has not ended, so its row is still to come. The states are spelled out
    // (ACTIVE_RUN_STATES at this migration's time): a migration must not change with later code.
    await sql`update runs set tab_due = 1 where state in ('queued', 'running')`.execute(db);
  },
};

/**
 * 010: webhook events that arrived before their post was recorded are parked (per workspace, by post id) and applied
 * when the create's answer is recorded, instead of being acknowledged and lost.
 */
const m010: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhook_parked_events')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('post_id', 'text', (c) => c.notNull())
      .addColumn('event_json', 'text', (c) => c.notNull())
      .addColumn('parked_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_parked_events_pk', ['workspace_id', 'event_id'])
      .execute();
    await db.schema
      .createIndex('webhook_parked_events_by_post')
      .on('webhook_parked_events')
      .columns(['workspace_id', 'post_id'])
      .execute();
    await db.schema
      .createIndex('webhook_parked_events_by_age')
      .on('webhook_parked_events')
      .columns(['workspace_id', 'parked_at'])
      .execute();
  },
};

/**
 * 011: what the "Postato runs" tab recorder needs to retry without looping or losing a row: when a run's tab row was
 * taken (a take older than the reclaim age was left by a crash and is taken again) and how many tries it has had.
 */
const m011: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('runs').addColumn('tab_taken_at', 'bigint').execute();
    await db.schema
      .alterTable('runs')
      .addColumn('tab_tries', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

/** Every migration, in order. New ones are appended with the next number. */
export const ledgerMigrations: Record<string, Migration> = {
  '001_initial': m001,
  '002_dispatcher_instances': m002,
  '003_tenant_scope': m003,
  '004_claim_index': m004,
  '005_drive_media': m005,
  '006_row_approvals': m006,
  '007_sheet_proofs': m007,
  '008_unwritten_results_index': m008,
  '009_runs_tab_due': m009,
  '010_webhook_parked_events': m010,
  '011_runs_tab_tries': m011,
};

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
