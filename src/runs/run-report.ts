/**
 * The end-of-run report: counts, duration, failed rows with their reasons, rows removed from the sheet and warnings,
 * read from the ledger alone so the sidebar, the "Postato runs" tab, the CLI and the API all show the same thing.
 */
import type { DryRunSummary, RunReport, RunReportRow } from '../../appsscript/shared/contract';
import type { RunLedger, RunRecord } from '../ledger/run-ledger';

/** Most failed or removed rows listed in one report; the counts stay exact. */
export const REPORT_ROW_LIMIT = 500;

/** Sheet URL fragment that selects a row of a tab: `#gid=<sheetId>&range=A<row>`. */
export function rowLink(sheetId: number, rowNumber: number): string {
  return `#gid=${sheetId}&range=A${rowNumber}`;
}

function planWarnings(summaryJson: string | null): string[] {
  if (!summaryJson) return [];
  try {
    const summary = JSON.parse(summaryJson) as Partial<DryRunSummary>;
    return Array.isArray(summary.warnings) ? summary.warnings.filter((w): w is string => typeof w === 'string') : [];
  } catch {
    // An unreadable summary only loses the plan's warnings; the report is still useful without them.
    return [];
  }
}

/** Builds the report of a run from the ledger; undefined when no such run exists. `nowMs` dates a run still going. */
export async function buildRunReport(
  ledger: RunLedger,
  runId: string,
  opts: { nowMs?: number } = {},
): Promise<RunReport | undefined> {
  const run = await ledger.getRun(runId);
  if (!run) return undefined;
  return reportOf(ledger, run, opts.nowMs ?? Date.now());
}

/** The report of a run record already read (callers that checked access on it first). */
export async function reportOf(ledger: RunLedger, run: RunRecord, nowMs: number): Promise<RunReport> {
  const [counts, rows, access] = await Promise.all([
    ledger.counts(run.id),
    ledger.reportRows(run.id, REPORT_ROW_LIMIT),
    ledger.sheetAccess(run.spreadsheet_id),
  ]);
  const { failed: failedRows, failedTotal, removed: removedRows } = rows;

  const failed: RunReportRow[] = failedRows.map((r) => ({
    key: r.row_key,
    rowNumber: r.row_number === null ? null : Number(r.row_number),
    message:
      r.error ||
      (r.sheet_status === 'INVALID'
        ? 'The row is invalid; run the dry run to see why.'
        : 'Failed without a reason recorded.'),
  }));
  const removed: RunReportRow[] = removedRows.map((r) => ({
    key: r.row_key,
    rowNumber: r.row_number === null ? null : Number(r.row_number),
    message: r.post_id
      ? `The row with key ${r.row_key} was gone from the sheet when its result (post ${r.post_id}) was written; the result is kept in the service.`
      : `The row with key ${r.row_key} was gone from the sheet when its result was written.`,
  }));

  const warnings = planWarnings(run.summary_json);
  if (access && !access.ok) warnings.push(access.message ?? 'The service could not write results to this spreadsheet.');
  if (removed.length > 0)
    warnings.push(
      `${removed.length} row(s) were deleted from the sheet (or lost their key) during the run; their results were not written.`,
    );

  const started = Number(run.started_at);
  const finished = run.finished_at === null ? null : Number(run.finished_at);
  const report: RunReport = {
    runId: run.id,
    mode: run.mode,
    state: run.state,
    spreadsheetId: run.spreadsheet_id,
    sheetName: run.sheet_name,
    sheetId: Number(run.sheet_id),
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.max(0, Math.round(((finished ?? nowMs) - started) / 100) / 10),
    counts,
    failed,
    failedTotal,
    removed,
    warnings,
  };
  if (finished !== null) report.finishedAt = new Date(finished).toISOString();
  if (rows.approved.length > 0)
    report.approved = rows.approved.map((r) => ({
      key: r.row_key,
      rowNumber: r.row_number === null ? null : Number(r.row_number),
      approvedBy: r.approved_by,
      approvedAt: new Date(r.approved_at).toISOString(),
    }));
  const first = failed.find((f) => f.rowNumber !== null);
  if (first) report.firstFailedLink = rowLink(report.sheetId, first.rowNumber!);
  return report;
}
