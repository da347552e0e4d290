/** A test double of the WriteBackStore port: results held in memory with versions, as the ledger holds them. */
import type { OutputColumn, PendingWrite, WriteBackStore } from '../../src/sheets/write-back-store';

interface Entry {
  latest: PendingWrite;
  writtenVersion: number;
  removed: boolean;
  duplicateRows?: number[];
}

export class InMemoryWriteBackStore implements WriteBackStore {
  readonly entries = new Map<string, Entry>();
  readonly access: Array<{ spreadsheetId: string; ok: boolean; message?: string }> = [];
  private order = 0;
  private readonly seq = new Map<string, number>();

  /** Records a new result of a row (a new version); it becomes pending. */
  put(r: {
    runId: string;
    spreadsheetId: string;
    sheetName: string;
    rowKey: string;
    values: Partial<Record<OutputColumn, string>>;
    /** The run's tenant and workspace (one default tenant unless a test names another). */
    scope?: string;
  }): void {
    const rowId = `${r.runId}:${r.rowKey}`;
    const prev = this.entries.get(rowId);
    const version = (prev?.latest.version ?? 0) + 1;
    this.seq.set(rowId, this.order++);
    this.entries.set(rowId, {
      latest: {
        rowId,
        runId: r.runId,
        spreadsheetId: r.spreadsheetId,
        sheetName: r.sheetName,
        sheetId: 0,
        rowKey: r.rowKey,
        values: r.values,
        version,
        scope: r.scope ?? 'tnt_default\u0000wks_default',
      },
      writtenVersion: prev?.writtenVersion ?? 0,
      removed: false,
    });
  }

  private isPending(e: Entry): boolean {
    return !e.removed && e.duplicateRows === undefined && e.writtenVersion < e.latest.version;
  }

  /** As the ledger orders them: the spreadsheet whose oldest pending result is oldest first. */
  async spreadsheetsWithPendingWrites(): Promise<string[]> {
    const oldest = new Map<string, number>();
    for (const e of this.entries.values()) {
      if (!this.isPending(e)) continue;
      const seq = this.seq.get(e.latest.rowId)!;
      oldest.set(e.latest.spreadsheetId, Math.min(seq, oldest.get(e.latest.spreadsheetId) ?? seq));
    }
    return [...oldest].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  }

  async pendingWrites(spreadsheetId: string, limit: number): Promise<PendingWrite[]> {
    return [...this.entries.values()]
      .filter((e) => e.latest.spreadsheetId === spreadsheetId && this.isPending(e))
      .sort((a, b) => this.seq.get(a.latest.rowId)! - this.seq.get(b.latest.rowId)!)
      .slice(0, limit)
      .map((e) => e.latest);
  }

  async markWritten(written: Array<{ rowId: string; version: number }>): Promise<void> {
    for (const w of written) {
      const e = this.entries.get(w.rowId)!;
      e.writtenVersion = Math.max(e.writtenVersion, w.version);
    }
  }

  async markRemoved(removed: Array<{ rowId: string; version: number }>): Promise<void> {
    for (const r of removed) {
      const e = this.entries.get(r.rowId)!;
      if (e.latest.version === r.version) e.removed = true;
    }
  }

  async markDuplicateKey(duplicates: Array<{ rowId: string; version: number; rowNumbers: number[] }>): Promise<void> {
    for (const d of duplicates) {
      const e = this.entries.get(d.rowId)!;
      if (e.latest.version === d.version) e.duplicateRows = d.rowNumbers;
    }
  }

  async recordSheetAccess(spreadsheetId: string, access: { ok: boolean; message?: string }): Promise<void> {
    this.access.push({ spreadsheetId, ...access });
  }

  async requeueRun(runId: string): Promise<number> {
    let n = 0;
    for (const e of this.entries.values()) {
      if (e.latest.runId !== runId) continue;
      e.writtenVersion = 0;
      e.removed = false;
      e.duplicateRows = undefined;
      n++;
    }
    return n;
  }

  /** Row ids by state, for assertions. */
  summary(): { pending: number; written: number; removed: string[]; duplicates: string[] } {
    const all = [...this.entries.values()];
    return {
      pending: all.filter((e) => this.isPending(e)).length,
      written: all.filter((e) => !e.removed && e.duplicateRows === undefined && e.writtenVersion === e.latest.version)
        .length,
      removed: all.filter((e) => e.removed).map((e) => e.latest.rowKey),
      duplicates: all.filter((e) => e.duplicateRows).map((e) => e.latest.rowKey),
    };
  }
}
