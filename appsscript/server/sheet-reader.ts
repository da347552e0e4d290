/**
 * Reads the active sheet once (one getValues), fills a stable key into rows that have none, adds missing output
 * column headers, and turns the values into the wire form the service expects (dates as Sheets serial numbers).
 */
import type { CellValue, SheetRowInput } from '../shared/contract';
import { OUTPUT_COLUMNS } from '../shared/sheet-columns';
import type { GasSheet, RawCell } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';

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
  keysFilled: number;
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

function normalise(text: unknown): string {
  return String(text ?? '')
    .trim()
    .toLowerCase();
}

/** Index of the header named `name` (case-insensitive), or -1. */
export function columnIndex(header: readonly unknown[], name: string): number {
  const wanted = normalise(name);
  return header.findIndex((h) => normalise(h) === wanted);
}

function isBlank(cell: RawCell | undefined): boolean {
  return cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === '');
}

/** A short random row key, e.g. "r-3f9a1c2b7d". */
export function newRowKey(): string {
  return 'r-' + gas().Utilities.getUuid().replace(/-/g, '').slice(0, 10).toLowerCase();
}

/**
 * Gives every non-blank row a key: blanks get a new one; when several rows share a key (a copied row), the row
 * that has a Post ID (or else the first) keeps it and the others get new keys, so a copy becomes a new post.
 */
function assignKeys(values: RawCell[][], keyCol: number, postIdCol: number, inputCols: number[]): number[] {
  const changedRows: number[] = [];
  const byKey = new Map<string, number[]>();
  for (let i = 1; i < values.length; i++) {
    const row = values[i]!;
    if (inputCols.every((c) => isBlank(row[c]))) continue;
    const key = String(row[keyCol] ?? '').trim();
    if (key === '') {
      row[keyCol] = newRowKey();
      changedRows.push(i);
    } else {
      byKey.set(key, [...(byKey.get(key) ?? []), i]);
    }
  }
  for (const rows of byKey.values()) {
    if (rows.length < 2) continue;
    const keeper = rows.find((i) => postIdCol >= 0 && !isBlank(values[i]![postIdCol])) ?? rows[0]!;
    for (const i of rows) {
      if (i === keeper) continue;
      values[i]![keyCol] = newRowKey();
      changedRows.push(i);
    }
  }
  return changedRows;
}

/** Reads `sheet` once, fills keys and headers in place, and returns the snapshot to send. */
export function readSheet(
  sheet: GasSheet = gas().SpreadsheetApp.getActiveSpreadsheet().getActiveSheet(),
): SheetSnapshot {
  const spreadsheet = gas().SpreadsheetApp.getActiveSpreadsheet();
  const timeZone = spreadsheet.getSpreadsheetTimeZone();
  const values = sheet.getDataRange().getValues();
  const header = (values[0] ?? []).map((h) => String(h ?? '').trim());
  if (columnIndex(header, 'Platform') < 0 || columnIndex(header, 'Content') < 0) {
    throw new AddonError(
      `The sheet "${sheet.getName()}" has no Postato header row (it needs at least Platform, Account and Content in row 1). Use Postato › Insert template sheet to start from a template.`,
    );
  }
  const headersAdded: string[] = [];
  // Trailing empty header cells are reused before the header grows.
  while (header.length > 0 && header[header.length - 1] === '') header.pop();
  for (const name of ['Key', ...OUTPUT_COLUMNS]) {
    if (columnIndex(header, name) < 0) {
      header.push(name);
      headersAdded.push(name);
    }
  }
  const outputCols = new Set(OUTPUT_COLUMNS.map((n) => columnIndex(header, n)));
  const keyCol = columnIndex(header, 'Key');
  const inputCols = header.map((_, i) => i).filter((i) => i !== keyCol && !outputCols.has(i));
  for (const row of values) while (row.length < header.length) row.push('');

  if (headersAdded.length > 0) {
    sheet.getRange(1, 1, 1, header.length).setValues([header]);
  }
  const changedRows = assignKeys(values, keyCol, columnIndex(header, 'Post ID'), inputCols);
  if (changedRows.length > 0) {
    // One write of the whole key column keeps this to a single call however many keys were filled.
    const keyColumn = values.slice(1).map((row) => [row[keyCol] ?? '']);
    sheet.getRange(2, keyCol + 1, keyColumn.length, 1).setValues(keyColumn);
  }

  const statusCol = columnIndex(header, 'Status');
  const rows: SheetRowInput[] = [];
  const keyByRow = new Map<number, string>();
  const statusByRow = new Map<number, string>();
  for (let i = 1; i < values.length; i++) {
    const row = values[i]!;
    if (inputCols.every((c) => isBlank(row[c]))) continue;
    const rowNumber = i + 1;
    rows.push({ rowNumber, values: header.map((_, c) => toCellValue(row[c], timeZone)) });
    keyByRow.set(rowNumber, String(row[keyCol]));
    statusByRow.set(rowNumber, normalise(row[statusCol]).toUpperCase());
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
    keysFilled: changedRows.length,
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
