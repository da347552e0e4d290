/**
 * Pure planning of a write-back: from what the sheet holds now (header, keys, output columns) and what each key
 * should show, the cells to change, grouped into one range per row. Used by the flusher and the dry-run write.
 */
import { columnLetters, quoteSheetName, rowSpanRange } from './a1-notation';
import type { SheetColumns, WriteRange } from './sheets-client';
import { findColumn } from './sheets-client';

/** Output columns in the order they are added to a header that lacks them. */
export const OUTPUT_COLUMNS = ['Status', 'Post ID', 'Error', 'Scheduled (UTC)', 'Link', 'Run', 'Updated'] as const;

/** What one key's row should show, by column name (absent columns are left alone). */
export type CellTargets = Map<string, Record<string, string>>;

/** Rows where each key sits now (sheet row numbers, 1-based), blank keys and the header left out. */
export function rowsByKey(keys: string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const key = k.trim();
    if (i === 0 || key === '') return;
    const list = m.get(key);
    if (list) list.push(i + 1);
    else m.set(key, [i + 1]);
  });
  return m;
}

/** The header after appending the columns it lacks, and the header cells to write for them. */
export function withOutputColumns(
  header: string[],
  sheetName: string,
  needed: Iterable<string>,
): { header: string[]; writes: WriteRange[] } {
  const out = [...header];
  const writes: WriteRange[] = [];
  for (const name of needed) {
    if (findColumn(out, name) >= 0) continue;
    // Append after the last non-empty header cell, so a column is never written over a user's data.
    let at = out.length;
    while (at > 0 && (out[at - 1] ?? '').trim() === '') at--;
    out.splice(at, 0, name);
    writes.push({ range: `${quoteSheetName(sheetName)}!${columnLetters(at)}1`, values: [[name]] });
  }
  return { header: out, writes };
}

/** Where one planned row write goes: the key it is meant for and its sheet row (1-based). */
export interface PlannedRow {
  key: string;
  row: number;
  /** 0-based first column of the row's range. */
  from: number;
}

/**
 * Cells that differ between the sheet (`current`) and `desiredForRow`, as one range per row spanning its changed
 * cells (nulls in between leave other cells alone). `desiredForRow(key, rowNumber)` returns null for rows to skip.
 * With `spanColumn`, every range also spans that column (left alone), so a write's echo shows the row's key there.
 * `rows[i]` says which key and row `writes[i]` is meant for.
 */
export function planCellWrites(
  sheetName: string,
  header: string[],
  current: SheetColumns,
  desiredForRow: (key: string, rowNumber: number) => Record<string, string> | null,
  opts: { spanColumn?: number } = {},
): { writes: WriteRange[]; cells: number; rows: PlannedRow[] } {
  const writes: WriteRange[] = [];
  const rows: PlannedRow[] = [];
  let cells = 0;
  current.keys.forEach((rawKey, i) => {
    const key = rawKey.trim();
    if (i === 0 || key === '') return;
    const row = i + 1;
    const desired = desiredForRow(key, row);
    if (!desired) return;
    const changes = new Map<number, string>();
    for (const [name, value] of Object.entries(desired)) {
      const col = findColumn(header, name);
      if (col < 0) continue;
      const now = current.columns.get(header[col]!)?.[i] ?? '';
      if (now !== value) changes.set(col, value);
    }
    if (changes.size === 0) return;
    const cols = [...changes.keys()].sort((a, b) => a - b);
    const from = Math.min(cols[0]!, opts.spanColumn ?? Infinity);
    const to = Math.max(cols[cols.length - 1]!, opts.spanColumn ?? -Infinity);
    const values: Array<string | null> = [];
    for (let c = from; c <= to; c++) values.push(changes.has(c) ? changes.get(c)! : null);
    writes.push({ range: rowSpanRange(sheetName, row, from, to), values: [values] });
    rows.push({ key, row, from });
    cells += changes.size;
  });
  return { writes, cells, rows };
}

/**
 * Whether every row write landed where it was planned: the echo of each row range (what it held right after the
 * write) shows the planned key in `keyColumn`. A row that moved in between shows another key, or none.
 */
export function echoConfirmsRows(planned: PlannedRow[], keyColumn: number, echo: string[][][]): boolean {
  return planned.every((p, i) => (echo[i]?.[0]?.[keyColumn - p.from] ?? '').trim() === p.key);
}

/** The text written into the Error cell of every row that shares a key. */
export function duplicateKeyMessage(key: string, rowNumbers: number[]): string {
  return `The key "${key}" appears on rows ${rowNumbers.join(', ')}. Give each row its own key (clear the Key cell of the copies) and publish again.`;
}
