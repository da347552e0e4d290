/**
 * Operator actions on the ledger behind the ops command line: list runs, show one, resync one into its sheet and
 * purge old runs. Purging never touches active runs, unresolved attempts or posts_by_row, the durable memory that
 * keeps a row from being posted twice.
 */
import type { RunReport } from '../../appsscript/shared/contract';
import type { RunLedger } from '../ledger/run-ledger';
import { buildRunReport } from '../runs/run-report';
import type { WriteBackStore } from '../sheets/write-back-store';
import { hasGoogleSheet } from '../plan/campaign-source';

/** One line of `runs list`. */
export interface RunListItem {
  runId: string;
  mode: string;
  state: string;
  spreadsheetId: string;
  sheetName: string;
  total: number;
  startedAt: string;
  finishedAt: string | null;
}

/** Reports progress of a long operation: `done` of `total` items. */
export type Progress = (done: number, total: number) => void;

/** Newest runs first, optionally of one state. */
export async function listRuns(ledger: RunLedger, o: { limit?: number; state?: string } = {}): Promise<RunListItem[]> {
  const rows = await ledger.listRuns({ limit: o.limit ?? 20, state: o.state });
  return rows.map((r) => ({
    runId: r.id,
    mode: r.mode,
    state: r.state,
    spreadsheetId: r.spreadsheet_id,
    sheetName: r.sheet_name,
    total: Number(r.total),
    startedAt: new Date(Number(r.started_at)).toISOString(),
    finishedAt: r.finished_at === null ? null : new Date(Number(r.finished_at)).toISOString(),
  }));
}

/** The report of one run; throws a message saying what to do when the id is unknown. */
export async function showRun(ledger: RunLedger, runId: string, nowMs: number): Promise<RunReport> {
  const report = await buildRunReport(ledger, runId, { nowMs });
  if (!report) throw new Error(`No run with id ${runId}. List runs with: npm run ops -- runs list`);
  return report;
}

/**
 * Queues every result of a run for the write-back again and flushes until nothing of it is left, reporting how many
 * results are still waiting after each flush.
 */
export async function resyncRun(
  ledger: RunLedger,
  store: WriteBackStore,
  flush: (
    spreadsheetId: string,
  ) => Promise<Array<{ written: number; removed: number; duplicates: number; error?: string }>>,
  runId: string,
  progress: Progress = () => undefined,
  maxFlushes = 200,
): Promise<{ requeued: number; written: number; removed: number; left: number }> {
  const run = await ledger.getRun(runId);
  if (!run) throw new Error(`No run with id ${runId}. List runs with: npm run ops -- runs list`);
  if (!hasGoogleSheet(run.spreadsheet_id))
    throw new Error(
      `Run ${runId} is a CSV campaign (${run.spreadsheet_id}): it has no sheet to resync. Its results are in GET /v1/runs/${runId}; publishing the campaign's .results.csv again brings them into the file.`,
    );
  const requeued = await store.requeueRun(runId);
  const waiting = () => ledger.writesWaiting(runId);
  let written = 0;
  let removed = 0;
  progress(0, requeued);
  for (let i = 0; i < maxFlushes; i++) {
    const left = await waiting();
    if (left === 0) break;
    const outcomes = await flush(run.spreadsheet_id);
    const moved = outcomes.reduce((a, o) => a + o.written + o.removed + o.duplicates, 0);
    written += outcomes.reduce((a, o) => a + o.written, 0);
    removed += outcomes.reduce((a, o) => a + o.removed, 0);
    progress(requeued - (await waiting()), requeued);
    const error = outcomes.find((o) => o.error)?.error;
    if (moved === 0) {
      if (error) throw new Error(`The write-back stopped: ${error}`);
      break;
    }
  }
  return { requeued, written, removed, left: await waiting() };
}

/**
 * Deletes ended runs that finished more than `olderThanDays` ago, with their rows and resolved attempts, in batches.
 * Runs still active, and runs holding an attempt whose outcome is unknown, are kept. Webhook events parked past their
 * own age limit (their post was never recorded) go too.
 */
export async function purgeRuns(
  ledger: RunLedger,
  o: { olderThanDays: number; nowMs: number; batchSize?: number },
  progress: Progress = () => undefined,
): Promise<{ purged: number; keptUnresolved: number; parkedEventsPurged: number }> {
  if (!Number.isFinite(o.olderThanDays) || o.olderThanDays < 0)
    throw new Error('--older-than-days must be a number of days, 0 or more.');
  const cutoff = o.nowMs - o.olderThanDays * 86_400_000;
  const batchSize = o.batchSize ?? 200;
  const { purgeable: total, keptUnresolved } = await ledger.purgeCounts(cutoff);
  let purged = 0;
  progress(0, total);
  for (;;) {
    const n = await ledger.purgeBatch(cutoff, batchSize);
    if (n === 0) break;
    purged += n;
    progress(purged, total);
  }
  const parkedEventsPurged = await ledger.purgeExpiredWebhookEvents(o.nowMs);
  return { purged, keptUnresolved, parkedEventsPurged };
}
