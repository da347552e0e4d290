/**
 * The ledger's figures for operators: the runs list, the rows a run report lists, the gauges read at each metrics
 * scrape, and purging ended runs (never active runs, runs holding an attempt in doubt, or posts_by_row).
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { RunState } from '../../appsscript/shared/contract';
import type { LedgerDatabase } from './ledger-schema';
import { ACTIVE_RUN_STATES, IN_DOUBT_OUTCOMES, TO_SEND_STATES } from './ledger-schema';
import { NOT_REMOVED } from './write-back-queries';

/** One run of the runs list. */
export interface RunSummaryRecord {
  id: string;
  mode: string;
  state: RunState;
  spreadsheet_id: string;
  sheet_name: string;
  total: number;
  started_at: number;
  finished_at: number | null;
}

/** A row a report lists (failed or removed). */
export interface ReportRowRecord {
  row_key: string;
  row_number: number | null;
  error: string | null;
  sheet_status: string | null;
  post_id: string | null;
}

/** What a report reads from the rows of a run. */
export interface ReportRows {
  failed: ReportRowRecord[];
  failedTotal: number;
  removed: ReportRowRecord[];
  /** Rows sent under an approval (sheets with an Approved column), in sheet order. */
  approved: Array<{ row_key: string; row_number: number | null; approved_by: string; approved_at: number }>;
}

/** Gauges read at scrape time. */
export interface LedgerGauges {
  /** Rows still to send, per tenant hash. */
  waitingByTenant: Array<{ tenant: string; rows: number }>;
  /** When the oldest result not yet written to its sheet changed, or null when nothing waits. */
  oldestUnwrittenMs: number | null;
}

const FAILED_STATUSES = ['FAILED', 'INVALID', 'DELIVERY FAILED', 'REJECTED'];

/** Queries of the ops command line, the run report and the metrics. */
export function createOpsQueries(db: Kysely<LedgerDatabase>) {
  const purgeable = (cutoff: number) =>
    db
      .selectFrom('runs')
      .select('id')
      .where('state', 'not in', [...ACTIVE_RUN_STATES])
      .where('finished_at', 'is not', null)
      .where('finished_at', '<', cutoff)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('attempts')
              .select('attempts.id')
              .whereRef('attempts.run_id', '=', 'runs.id')
              .where('attempts.outcome', 'in', [...IN_DOUBT_OUTCOMES]),
          ),
        ),
      );

  return {
    /** Newest runs first, optionally of one state. */
    async listRuns(o: { limit: number; state?: string }): Promise<RunSummaryRecord[]> {
      let q = db
        .selectFrom('runs')
        .select(['id', 'mode', 'state', 'spreadsheet_id', 'sheet_name', 'total', 'started_at', 'finished_at']);
      if (o.state) q = q.where('state', '=', o.state as RunState);
      return q.orderBy('started_at', 'desc').orderBy('id').limit(o.limit).execute();
    },

    /** The failed rows (with their total) and the rows removed from the sheet, at most `limit` of each. */
    async reportRows(runId: string, limit: number): Promise<ReportRows> {
      const isFailed = (eb: ExpressionBuilder<LedgerDatabase, 'run_rows'>) =>
        eb.or([eb('state', '=', 'failed'), eb('sheet_status', 'in', FAILED_STATUSES)]);
      const [failed, failedTotal, removed, approved] = await Promise.all([
        db
          .selectFrom('run_rows')
          .select(['row_key', 'row_number', 'error', 'sheet_status', 'post_id'])
          .where('run_id', '=', runId)
          .where(isFailed)
          .orderBy('row_number')
          .orderBy('ordinal')
          .limit(limit)
          .execute(),
        db
          .selectFrom('run_rows')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('run_id', '=', runId)
          .where(isFailed)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('run_rows')
          .select(['row_key', 'row_number', 'error', 'sheet_status', 'post_id'])
          .where('run_id', '=', runId)
          .where('removed', '=', 1)
          .orderBy('ordinal')
          .limit(limit)
          .execute(),
        db
          .selectFrom('run_rows')
          .select(['row_key', 'row_number', 'approved_by', 'approved_at'])
          .where('run_id', '=', runId)
          .where('approved_at', 'is not', null)
          .orderBy('ordinal')
          .limit(limit)
          .execute(),
      ]);
      const approvedRows = approved.map((r) => ({
        row_key: r.row_key,
        row_number: r.row_number,
        approved_by: r.approved_by ?? '',
        approved_at: Number(r.approved_at),
      }));
      return { failed, failedTotal: Number(failedTotal.n), removed, approved: approvedRows };
    },

    /** Rows waiting per tenant and the age of the oldest unwritten result. */
    async gauges(): Promise<LedgerGauges> {
      const [waiting, oldest] = await Promise.all([
        db
          .selectFrom('run_rows')
          .select((eb) => ['tenant_id', eb.fn.countAll<number>().as('n')])
          .where('state', 'in', [...TO_SEND_STATES])
          .groupBy('tenant_id')
          .execute(),
        db
          .selectFrom('run_rows')
          .select((eb) => eb.fn.min<number>('updated_at').as('oldest'))
          .whereRef('version', '>', 'written_version')
          .where('removed', '=', NOT_REMOVED)
          .executeTakeFirst(),
      ]);
      return {
        waitingByTenant: waiting.map((w) => ({ tenant: w.tenant_id, rows: Number(w.n) })),
        oldestUnwrittenMs: oldest?.oldest === null || oldest?.oldest === undefined ? null : Number(oldest.oldest),
      };
    },

    /** Ended runs finished before `cutoff` that may be purged, and runs kept because an attempt is in doubt. */
    async purgeCounts(cutoff: number): Promise<{ purgeable: number; keptUnresolved: number }> {
      const total = await db
        .selectFrom(purgeable(cutoff).as('c'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const kept = await db
        .selectFrom('runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('finished_at', '<', cutoff)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('attempts')
              .select('attempts.id')
              .whereRef('attempts.run_id', '=', 'runs.id')
              .where('attempts.outcome', 'in', [...IN_DOUBT_OUTCOMES]),
          ),
        )
        .executeTakeFirstOrThrow();
      return { purgeable: Number(total.n), keptUnresolved: Number(kept.n) };
    },

    /** Deletes up to `batchSize` purgeable runs with their rows and attempts; returns how many runs went. */
    async purgeBatch(cutoff: number, batchSize: number): Promise<number> {
      const ids = (await purgeable(cutoff).orderBy('id').limit(batchSize).execute()).map((r) => r.id);
      if (ids.length === 0) return 0;
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('attempts').where('run_id', 'in', ids).execute();
        await trx.deleteFrom('run_rows').where('run_id', 'in', ids).execute();
        await trx.deleteFrom('active_sheets').where('run_id', 'in', ids).execute();
        await trx.deleteFrom('runs').where('id', 'in', ids).execute();
      });
      return ids.length;
    },
  };
}

/** The ops queries' shape. */
export type OpsQueries = ReturnType<typeof createOpsQueries>;
