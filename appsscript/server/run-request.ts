/**
 * Builds the POST /v1/runs body from one read of the sheet: the rows the action acts on go in full, every other row
 * the plan must see goes in compact form (contextRows, see the contract), so a calendar of any length fits one
 * request (the plan of the acted rows is the same whichever rows are sent in full). Posted rows more than two days in
 * the past are left out: they hold no slot a new post could collide with.
 */
import type { CellValue, ContextRow, PlanSettings, RunMode, RunRequest, SheetRowInput } from '../shared/contract';
import { AddonError } from './apps-script-env';
import { findColumns, type SheetSnapshot } from './sheet-reader';

/** Posted rows whose time is older than this are not needed for planning. */
const PAST_POSTS_KEPT_MS = 2 * 24 * 60 * 60 * 1000;

/**
 * Which rows an action acts on: the keys it was confirmed for; else the rows without a post (Publish), plus, with
 * `withPosts`, the posted rows not yet past, whose edits the dry run marks CHANGED and Reschedule applies.
 */
export interface RowChoice {
  onlyKeys?: string[];
  withPosts: boolean;
  nowMs: number;
}

function postedLongAgo(snapshot: SheetSnapshot, rowNumber: number, nowMs: number): boolean {
  if (!snapshot.postIdByRow.has(rowNumber)) return false;
  const utc = snapshot.scheduledUtcByRow.get(rowNumber);
  const ms = utc === undefined ? NaN : Date.parse(utc);
  return Number.isFinite(ms) && ms < nowMs - PAST_POSTS_KEPT_MS;
}

/** Splits the snapshot's rows into those sent in full and the compact rest. */
export function splitRows(
  snapshot: SheetSnapshot,
  choice: RowChoice,
): { rows: SheetRowInput[]; contextRows: ContextRow[] } {
  const only = choice.onlyKeys ? new Set(choice.onlyKeys) : null;
  const col = findColumns(snapshot.header);
  const cell = (values: CellValue[], i: number | undefined): CellValue =>
    i === undefined ? null : (values[i] ?? null);
  const rows: SheetRowInput[] = [];
  const contextRows: ContextRow[] = [];
  for (const row of snapshot.rows) {
    const key = snapshot.keyByRow.get(row.rowNumber) ?? '';
    const longAgo = postedLongAgo(snapshot, row.rowNumber, choice.nowMs);
    const posted = snapshot.postIdByRow.has(row.rowNumber);
    const acted = only ? only.has(key) : !posted || (choice.withPosts && !longAgo);
    if (acted) rows.push(row);
    else if (!longAgo && key !== '') {
      const v = row.values;
      contextRows.push([
        row.rowNumber,
        key,
        cell(v, col.Platform),
        cell(v, col.Account),
        cell(v, col['Scheduled at']),
        cell(v, col['Time zone']),
        cell(v, col['Post ID']),
        cell(v, col['Scheduled (UTC)']),
      ]);
    }
  }
  return { rows, contextRows };
}

/** The run request for `mode` on `snapshot`. */
export function buildRunRequest(
  mode: RunMode,
  snapshot: SheetSnapshot,
  workspaceId: string,
  settings: PlanSettings,
  choice: RowChoice,
): RunRequest {
  if (snapshot.rows.length === 0) {
    throw new AddonError(
      `The sheet "${snapshot.sheetName}" has no post rows below the header. Add a row per post and try again.`,
    );
  }
  const { rows, contextRows } = splitRows(snapshot, choice);
  const request: RunRequest = {
    mode,
    spreadsheetId: snapshot.spreadsheetId,
    sheetName: snapshot.sheetName,
    sheetId: snapshot.sheetId,
    spreadsheetTimeZone: snapshot.spreadsheetTimeZone,
    workspaceId,
    header: snapshot.header,
    rows,
    contextRows,
    settings,
  };
  if (choice.onlyKeys) request.onlyKeys = choice.onlyKeys;
  return request;
}
