/**
 * The "Postato runs" tab: one row per ended run (id, mode, times, counts, a link to the first failed row), appended
 * below the others; the header is written when the tab is new or its first row is empty. Every request goes through
 * the Sheets client, so it counts against the shared request budgets.
 */
import type { RunReport } from '../../appsscript/shared/contract';
import type { SheetsClient } from './sheets-client';

/** Title of the tab the run history is appended to. */
export const RUNS_TAB_TITLE = 'Postato runs';

/** Header row of the runs tab. */
export const RUNS_TAB_HEADER = [
  'Run',
  'Mode',
  'State',
  'Sheet',
  'Started (UTC)',
  'Finished (UTC)',
  'Duration (s)',
  'Total',
  'Created',
  'Failed',
  'Skipped',
  'Removed',
  'First failed row',
  'Warnings',
] as const;

/** The tab row of a report. The link is a full sheet URL (RAW input keeps it as text, which Sheets shows as a link). */
export function runsTabRow(report: RunReport): string[] {
  const link = report.firstFailedLink
    ? `https://docs.google.com/spreadsheets/d/${report.spreadsheetId}/edit${report.firstFailedLink}`
    : '';
  return [
    report.runId,
    report.mode,
    report.state,
    report.sheetName,
    report.startedAt,
    report.finishedAt ?? '',
    String(report.durationSeconds),
    String(report.counts.total),
    String(report.counts.created),
    String(report.failedTotal),
    String(report.counts.skipped),
    String(report.removed.length),
    link,
    report.warnings.join(' | '),
  ];
}

/**
 * Appends a report's row to the runs tab, creating the tab first when it does not exist. The header goes in whenever
 * row 1 is empty, not only with a new tab: an earlier try may have added the tab and failed before its first append.
 * `headerSeen` (the caller saw the header in this tab before) saves the read of row 1.
 */
export async function appendRunToTab(
  client: SheetsClient,
  report: RunReport,
  opts: { headerSeen?: boolean } = {},
): Promise<{ createdTab: boolean }> {
  const meta = await client.getMetadata(report.spreadsheetId);
  const exists = meta.sheets.some((s) => s.title === RUNS_TAB_TITLE);
  if (!exists) await client.addSheet(report.spreadsheetId, RUNS_TAB_TITLE);
  const needsHeader =
    !exists ||
    (!opts.headerSeen &&
      (await client.readHeaderRow(report.spreadsheetId, RUNS_TAB_TITLE)).every((cell) => cell.trim() === ''));
  const rows = needsHeader ? [[...RUNS_TAB_HEADER], runsTabRow(report)] : [runsTabRow(report)];
  await client.appendRows(report.spreadsheetId, RUNS_TAB_TITLE, rows);
  return { createdTab: !exists };
}
