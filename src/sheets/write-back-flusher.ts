/**
 * The write-back flusher copies row results from the ledger into their sheets, per spreadsheet, every few seconds or
 * every N results. Rows are found by key at flush time (one read); each write asks for its echo, which shows every
 * written row's key right after the write, so a sheet that did not move costs one read and one write per flush. If
 * rows moved in between, the flusher reads again and repairs every cell it may have put on the wrong row before
 * anything is marked written.
 */
import type { Clock } from '../clock';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { OutputColumn, PendingWrite, WriteBackStore } from './write-back-store';
import type { SheetColumns, SheetsClient, WriteRange } from './sheets-client';
import {
  OUTPUT_COLUMNS,
  duplicateKeyMessage,
  echoConfirmsRows,
  planCellWrites,
  rowsByKey,
  withOutputColumns,
} from './write-back-plan';
import type { SpreadsheetLock } from './spreadsheet-lock';
import { BudgetClosedError } from './write-budget';
import { hasGoogleSheet } from '../plan/campaign-source';

export interface WriteBackFlusherOptions {
  store: WriteBackStore;
  /** The Sheets client to use for a spreadsheet (it holds the write budget and the credentials). */
  sheetsFor: (spreadsheetId: string) => SheetsClient;
  clock: Clock;
  logger: Logger;
  /** Time between flushes of the background loop (WRITEBACK_FLUSH_MS). */
  flushEveryMs: number;
  /** Results per flush, and the count of new results that triggers an early flush (WRITEBACK_FLUSH_ROWS). */
  flushRows: number;
  /** Write-and-verify rounds per flush before giving up until the next flush (default 4). */
  maxRounds?: number;
  /** How long writes to a spreadsheet pause after Google answered 403 (default 60 s). */
  forbiddenPauseMs?: number;
  /**
   * How long the background loop may hold a spreadsheet's results back while more keep arriving (default
   * 4 × flushEveryMs). Results come in bursts (a tenant's allowance at the start of each Postato window); writing
   * once per burst instead of once per tick keeps Sheets requests per row low.
   */
  maxHoldMs?: number;
  /** Keeps other instances' flushers off a spreadsheet while this one writes it (scale-out tier). */
  lock?: SpreadsheetLock;
}

/** What one flush of one spreadsheet did. */
export interface FlushOutcome {
  spreadsheetId: string;
  written: number;
  removed: number;
  duplicates: number;
  /** Results left pending (an error, a pause after 403, or rows that kept moving). */
  leftPending: number;
  /** Results of a campaign without a sheet (CSV), settled without any Sheets request. */
  noSheet?: number;
  requests: { reads: number; writes: number };
  /** Results the background loop held back because more were still arriving (a later tick writes them). */
  held?: number;
  /** The service is stopping and the Sheets budget had no free slot: the results stay pending for the next start. */
  budgetClosed?: boolean;
  error?: string;
}

/** Copies ledger results into sheets; one flush at a time, in the order they were asked for. */
export class WriteBackFlusher {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = true;
  /** Set by stop(): a flush in progress skips the spreadsheets it has not reached (their results stay pending). */
  private closed = false;
  private readonly pausedUntil = new Map<string, number>();
  private readonly accessOk = new Map<string, boolean>();
  private readonly newResults = new Map<string, number>();
  /** Per spreadsheet, the pending count the background loop saw last and since when it has kept growing. */
  private readonly arriving = new Map<string, { count: number; since: number }>();
  /** When the background loop's previous and current passes started (a pass slowed by the budget can be long). */
  private passStartedAt: { previous?: number; current?: number } = {};
  /**
   * Per sheet, what the flusher knows each key's output cells should hold (written and confirmed, or read before a
   * write). A repair trusts this over a read, because a read taken after a misplaced write shows the damage.
   */
  private readonly known = new Map<string, Map<string, Record<string, string>>>();

  constructor(private readonly opts: WriteBackFlusherOptions) {}

  /** Starts the background loop (again, after a stop: flushes write again). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.closed = false;
    this.schedule();
  }

  /** Stops the loop and waits for the flush in flight; no new flush starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
  }

  /** Tells the flusher that results arrived; reaching flushRows new results flushes that spreadsheet early. */
  notifyResults(spreadsheetId: string, count = 1): void {
    const n = (this.newResults.get(spreadsheetId) ?? 0) + count;
    this.newResults.set(spreadsheetId, n);
    if (n >= this.opts.flushRows && !this.stopped) void this.flushNow(spreadsheetId).catch(() => undefined);
  }

  /** Flushes one spreadsheet (or every spreadsheet with pending results) once, now. */
  flushNow(spreadsheetId?: string): Promise<FlushOutcome[]> {
    return this.flushIds(spreadsheetId, false);
  }

  /**
   * What the background loop does every flushEveryMs: flushes every spreadsheet with pending results, except one
   * whose pending results grew since the last tick (a burst still arriving), held back at most maxHoldMs.
   */
  flushDue(): Promise<FlushOutcome[]> {
    return this.flushIds(undefined, true);
  }

  private flushIds(spreadsheetId: string | undefined, patient: boolean): Promise<FlushOutcome[]> {
    const run = async () => {
      if (patient) this.passStartedAt = { previous: this.passStartedAt.current, current: this.opts.clock.now() };
      const ids = spreadsheetId ? [spreadsheetId] : await this.opts.store.spreadsheetsWithPendingWrites();
      const outcomes: FlushOutcome[] = [];
      for (const id of ids) {
        if (this.closed) break;
        const outcome = await this.flushSpreadsheet(id, patient);
        outcomes.push(outcome);
        // The service is stopping and the budget has no slot left: the other spreadsheets would not get one either.
        if (outcome.budgetClosed) break;
      }
      return outcomes;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Flushes until nothing is pending or a flush makes no progress (tests, sync, shutdown). */
  async drain(spreadsheetId?: string, maxFlushes = 100): Promise<FlushOutcome[]> {
    const all: FlushOutcome[] = [];
    for (let i = 0; i < maxFlushes; i++) {
      const outcomes = await this.flushNow(spreadsheetId);
      all.push(...outcomes);
      const done = (o: FlushOutcome) => o.written + o.removed + o.duplicates + (o.noSheet ?? 0);
      const progress = outcomes.some((o) => done(o) > 0);
      const pending = outcomes.some((o) => o.leftPending > 0 || done(o) >= this.opts.flushRows);
      if (!pending || !progress) break;
    }
    return all;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.flushDue()
        .catch((err) => this.opts.logger.error({ err: { message: (err as Error).message } }, 'write-back loop failed'))
        .finally(() => this.schedule());
    }, this.opts.flushEveryMs);
    this.timer.unref?.();
  }

  private async flushSpreadsheet(spreadsheetId: string, patient: boolean): Promise<FlushOutcome> {
    if (!this.opts.lock) return this.flushSpreadsheetLocked(spreadsheetId, patient);
    const release = await this.opts.lock.tryLock(spreadsheetId);
    if (!release) {
      // Another instance is writing this spreadsheet; its flush (or our next one) takes these results.
      return {
        spreadsheetId,
        written: 0,
        removed: 0,
        duplicates: 0,
        leftPending: 0,
        requests: { reads: 0, writes: 0 },
      };
    }
    try {
      // Other instances wrote this spreadsheet since our last flush: what we remembered about its rows may be stale,
      // and a repair from stale memory would undo their writes. Start from what this flush reads.
      for (const key of this.known.keys()) if (key.startsWith(`${spreadsheetId}\u0000`)) this.known.delete(key);
      return await this.flushSpreadsheetLocked(spreadsheetId, patient);
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async flushSpreadsheetLocked(spreadsheetId: string, patient: boolean): Promise<FlushOutcome> {
    const outcome: FlushOutcome = {
      spreadsheetId,
      written: 0,
      removed: 0,
      duplicates: 0,
      leftPending: 0,
      requests: { reads: 0, writes: 0 },
    };
    this.newResults.delete(spreadsheetId);
    const pending = await this.opts.store.pendingWrites(spreadsheetId, this.opts.flushRows);
    if (pending.length === 0) {
      this.arriving.delete(spreadsheetId);
      return outcome;
    }
    if (patient && this.stillArriving(spreadsheetId, pending.length)) {
      outcome.held = pending.length;
      return outcome;
    }
    this.arriving.delete(spreadsheetId);
    if (!hasGoogleSheet(spreadsheetId)) {
      // A CSV campaign has no sheet: its results are read through GET /v1/runs/:id, so there is nothing to write.
      await this.opts.store.markWritten(pending);
      outcome.noSheet = pending.length;
      return outcome;
    }
    const paused = this.pausedUntil.get(spreadsheetId);
    if (paused !== undefined && this.opts.clock.now() < paused) {
      outcome.leftPending = pending.length;
      return outcome;
    }
    const bySheet = new Map<string, PendingWrite[]>();
    for (const p of pending) {
      const list = bySheet.get(p.sheetName);
      if (list) list.push(p);
      else bySheet.set(p.sheetName, [p]);
    }
    const client = this.opts.sheetsFor(spreadsheetId);
    for (const [sheetName, items] of bySheet) {
      try {
        await this.flushSheet(client, spreadsheetId, sheetName, items, outcome);
      } catch (err) {
        outcome.leftPending += items.length;
        if (err instanceof BudgetClosedError) {
          outcome.budgetClosed = true;
          outcome.error = err.message;
          break;
        }
        outcome.error = err instanceof AppError ? err.message : 'unexpected error';
        await this.onError(spreadsheetId, sheetName, err);
        if (err instanceof AppError && err.code === 'sheets_forbidden') break;
      }
    }
    // Memory is for repairs within a busy stretch: once a spreadsheet has nothing left to write, forget it, so a
    // long-running service does not keep every sheet it ever wrote.
    if (outcome.leftPending === 0 && !outcome.error && pending.length < this.opts.flushRows) {
      for (const sheetName of bySheet.keys()) this.known.delete(`${spreadsheetId}\u0000${sheetName}`);
    }
    return outcome;
  }

  /**
   * Whether the loop should wait: fewer than flushRows results, more than last tick, not held for maxHoldMs yet. Results
   * first seen in this pass may have waited since the previous pass started: when that pass was long (the write
   * budget spreads a pass of many sheets out), holding them for the next one would make them wait two passes.
   */
  private stillArriving(spreadsheetId: string, count: number): boolean {
    const now = this.opts.clock.now();
    const seen = this.arriving.get(spreadsheetId);
    const since = seen?.since ?? this.passStartedAt.previous ?? now;
    const growing = seen === undefined || count > seen.count;
    if (count >= this.opts.flushRows || !growing || now - since >= (this.opts.maxHoldMs ?? 4 * this.opts.flushEveryMs))
      return false;
    this.arriving.set(spreadsheetId, { count, since });
    return true;
  }

  private async onError(spreadsheetId: string, sheetName: string, err: unknown): Promise<void> {
    const code = err instanceof AppError ? err.code : 'unexpected';
    const message = err instanceof AppError ? err.message : 'An unexpected error stopped the write-back.';
    this.opts.logger.warn(
      { spreadsheetId, sheetName, code, message },
      'write-back flush failed; results stay in the ledger',
    );
    if (code === 'sheets_forbidden' || code === 'sheets_key_column_missing' || code === 'sheets_not_found') {
      // Writing again at once would fail the same way; results wait in the ledger until the user fixes it.
      this.pausedUntil.set(spreadsheetId, this.opts.clock.now() + (this.opts.forbiddenPauseMs ?? 60_000));
      this.accessOk.set(spreadsheetId, false);
      await this.opts.store.recordSheetAccess(spreadsheetId, { ok: false, message });
    }
  }

  /**
   * One sheet: read keys and output columns, write the changed cells with their echo; when the echo shows that rows
   * moved in between, read again and write what each key's row must show (its results, or what it held before)
   * until an echo (or a read with nothing left to change) confirms it.
   */
  private async flushSheet(
    client: SheetsClient,
    spreadsheetId: string,
    sheetName: string,
    items: PendingWrite[],
    outcome: FlushOutcome,
  ): Promise<void> {
    const maxRounds = this.opts.maxRounds ?? 4;
    const read = async (): Promise<SheetColumns> => {
      outcome.requests.reads++;
      return client.readColumns(spreadsheetId, sheetName, [...OUTPUT_COLUMNS]);
    };
    const first = await read();
    const firstRows = rowsByKey(first.keys);

    // What each key should show. The newest pending result of a key wins (items come oldest first), and only results
    // of that result's tenant and workspace are merged into it: a row never shows one tenant's Post ID beside another
    // tenant's status. Older results of another tenant for the key are superseded (settled as written).
    const scopeOfKey = new Map<string, string>();
    for (const p of items) scopeOfKey.set(p.rowKey.trim(), p.scope);
    const targets = new Map<string, Record<string, string>>();
    const touched = new Set<string>();
    for (const p of items) {
      const rows = firstRows.get(p.rowKey.trim());
      if (!rows || rows.length !== 1 || scopeOfKey.get(p.rowKey.trim()) !== p.scope) continue;
      const t = targets.get(p.rowKey.trim()) ?? {};
      for (const [col, v] of Object.entries(p.values) as Array<[OutputColumn, string | undefined]>) {
        if (v === undefined) continue;
        t[col] = v;
        touched.add(col);
      }
      targets.set(p.rowKey.trim(), t);
    }
    const duplicateKeys = new Set(items.map((p) => p.rowKey.trim()).filter((k) => (firstRows.get(k)?.length ?? 0) > 1));
    if (duplicateKeys.size) touched.add('Error');

    // What every other key's row should keep, to undo a write that landed there because rows moved.
    const knownKey = `${spreadsheetId}\u0000${sheetName}`;
    const sheetKnown = this.known.get(knownKey) ?? new Map<string, Record<string, string>>();
    this.known.set(knownKey, sheetKnown);
    const before = new Map<string, Record<string, string>>();
    first.keys.forEach((k, i) => {
      const key = k.trim();
      if (i === 0 || key === '' || targets.has(key) || duplicateKeys.has(key)) return;
      const remembered = sheetKnown.get(key) ?? {};
      const rec: Record<string, string> = {};
      for (const col of touched) rec[col] = remembered[col] ?? first.columns.get(col)?.[i] ?? '';
      before.set(key, rec);
      sheetKnown.set(key, { ...remembered, ...rec });
    });

    let current = first;
    for (let round = 0; round < maxRounds; round++) {
      const { header, writes: headerWrites } = withOutputColumns(current.header, sheetName, touched);
      const rows = rowsByKey(current.keys);
      const { writes, rows: planned } = planCellWrites(
        sheetName,
        header,
        current,
        (key) => {
          if (duplicateKeys.has(key)) {
            const at = rows.get(key) ?? [];
            return at.length > 1 ? { Error: duplicateKeyMessage(key, at) } : null;
          }
          const t = targets.get(key);
          if (t) return t;
          if (round === 0) return null;
          // A row that was not there at the first read may have received a misplaced write: clear what we wrote.
          return before.get(key) ?? Object.fromEntries([...touched].map((c) => [c, '']));
        },
        // Every row range spans the Key cell, so the write's echo shows whether the row still holds its key.
        { spanColumn: current.keyColumn },
      );
      const all: WriteRange[] = [...headerWrites, ...writes];
      if (all.length === 0) {
        await this.settle(items, current, targets, duplicateKeys, outcome);
        for (const [key, t] of targets) sheetKnown.set(key, { ...sheetKnown.get(key), ...t });
        return;
      }
      outcome.requests.writes++;
      const { echo = [] } = await client.batchWrite(spreadsheetId, all, { echo: true });
      if (this.accessOk.get(spreadsheetId) !== true) {
        this.accessOk.set(spreadsheetId, true);
        this.pausedUntil.delete(spreadsheetId);
        await this.opts.store.recordSheetAccess(spreadsheetId, { ok: true });
      }
      if (echoConfirmsRows(planned, current.keyColumn, echo.slice(headerWrites.length))) {
        // Every cell went to the row that held its key at that moment: nothing can have landed on another row, and
        // what this read showed (with our writes on top) is what the sheet holds. No confirming read is needed.
        await this.settle(items, current, targets, duplicateKeys, outcome);
        for (const [key, t] of targets) sheetKnown.set(key, { ...sheetKnown.get(key), ...t });
        return;
      }
      current = await read();
    }
    this.opts.logger.warn(
      { spreadsheetId, sheetName, rounds: maxRounds },
      'rows kept moving during the write-back; retrying at the next flush',
    );
    outcome.leftPending += items.length;
  }

  /** Marks results by what the confirming read shows: written, removed (key gone) or duplicate key. */
  private async settle(
    items: PendingWrite[],
    confirmed: SheetColumns,
    targets: Map<string, Record<string, string>>,
    duplicateKeys: Set<string>,
    outcome: FlushOutcome,
  ): Promise<void> {
    const rows = rowsByKey(confirmed.keys);
    const written: Array<{ rowId: string; version: number }> = [];
    const removed: Array<{ rowId: string; version: number }> = [];
    const duplicates: Array<{ rowId: string; version: number; rowNumbers: number[] }> = [];
    for (const p of items) {
      const key = p.rowKey.trim();
      const at = rows.get(key) ?? [];
      if (at.length === 0) removed.push({ rowId: p.rowId, version: p.version });
      else if (at.length > 1 && duplicateKeys.has(key))
        duplicates.push({ rowId: p.rowId, version: p.version, rowNumbers: at });
      else if (at.length === 1 && targets.has(key)) written.push({ rowId: p.rowId, version: p.version });
      else outcome.leftPending++; // the key (re)appeared or became unique mid-flush: the next flush decides
    }
    if (written.length) await this.opts.store.markWritten(written);
    if (removed.length) await this.opts.store.markRemoved(removed);
    if (duplicates.length) await this.opts.store.markDuplicateKey(duplicates);
    outcome.written += written.length;
    outcome.removed += removed.length;
    outcome.duplicates += duplicates.length;
  }
}
