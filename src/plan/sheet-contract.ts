/**
 * The sheet contract: which columns a campaign sheet has, the header aliases we accept, and how a header row is
 * matched to column indexes. Header names are compared case-insensitively after collapsing spaces and punctuation.
 */
import type { CellValue } from '../../appsscript/shared/contract';
import {
  COLUMN_ALIASES,
  INPUT_COLUMNS,
  OUTPUT_COLUMNS,
  columnNamed,
  normaliseHeader,
  type ColumnName,
} from '../../appsscript/shared/sheet-columns';

// The column names and aliases live in the shared module, so the add-on finds Key and the output columns exactly as
// the service reads them.
export { COLUMN_ALIASES, INPUT_COLUMNS, OUTPUT_COLUMNS, normaliseHeader, type ColumnName };

/** Columns a sheet must have for a run to make sense. */
export const REQUIRED_COLUMNS = ['Platform', 'Account', 'Content'] as const;

export type InputColumn = (typeof INPUT_COLUMNS)[number];
export type OutputColumn = (typeof OUTPUT_COLUMNS)[number];

/** The result of matching a header row: where each known column is, and what was not understood. */
export interface ColumnMap {
  /** 0-based index of each recognised column (the first match wins). */
  index: Partial<Record<ColumnName, number>>;
  /** Header cells that matched no column, as written. */
  unknown: string[];
  /** Columns that appear more than once; only the first is read. */
  duplicates: ColumnName[];
  /** Required columns that are missing. */
  missing: ColumnName[];
}

/** Matches a header row to the contract's columns. */
export function mapHeader(header: CellValue[]): ColumnMap {
  const index: Partial<Record<ColumnName, number>> = {};
  const unknown: string[] = [];
  const duplicates: ColumnName[] = [];
  header.forEach((cell, i) => {
    if (normaliseHeader(cell) === '') return;
    const column = columnNamed(cell);
    if (!column) {
      unknown.push(String(cell).trim());
      return;
    }
    if (index[column] === undefined) index[column] = i;
    else if (!duplicates.includes(column)) duplicates.push(column);
  });
  const missing = REQUIRED_COLUMNS.filter((c) => index[c] === undefined);
  return { index, unknown, duplicates, missing };
}

/** Text that needs collapsing: a run of two whitespace characters, or one that is not a plain space. */
const UNCOLLAPSED = /\s\s|[^\S ]/;

/**
 * Collapses each whitespace run to one space, like `text.replace(/\s+/g, ' ')`; the global replace is costly, so text
 * already collapsed is returned as is.
 */
export function collapseSpaces(text: string): string {
  return UNCOLLAPSED.test(text) ? text.replace(/\s+/g, ' ') : text;
}

/** The text without one leading `@`, like `text.replace(/^@/, '')` at a fraction of the cost. */
export function withoutAt(text: string): string {
  return text.startsWith('@') ? text.slice(1) : text;
}

/** Reads one column of a row as trimmed text ('' when absent or blank). Numbers and booleans become text. */
export function cellText(values: CellValue[], map: ColumnMap, column: ColumnName): string {
  const raw = cellRaw(values, map, column);
  if (raw === null || raw === undefined) return '';
  return String(raw).trim();
}

/** Reads one column of a row as sent, or null when absent. */
export function cellRaw(values: CellValue[], map: ColumnMap, column: ColumnName): CellValue {
  const i = map.index[column];
  if (i === undefined) return null;
  const v = values[i];
  return v === undefined ? null : v;
}
