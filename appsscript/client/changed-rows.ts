/** Pure helpers for CHANGED rows in the dry-run summary: rows edited since their post was sent to Postato. */
import type { DryRunSummary, RowVerdict } from '../shared/contract';
import { plural } from '../shared/format';

/** The summary line about changed rows, with the action that applies them; null when no row changed. */
export function changedRowsLine(summary: Pick<DryRunSummary, 'changed'>): string | null {
  const n = summary.changed ?? 0;
  if (n <= 0) return null;
  return `${plural(n, 'row')} changed since ${n === 1 ? 'its post was' : 'their posts were'} sent: press Reschedule changed rows to update ${n === 1 ? 'it' : 'them'} in Postato.`;
}

/** The tag a row shows in "To look at": CHANGED for edited posted rows, else its verdict status. */
export function rowTag(row: Pick<RowVerdict, 'status' | 'changed'>): string {
  return row.changed && row.status === 'READY' ? 'CHANGED' : row.status;
}
