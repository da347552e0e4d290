/**
 * Writes new row keys and missing header cells into the sheet without ever moving a key to another row: under the
 * document lock, it reads the sheet again right before writing and fills only the Key cells that are still as read
 * (blank) beside the very content that was read. Anything else is left
 * alone and reported, so the action can say so.
 */
import type { GasSheet, RawCell } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';

/** How long an action waits for another editor's key writing before giving up. */
const LOCK_WAIT_MS = 10_000;

/** One key to write: the row (0-based index into the values read), what its Key cell held, and the new key. */
export interface KeyFill {
  index: number;
  /** The Key cell's text when the sheet was read: always '' (only blank Key cells are filled). */
  expected: string;
  key: string;
}

/** What the add-on wants written, planned from one read of the sheet. */
export interface KeyWritePlan {
  /** The values of that read (header row first). */
  values: RawCell[][];
  /** Header names to add to the right of the last used column. */
  headersToAdd: string[];
  /** 0-based column of the Key column (possibly one of headersToAdd). */
  keyCol: number;
  /** Columns whose cells identify a row's content: every column but Key and the output columns. */
  contentCols: number[];
  fills: KeyFill[];
}

/** The outcome: the key each planned row now has, and the rows that were left alone. */
export interface KeyWriteResult {
  /** Row index → key, for fills written and for rows another execution had filled beside the same content. */
  keys: Map<number, string>;
  /** Row indexes whose Key cell or content changed (a sort, an edit) between the read and the write. */
  leftAlone: number[];
}

/** A cell's text as the sheet compares it: dates by instant, everything else as trimmed text. */
export function cellText(cell: RawCell | undefined): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return `date:${cell.getTime()}`;
  return String(cell).trim();
}

function contentOf(row: RawCell[] | undefined, cols: number[]): string {
  return JSON.stringify(cols.map((c) => cellText(row?.[c])));
}

function sameHeader(read: RawCell[], now: RawCell[], addAt: number, adding: number): boolean {
  for (let c = 0; c < addAt + adding; c++) {
    const was = c < addAt ? cellText(read[c]) : '';
    if (cellText(now[c]) !== was) return false;
  }
  return true;
}

/** Consecutive row indexes grouped into runs, so a block of new rows costs one setValues. */
function runsOf(indexes: number[]): number[][] {
  const runs: number[][] = [];
  for (const i of [...indexes].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last && last.at(-1) === i - 1) last.push(i);
    else runs.push([i]);
  }
  return runs;
}

/** Writes the plan's headers and keys under the document lock; see the file comment. */
export function writeKeys(sheet: GasSheet, plan: KeyWritePlan): KeyWriteResult {
  const keys = new Map<number, string>();
  const leftAlone: number[] = [];
  if (plan.headersToAdd.length === 0 && plan.fills.length === 0) return { keys, leftAlone };
  const lock = gas().LockService.getDocumentLock();
  if (!lock || !lock.tryLock(LOCK_WAIT_MS)) {
    throw new AddonError(
      'Another Postato action on this spreadsheet is still filling row keys. Wait a few seconds and try again.',
    );
  }
  try {
    const now = sheet.getDataRange().getValues();
    const width = plan.values[0]?.length ?? 0;
    if (!sameHeader(plan.values[0] ?? [], now[0] ?? [], width, plan.headersToAdd.length)) {
      throw new AddonError(
        'The header row changed while the add-on was reading the sheet, so nothing was written. Try again.',
      );
    }
    if (plan.headersToAdd.length > 0) {
      sheet.getRange(1, width + 1, 1, plan.headersToAdd.length).setValues([plan.headersToAdd]);
    }
    const toWrite: number[] = [];
    for (const fill of plan.fills) {
      const row = now[fill.index];
      const sameContent = contentOf(row, plan.contentCols) === contentOf(plan.values[fill.index], plan.contentCols);
      const keyNow = cellText(row?.[plan.keyCol]);
      if (sameContent && keyNow === fill.expected) {
        toWrite.push(fill.index);
        keys.set(fill.index, fill.key);
      } else if (sameContent && keyNow !== '' && fill.expected === '') {
        // Another execution filled this very row meanwhile: its key stands beside the same content.
        keys.set(fill.index, keyNow);
      } else {
        leftAlone.push(fill.index);
      }
    }
    const keyByIndex = new Map(plan.fills.map((f) => [f.index, f.key]));
    for (const run of runsOf(toWrite)) {
      sheet.getRange(run[0]! + 1, plan.keyCol + 1, run.length, 1).setValues(run.map((i) => [keyByIndex.get(i)!]));
    }
    gas().SpreadsheetApp.flush();
  } finally {
    lock.releaseLock();
  }
  return { keys, leftAlone };
}
