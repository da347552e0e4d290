/**
 * Reads a sheet once (one getValues), finds the Key and output columns by their headers (with the service's
 * aliases), has key-writer fill keys into rows without one and add missing header cells, and turns the values into
 * the wire form the service expects (dates as Sheets serial numbers).
 */
import type { CellValue, SheetRowInput } from '../shared/contract';
import { OUTPUT_COLUMNS, columnNamed, type ColumnName } from '../shared/sheet-columns';
import type { GasSheet, RawCell } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';
import { cellText, writeKeys, type KeyFill } from './key-writer';

/** What one read of the sheet yields, ready for a run request. */
export interface SheetSnapshot {
  spreadsheetId: string;
  spreadsheetTimeZone: string;
  sheetName: string;
  sheetId: number;
  header: CellValue[];
  rows: SheetRowInput[];
  /** Row key by 1-based sheet row number, for the rows that were sent. */
  keyByRow: Map<number, string>;
  /** The Status cell of each sent row, upper-cased. */
  statusByRow: Map<number, string>;
  /** The Post ID cell of each sent row that has one. */
  postIdByRow: Map<number, string>;
  /** The Scheduled (UTC) cell of each sent row that has one: the time last sent to Postato. */
  scheduledUtcByRow: Map<number, string>;
  keysFilled: number;
  /** Rows that needed a key but moved or changed before it could be written: left alone and not sent. */
  keysLeftAlone: number[];
  headersAdded: string[];
}

const MS_PER_DAY = 86_400_000;
/** Days between the Sheets epoch (1899-12-30) and the Unix epoch. */
const SHEETS_EPOCH_OFFSET_DAYS = 25_569;

/** Converts a Date read from a sheet into a Sheets serial number of its wall-clock time in `timeZone`. */
export function dateToSerial(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wallClockMs = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wallClockMs / MS_PER_DAY + SHEETS_EPOCH_OFFSET_DAYS;
}

/** Turns a raw cell into a JSON-safe cell value. */
export function toCellValue(cell: RawCell | undefined, timeZone: string): CellValue {
  if (cell === undefined || cell === null) return null;
  if (cell instanceof Date) return dateToSerial(cell, timeZone);
  if (typeof cell === 'object') return String(cell);
  return cell;
}

function isBlank(cell: RawCell | undefined): boolean {
  return cellText(cell) === '';
}

/** Where each contract column is in a header row; blank and unknown headers name no column. */
export function findColumns(header: readonly RawCell[]): Partial<Record<ColumnName, number>> {
  const found: Partial<Record<ColumnName, number>> = {};
  header.forEach((cell, i) => {
    const column = columnNamed(cell);
    if (column && found[column] === undefined) found[column] = i;
  });
  return found;
}

/** A short random row key, e.g. "r-3f9a1c2b7d". */
export function newRowKey(): string {
  return 'r-' + gas().Utilities.getUuid().replace(/-/g, '').slice(0, 10).toLowerCase();
}

/** Plans a key for every post row whose Key cell is blank. */
function planKeys(values: RawCell[][], keyCol: number, isPost: (row: RawCell[]) => boolean): KeyFill[] {
  // Only blank Key cells are ever filled: a copied (duplicate) key is left as it is, because rewriting either copy
  // could detach a row from a post or an in-doubt attempt. The dry run marks the later copy INVALID and says to
  // clear its Key cell, which the next action then fills.
  const fills: KeyFill[] = [];
  for (let i = 1; i < values.length; i++) {
    const row = values[i]!;
    if (isPost(row) && cellText(row[keyCol]) === '') fills.push({ index: i, expected: '', key: newRowKey() });
  }
  return fills;
}

/** Reads `sheet` once, fills keys and headers (see key-writer), and returns the snapshot to send. */
export function readSheet(
  sheet: GasSheet = gas().SpreadsheetApp.getActiveSpreadsheet().getActiveSheet(),
): SheetSnapshot {
  const spreadsheet = gas().SpreadsheetApp.getActiveSpreadsheet();
  const timeZone = spreadsheet.getSpreadsheetTimeZone();
  const values = sheet.getDataRange().getValues();
  const width = values[0]?.length ?? 0;
  const columns = findColumns(values[0] ?? []);
  if (columns.Platform === undefined || columns.Content === undefined) {
    throw new AddonError(
      `The sheet "${sheet.getName()}" has no Postato header row (it needs at least Platform, Account and Content in row 1). Use Postato › Insert template sheet to start from a template.`,
    );
  }
  // Missing columns go to the right of the last used column: a column without a header may hold someone's notes,
  // so it is never taken over.
  const headersAdded = (['Key', ...OUTPUT_COLUMNS] as ColumnName[]).filter((name) => columns[name] === undefined);
  headersAdded.forEach((name, j) => (columns[name] = width + j));
  const header: CellValue[] = [...(values[0] ?? []).map((h) => String(h ?? '').trim()), ...headersAdded];
  for (const row of values) while (row.length < header.length) row.push('');

  const keyCol = columns.Key!;
  const outputCols = new Set(OUTPUT_COLUMNS.map((n) => columns[n]!));
  // A row is a post when a named input column holds something; notes in a headerless column do not make a post, nor
  // does an Approved checkbox (its empty rows hold FALSE).
  const approvedCol = columns.Approved;
  const inputCols = header
    .map((h, i) => i)
    .filter((i) => i !== keyCol && i !== approvedCol && !outputCols.has(i) && cellText(header[i] as RawCell) !== '');
  const contentCols = header.map((_, i) => i).filter((i) => i !== keyCol && !outputCols.has(i));
  const isPost = (row: RawCell[]) => inputCols.some((c) => !isBlank(row[c]));

  const fills = planKeys(values, keyCol, isPost);
  const written = writeKeys(sheet, {
    values: values.map((r) => r.slice(0, width)),
    headersToAdd: headersAdded,
    keyCol,
    contentCols,
    fills,
  });
  for (const [i, key] of written.keys) values[i]![keyCol] = key;
  const leftAlone = new Set(written.leftAlone);

  const statusCol = columns.Status!;
  const rows: SheetRowInput[] = [];
  const keyByRow = new Map<number, string>();
  const statusByRow = new Map<number, string>();
  const postIdByRow = new Map<number, string>();
  const scheduledUtcByRow = new Map<number, string>();
  const postIdCol = columns['Post ID']!;
  const utcCol = columns['Scheduled (UTC)']!;
  for (let i = 1; i < values.length; i++) {
    const row = values[i]!;
    if (!isPost(row) || leftAlone.has(i)) continue;
    const rowNumber = i + 1;
    rows.push({ rowNumber, values: header.map((_, c) => toCellValue(row[c], timeZone)) });
    keyByRow.set(rowNumber, cellText(row[keyCol]));
    statusByRow.set(rowNumber, cellText(row[statusCol]).toUpperCase());
    const postId = cellText(row[postIdCol]);
    if (postId !== '') postIdByRow.set(rowNumber, postId);
    const utc = row[utcCol];
    if (utc instanceof Date) scheduledUtcByRow.set(rowNumber, utc.toISOString());
    else if (cellText(utc) !== '') scheduledUtcByRow.set(rowNumber, cellText(utc));
  }
  return {
    spreadsheetId: spreadsheet.getId(),
    spreadsheetTimeZone: timeZone,
    sheetName: sheet.getName(),
    sheetId: sheet.getSheetId(),
    header,
    rows,
    keyByRow,
    statusByRow,
    postIdByRow,
    scheduledUtcByRow,
    keysFilled: written.keys.size,
    keysLeftAlone: written.leftAlone.map((i) => i + 1),
    headersAdded,
  };
}

/** 1-based row numbers of the current selection on `sheet` (header row excluded). */
export function selectedRowNumbers(sheet: GasSheet): number[] {
  const list = gas().SpreadsheetApp.getActiveSpreadsheet().getActiveRangeList();
  const rows = new Set<number>();
  for (const range of list?.getRanges() ?? []) {
    const first = range.getRow();
    const last = Math.min(first + range.getNumRows() - 1, sheet.getMaxRows());
    for (let r = Math.max(first, 2); r <= last; r++) rows.add(r);
  }
  return [...rows].sort((a, b) => a - b);
}
