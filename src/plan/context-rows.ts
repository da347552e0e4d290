/**
 * Turns a run request that carries the rows it acts on in full plus the sheet's other rows in compact form
 * (`contextRows`, see the contract) into the whole-sheet form the planner reads: compact rows become rows holding only
 * their Key, Platform, Account, Scheduled at, Time zone, Post ID and Scheduled (UTC) cells, merged in sheet order, and
 * the run is limited to the full rows. The planner then places every post exactly as for the whole sheet.
 */
import type { CellValue, ContextRow, RunRequest, SheetRowInput } from '../../appsscript/shared/contract';
import { cellText, mapHeader, type ColumnName } from './sheet-contract';

/** The compact row's cells after its row number and key, in order, and the column each one fills. */
const COMPACT_COLUMNS: readonly ColumnName[] = [
  'Platform',
  'Account',
  'Scheduled at',
  'Time zone',
  'Post ID',
  'Scheduled (UTC)',
];

/** The whole-sheet request equivalent to `request`; a request without contextRows is returned as is. */
export function withContextRows(request: RunRequest): RunRequest {
  const { contextRows, ...rest } = request;
  if (!contextRows) return request;
  const header = [...request.header];
  const index = { ...mapHeader(header).index };
  // A compact cell whose column the header lacks gets that column, so the planner reads it like a sheet cell.
  const need = (column: ColumnName, cells: CellValue[]) => {
    if (index[column] === undefined && cells.some((c) => c !== null && c !== '')) {
      index[column] = header.length;
      header.push(column);
    }
  };
  need(
    'Key',
    contextRows.map((r) => r[1]),
  );
  COMPACT_COLUMNS.forEach((column, j) =>
    need(
      column,
      contextRows.map((r) => r[2 + j] ?? null),
    ),
  );
  const expanded: SheetRowInput[] = contextRows.map((r: ContextRow) => {
    const values: CellValue[] = Array.from({ length: header.length }, () => null);
    values[index.Key!] = r[1];
    COMPACT_COLUMNS.forEach((column, j) => {
      const i = index[column];
      if (i !== undefined) values[i] = r[2 + j] ?? null;
    });
    return { rowNumber: r[0], values };
  });
  const map = mapHeader(header);
  const acted = new Set(request.rows.map((r) => cellText(r.values, map, 'Key')).filter((k) => k !== ''));
  const onlyKeys = (request.onlyKeys ?? [...acted]).filter((k) => acted.has(k));
  const rows = [...request.rows, ...expanded].sort((a, b) => a.rowNumber - b.rowNumber);
  return { ...rest, header, rows, onlyKeys };
}
