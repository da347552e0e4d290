/** Turns dry-run verdicts and run results into the lines the campaign command prints. */
import type { DryRunResponse, DryRunSummary, RowResult, RunStatusResponse } from '../../appsscript/shared/contract';

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The plan: one line per row (row number, key, verdict, where and when it goes, what to fix), then the summary. */
export function dryRunLines(res: DryRunResponse): string[] {
  const rows = [['Row', 'Key', 'Status', 'Platform', 'Account', 'When (local)', 'Messages']];
  for (const v of res.rows) {
    const when = v.plannedLocal ? `${v.plannedLocal.slice(0, 16).replace('T', ' ')} ${v.timeZone ?? ''}`.trim() : '';
    const status = v.changed ? 'CHANGED' : v.postId ? `POSTED ${v.postId}` : v.status;
    rows.push([
      String(v.rowNumber),
      v.key ?? '',
      status,
      v.platform ?? '',
      v.accountId ?? '',
      when,
      oneLine(
        v.messages
          .filter((m) => m.level !== 'info')
          .map((m) => m.message)
          .join(' '),
      ),
    ]);
  }
  return [...table(rows), '', ...summaryLines(res.summary)];
}

/** The dry-run summary in a few sentences. */
export function summaryLines(s: DryRunSummary): string[] {
  const lines = [
    `${s.total} rows: ${s.ready} ready, ${s.warning} with warnings, ${s.invalid} invalid; ${s.toSend} to send, ${s.alreadyPosted} already posted.`,
  ];
  if (s.earliest && s.latest) lines.push(`First post ${s.earliest}, last ${s.latest} (UTC).`);
  if (s.pacing) lines.push(s.pacing);
  if (!s.accountsChecked) lines.push('Accounts were not checked: Postato did not list the workspace accounts.');
  for (const w of s.warnings) lines.push(`Warning: ${oneLine(w)}`);
  for (const i of s.info ?? []) lines.push(`Note: ${oneLine(i)}`);
  return lines;
}

/** The end of a publish: counts, then each row that needs a fix with its reason. */
export function publishLines(final: RunStatusResponse, results: Iterable<RowResult>, resultsFile: string): string[] {
  const c = final.counts;
  const lines = [
    `Run ${final.runId} ${final.state}: ${c.created} created, ${c.failed} failed, ${c.skipped} skipped of ${c.total} rows.`,
  ];
  const needFix = [...results]
    .filter((r) => r.status === 'FAILED' || r.status === 'INVALID')
    .sort((a, b) => (a.rowNumber ?? 0) - (b.rowNumber ?? 0));
  for (const r of needFix) lines.push(`Row ${r.rowNumber ?? '?'} (${r.key}) ${r.status}: ${oneLine(r.error ?? '')}`);
  // A rejected post stays rejected at Postato: publishing again leaves it alone unless the row gets a new key.
  const rejected = [...results].filter((r) => r.status === 'REJECTED');
  for (const r of rejected)
    lines.push(
      `Row ${r.rowNumber ?? '?'} (${r.key}) REJECTED: ${oneLine(r.error ?? '')} To send a fixed version, clear its Key and Post ID cells.`,
    );
  lines.push(
    needFix.length > 0
      ? `Results are in ${resultsFile}. Fix the rows above there and publish it again: only they are sent.`
      : `Results are in ${resultsFile}.`,
  );
  return lines;
}
