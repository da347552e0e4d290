/**
 * The port between the ledger (which holds every row result) and the write-back flusher (which copies them
 * into the sheet). The ledger implements it (src/runs/); the flusher (src/sheets/) only depends on this file.
 */

/** Output columns the write-back owns, by their contract names. */
export type OutputColumn = 'Status' | 'Post ID' | 'Error' | 'Scheduled (UTC)' | 'Link' | 'Run' | 'Updated';

/** One row result waiting to be written. */
export interface PendingWrite {
  /** Ledger id of the row (unique per run and row key). */
  rowId: string;
  runId: string;
  spreadsheetId: string;
  /** Title of the sheet (tab) the run read; the flusher re-reads its header and key column at flush time. */
  sheetName: string;
  sheetId: number;
  rowKey: string;
  /** Cell values to write; an absent column is left as it is, an empty string clears it. */
  values: Partial<Record<OutputColumn, string>>;
  /** Monotonic version of this row's result; markWritten only clears the version that was written. */
  version: number;
  /**
   * The tenant and workspace of the run (opaque): a sheet row shows the results of one tenant only, so two tenants'
   * pending results for the same key are never merged into one row.
   */
  scope: string;
}

export interface WriteBackStore {
  /** Spreadsheets that have results not yet written, the one whose oldest pending result is oldest first. */
  spreadsheetsWithPendingWrites(): Promise<string[]>;
  /** Pending results of one spreadsheet, oldest first, at most `limit`. */
  pendingWrites(spreadsheetId: string, limit: number): Promise<PendingWrite[]>;
  /** The given versions reached the sheet. A newer version of the same row stays pending. */
  markWritten(written: Array<{ rowId: string; version: number }>): Promise<void>;
  /**
   * The row key was not found in the sheet at flush time: the row is recorded as removed and not written. Each mark
   * (this and markDuplicateKey) is for the version read; a row with a newer result is left to the next flush.
   */
  markRemoved(removed: Array<{ rowId: string; version: number }>): Promise<void>;
  /** The row key appears on several rows: nothing but an error is written there, and the ledger says so. */
  markDuplicateKey(duplicates: Array<{ rowId: string; version: number; rowNumbers: number[] }>): Promise<void>;
  /** Records whether the service can write to the spreadsheet (403 → ok false with a message naming the account). */
  recordSheetAccess(spreadsheetId: string, access: { ok: boolean; message?: string }): Promise<void>;
  /** Queues every result of a run again (POST /v1/runs/:id/sync). */
  requeueRun(runId: string): Promise<number>;
}
