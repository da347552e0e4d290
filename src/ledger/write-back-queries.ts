/**
 * The write-back's queries: results not yet in their sheet (every result change bumped `version`; `written_version`
 * trails it), marking them written or removed, and what the write-back learnt about a spreadsheet's access.
 */
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { OutputColumn, PendingWrite, WriteBackStore } from '../sheets/write-back-store';
import type { LedgerDatabase } from './ledger-schema';

/** Ids per statement, well under the bind-variable limits of SQLite and PostgreSQL. */
const ID_CHUNK = 400;

/**
 * `removed = 0` as a literal, as run_rows_unwritten_by_seq's condition says it (with `version > written_version`): a
 * bound parameter would hide from the planner that the partial index covers the query.
 */
export const NOT_REMOVED = sql.lit(0);

/** The run_rows columns a pending write is made of (not the row's body, which can be large). */
const PENDING_WRITE_COLUMNS = [
  'run_rows.id',
  'run_rows.run_id',
  'run_rows.spreadsheet_id',
  'run_rows.tenant_id',
  'run_rows.workspace_id',
  'run_rows.row_key',
  'run_rows.sheet_status',
  'run_rows.post_id',
  'run_rows.error',
  'run_rows.scheduled_at',
  'run_rows.link',
  'run_rows.version',
  'run_rows.updated_at',
] as const;

/** WriteBackStore over run_rows and sheet_access. */
export function createWriteBackQueries(db: Kysely<LedgerDatabase>, clock: Clock): WriteBackStore {
  return {
    async spreadsheetsWithPendingWrites() {
      // Oldest pending result first: a pass of the background loop then serves the sheet that has waited longest
      // first, so no sheet waits behind the same others every pass while the write budget spreads a pass out.
      const rows = await db
        .selectFrom('run_rows')
        .select('spreadsheet_id')
        .whereRef('version', '>', 'written_version')
        .where('removed', '=', NOT_REMOVED)
        .groupBy('spreadsheet_id')
        .orderBy((eb) => eb.fn.min('result_seq'))
        .orderBy('spreadsheet_id')
        .execute();
      return rows.map((r) => r.spreadsheet_id);
    },
    async pendingWrites(spreadsheetId, limit) {
      const rows = await db
        .selectFrom('run_rows')
        .innerJoin('runs', 'runs.id', 'run_rows.run_id')
        .select([...PENDING_WRITE_COLUMNS, 'runs.sheet_name', 'runs.sheet_id'])
        .where('run_rows.spreadsheet_id', '=', spreadsheetId)
        .whereRef('run_rows.version', '>', 'run_rows.written_version')
        .where('run_rows.removed', '=', NOT_REMOVED)
        .orderBy('run_rows.result_seq')
        .limit(limit)
        .execute();
      return rows.map((r): PendingWrite => {
        const values: Partial<Record<OutputColumn, string>> = {
          Run: r.run_id,
          Updated: new Date(Number(r.updated_at)).toISOString(),
        };
        if (r.sheet_status) values.Status = r.sheet_status;
        if (r.post_id) values['Post ID'] = r.post_id;
        if (r.error !== null) values.Error = r.error;
        if (r.scheduled_at) values['Scheduled (UTC)'] = r.scheduled_at;
        if (r.link) values.Link = r.link;
        return {
          rowId: r.id,
          runId: r.run_id,
          spreadsheetId: r.spreadsheet_id,
          sheetName: r.sheet_name,
          sheetId: r.sheet_id,
          rowKey: r.row_key,
          values,
          version: r.version,
          scope: `${r.tenant_id}\u0000${r.workspace_id}`,
        };
      });
    },
    async markWritten(written) {
      // One transaction and one UPDATE per version value (a flush's rows mostly share one), not a commit per row.
      const byVersion = new Map<number, string[]>();
      for (const w of written) {
        const ids = byVersion.get(w.version) ?? [];
        ids.push(w.rowId);
        byVersion.set(w.version, ids);
      }
      if (byVersion.size === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const [version, ids] of byVersion) {
          for (let i = 0; i < ids.length; i += ID_CHUNK) {
            await trx
              .updateTable('run_rows')
              .set({ written_version: version })
              .where('id', 'in', ids.slice(i, i + ID_CHUNK))
              .where('written_version', '<', version)
              .execute();
          }
        }
      });
    },
    async markRemoved(removed) {
      for (const w of removed) {
        await db
          .updateTable('run_rows')
          .set({ written_version: w.version, removed: 1 })
          .where('id', '=', w.rowId)
          // A result that landed since the flush read the row is judged by the next flush, not marked unseen.
          .where('version', '=', w.version)
          .execute();
      }
    },
    async markDuplicateKey(duplicates) {
      for (const d of duplicates) {
        await db
          .updateTable('run_rows')
          .set({
            written_version: d.version,
            error: `The key of this row appears on rows ${d.rowNumbers.join(', ')}. Give each row its own key.`,
          })
          .where('id', '=', d.rowId)
          // Not over a newer result's Error (it is written, or marked, by the next flush).
          .where('version', '=', d.version)
          .execute();
      }
    },
    async recordSheetAccess(spreadsheetId, access) {
      const now = clock.now();
      await db
        .insertInto('sheet_access')
        .values({
          spreadsheet_id: spreadsheetId,
          ok: access.ok ? 1 : 0,
          message: access.message ?? null,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .column('spreadsheet_id')
            .doUpdateSet({ ok: access.ok ? 1 : 0, message: access.message ?? null, updated_at: now }),
        )
        .execute();
    },
    async requeueRun(runId) {
      const res = await db
        .updateTable('run_rows')
        .set({ written_version: 0, removed: 0 })
        .where('run_id', '=', runId)
        .where('version', '>', 0)
        .executeTakeFirst();
      return Number(res.numUpdatedRows);
    },
  };
}

/** What the write-back last recorded about a spreadsheet's access, if anything. */
export async function sheetAccessIn(
  db: Kysely<LedgerDatabase>,
  spreadsheetId: string,
): Promise<{ ok: boolean; message?: string } | undefined> {
  const r = await db
    .selectFrom('sheet_access')
    .selectAll()
    .where('spreadsheet_id', '=', spreadsheetId)
    .executeTakeFirst();
  return r ? { ok: r.ok === 1, ...(r.message ? { message: r.message } : {}) } : undefined;
}

/** Results of a run not yet in its sheet (the resync command waits for this to reach 0). */
export async function writesWaitingIn(db: Kysely<LedgerDatabase>, runId: string): Promise<number> {
  const r = await db
    .selectFrom('run_rows')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('run_id', '=', runId)
    .whereRef('version', '>', 'written_version')
    .where('removed', '=', NOT_REMOVED)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
