/**
 * "Add media from Drive" on the sheet's side: which rows the picked files go into (the selection, checked before the
 * Picker opens), and the write that appends them to those rows' Media cells as `drive:<file id>` entries, the form the
 * service's Media parser reads. Nothing already in a cell is overwritten, rows that have a post in Postato are
 * refused, and the write happens under the document lock on the rows as they were when the Picker opened.
 */
import { plural, rowList } from '../shared/format';
import type { DriveMediaAdded, MediaTarget, MediaTargetRow, PickedDriveFile } from '../shared/server-rpc';
import { OUTPUT_COLUMNS } from '../shared/sheet-columns';
import type { GasSheet, RawCell } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';
import { cellText } from './key-writer';
import { findColumns } from './sheet-reader';

/** How long the write waits for another Postato action on the document. */
const LOCK_WAIT_MS = 10_000;
/** What a Drive file id looks like (the service's Media parser accepts the same). */
const DRIVE_FILE_ID = /^[A-Za-z0-9_-]{10,200}$/;

/** Every sentence "Add media from Drive" shows the user. */
export const driveMediaMessages = {
  noHeader: (sheet: string) =>
    `The sheet “${sheet}” has no Postato header row (it needs at least Platform, Account and Content in row 1). Use Postato › Insert template sheet to start from a template.`,
  noMediaColumn: (sheet: string) =>
    `The sheet “${sheet}” has no Media column. Add a column headed Media to row 1 (the template sheet has one), then select the rows and try again.`,
  nothingSelected:
    'Select the post rows that should get the files (click their row numbers), then press Add media from Drive.',
  outsideData: (sheet: string, lastRow: number, what: string) =>
    lastRow < 2
      ? `The sheet “${sheet}” has no post rows yet. Fill in a row's Platform, Account and Content first, then select it.`
      : `Select only post rows (rows 2 to ${lastRow} of “${sheet}”): the selection includes ${what}.`,
  emptyRows: (rows: number[]) =>
    `${capital(rowList(rows))} ${rows.length === 1 ? 'is' : 'are'} empty. Fill in Platform, Account and Content first, or select only post rows.`,
  published: (rows: Array<{ row: number; postId: string }>) =>
    `${capital(rowList(rows.map((r) => r.row)))} already ${rows.length === 1 ? 'has a post' : 'have posts'} in Postato (Post ID ${rows.map((r) => r.postId).join(', ')}), so the media can't change from the sheet and nothing was added. To post with other files: unschedule the row (More actions › Unschedule selected rows), clear its Key and Post ID cells, add the files, then Publish again.`,
  noFiles: 'No files were picked, so nothing was added.',
  /** `name` is blank when the Picker gave none: the file is then "a file", not empty quotes. */
  badFile: (name: string) =>
    `The Picker returned ${name ? `“${name}”` : 'a file'} without a Drive file id, so nothing was added. Pick it again.`,
  busy: 'Another Postato action on this spreadsheet is writing to the sheet. Wait a few seconds and pick the files again.',
  tabGone: (sheet: string) =>
    `The tab “${sheet}” is no longer in this spreadsheet, so nothing was added. Select the rows again and pick the files.`,
  rowsChanged: (rows: number[]) =>
    `${capital(rowList(rows))} changed or disappeared while you were picking files, so nothing was added. Select the rows again and pick the files.`,
};

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Where the Media cell and the columns that don't make a row's identity are. */
interface MediaColumns {
  media: number;
  postId: number | undefined;
  /** Columns left out of a row's identity: Media (the write changes it) and the columns the service writes. */
  notIdentity: Set<number>;
}

function mediaColumns(sheet: GasSheet, header: readonly RawCell[]): MediaColumns {
  const columns = findColumns(header);
  if (columns.Platform === undefined || columns.Content === undefined) {
    throw new AddonError(driveMediaMessages.noHeader(sheet.getName()));
  }
  if (columns.Media === undefined) throw new AddonError(driveMediaMessages.noMediaColumn(sheet.getName()));
  const notIdentity = new Set<number>([columns.Media]);
  for (const name of OUTPUT_COLUMNS) if (columns[name] !== undefined) notIdentity.add(columns[name]);
  return { media: columns.Media, postId: columns['Post ID'], notIdentity };
}

/** The row's cells other than Media and the output columns, as one comparable string. */
function identityOf(row: readonly RawCell[] | undefined, width: number, cols: MediaColumns): string {
  const cells: string[] = [];
  for (let c = 0; c < width; c++) if (!cols.notIdentity.has(c)) cells.push(cellText(row?.[c]));
  return JSON.stringify(cells);
}

/** Every 1-based row the active range list touches, header and rows past the data included. */
function selectedRows(sheet: GasSheet): number[] {
  const rows = new Set<number>();
  for (const range of gas().SpreadsheetApp.getActiveSpreadsheet().getActiveRangeList()?.getRanges() ?? []) {
    const last = Math.min(range.getRow() + range.getNumRows() - 1, sheet.getMaxRows());
    for (let r = range.getRow(); r <= last; r++) rows.add(r);
  }
  return [...rows].sort((a, b) => a - b);
}

function refusePublished(values: RawCell[][], rows: number[], cols: MediaColumns): void {
  if (cols.postId === undefined) return;
  const published = rows
    .map((row) => ({ row, postId: cellText(values[row - 1]?.[cols.postId!]) }))
    .filter((r) => r.postId !== '');
  if (published.length > 0) throw new AddonError(driveMediaMessages.published(published));
}

/** The selected post rows of the active tab, checked: refuses a selection the files could not go into. */
export function mediaTarget(): MediaTarget {
  const sheet = gas().SpreadsheetApp.getActiveSpreadsheet().getActiveSheet();
  const values = sheet.getDataRange().getValues();
  const cols = mediaColumns(sheet, values[0] ?? []);
  const rows = selectedRows(sheet);
  if (rows.length === 0) throw new AddonError(driveMediaMessages.nothingSelected);
  const lastRow = values.length;
  const outside = rows.filter((r) => r < 2 || r > lastRow);
  if (outside.length > 0) {
    const below = outside.filter((r) => r > lastRow);
    const what = [
      ...(outside[0] === 1 ? ['the header row'] : []),
      ...(below.length > 0 ? [`${rowList(below)}, below the last post row`] : []),
    ].join(' and ');
    throw new AddonError(driveMediaMessages.outsideData(sheet.getName(), lastRow, what));
  }
  const width = values[0]!.length;
  const empty = rows.filter((r) => identityOf(values[r - 1], width, cols) === identityOf([], width, cols));
  if (empty.length > 0) throw new AddonError(driveMediaMessages.emptyRows(empty));
  refusePublished(values, rows, cols);
  return {
    sheetId: sheet.getSheetId(),
    sheetName: sheet.getName(),
    rows: rows.map((rowNumber) => ({ rowNumber, identity: identityOf(values[rowNumber - 1], width, cols) })),
  };
}

/** The Drive file ids a Media cell already names (drive:<id> entries and Drive share links). */
export function driveIdsIn(cell: string): Set<string> {
  const ids = new Set<string>();
  for (const entry of cell.split(/[,\n\r]+/)) {
    const text = entry.trim();
    const id =
      /^drive:\s*([A-Za-z0-9_-]+)$/i.exec(text)?.[1] ??
      /^https:\/\/(?:drive|docs)\.google\.com\/(?:.*\/)?file\/d\/([A-Za-z0-9_-]+)/i.exec(text)?.[1] ??
      /^https:\/\/(?:drive|docs|drive\.usercontent)\.google\.com\/.*[?&]id=([A-Za-z0-9_-]+)/i.exec(text)?.[1];
    if (id) ids.add(id);
  }
  return ids;
}

/** Where each target row is now: at its row number, or where a sort moved it (a unique row with the same cells). */
function locateRows(
  values: RawCell[][],
  target: MediaTarget,
  cols: MediaColumns,
): { found: Map<number, number>; lost: number[] } {
  const width = values[0]?.length ?? 0;
  const identities = values.map((row) => identityOf(row, width, cols));
  const found = new Map<number, number>();
  const lost: number[] = [];
  for (const row of target.rows) {
    const now = locate(identities, row);
    if (now === null) lost.push(row.rowNumber);
    else found.set(row.rowNumber, now);
  }
  return { found, lost };
}

function locate(identities: string[], row: MediaTargetRow): number | null {
  if (row.rowNumber >= 2 && identities[row.rowNumber - 1] === row.identity) return row.rowNumber;
  const matches: number[] = [];
  for (let i = 1; i < identities.length; i++) if (identities[i] === row.identity) matches.push(i + 1);
  return matches.length === 1 ? matches[0]! : null;
}

function checkFiles(files: readonly PickedDriveFile[]): string[] {
  if (files.length === 0) throw new AddonError(driveMediaMessages.noFiles);
  const ids: string[] = [];
  for (const file of files) {
    if (typeof file?.id !== 'string' || !DRIVE_FILE_ID.test(file.id)) {
      throw new AddonError(driveMediaMessages.badFile(typeof file?.name === 'string' ? file.name.trim() : ''));
    }
    if (!ids.includes(file.id)) ids.push(file.id);
  }
  return ids;
}

/** Appends the picked files to the target rows' Media cells (see the file comment); all rows or none. */
export function addDriveMedia(target: MediaTarget, files: PickedDriveFile[]): DriveMediaAdded {
  const ids = checkFiles(files);
  const sheet = gas()
    .SpreadsheetApp.getActiveSpreadsheet()
    .getSheets()
    .find((s) => s.getSheetId() === target.sheetId);
  if (!sheet) throw new AddonError(driveMediaMessages.tabGone(target.sheetName));
  const lock = gas().LockService.getDocumentLock();
  if (!lock || !lock.tryLock(LOCK_WAIT_MS)) throw new AddonError(driveMediaMessages.busy);
  try {
    const values = sheet.getDataRange().getValues();
    const cols = mediaColumns(sheet, values[0] ?? []);
    const { found, lost } = locateRows(values, target, cols);
    if (lost.length > 0) throw new AddonError(driveMediaMessages.rowsChanged(lost));
    const rowsNow = [...new Set(found.values())].sort((a, b) => a - b);
    refusePublished(values, rowsNow, cols);
    let added = 0;
    let alreadyThere = 0;
    const changed: number[] = [];
    const written = new Set<string>();
    for (const row of rowsNow) {
      const cell = cellText(values[row - 1]?.[cols.media]);
      const present = driveIdsIn(cell);
      const fresh = ids.filter((id) => !present.has(id));
      alreadyThere += ids.length - fresh.length;
      if (fresh.length === 0) continue;
      const entries = fresh.map((id) => `drive:${id}`);
      // One entry per line: the Media parser splits on new lines as on commas, and a person can read it.
      sheet.getRange(row, cols.media + 1).setValues([[[...(cell ? [cell] : []), ...entries].join('\n')]]);
      added += fresh.length;
      for (const id of fresh) written.add(id);
      changed.push(row);
    }
    gas().SpreadsheetApp.flush();
    return { rows: changed, added, alreadyThere, message: addedMessage(changed, written.size, alreadyThere) };
  } finally {
    lock.releaseLock();
  }
}

function addedMessage(rows: number[], files: number, alreadyThere: number): string {
  if (files === 0) return 'Nothing was added: the selected rows already name these files.';
  const already =
    alreadyThere > 0
      ? ` (${plural(alreadyThere, 'file')} a row already named ${alreadyThere === 1 ? 'was' : 'were'} left out)`
      : '';
  return `Added ${plural(files, 'file')} to the Media cells of ${rowList(rows)}${already}. Run a dry run to check them against each platform's rules.`;
}
