/**
 * The Sheets side of the contract suite: a Sheets fake with a throwaway service account, the service kit wired to it
 * on a given tier, and helpers that load a sheet and read it back by row key.
 */
import { startSheetsFake, type SheetsFake } from '../../src/sandbox/sheets-fake';
import { makeFakeServiceAccount, withTokenUri } from '../sheets/fake-service-account';
import { HEADER, rowsOf, startKit, type Kit, type KitRow } from '../runs/publish-test-kit';
import type { TestTier } from './tier-kit';
import { proveSheetAccess } from '../fakes/sheet-proof-helper';

/** The Sheets write budget of these tests: a low limit on a compressed window that the fake measures with too. */
export const SHEETS_BUDGET = { writesPerWindow: 20, windowMs: 2000 };

/** The tab every run of the kit reads (publish-test-kit sends sheetName 'Posts'). */
export const SHEET_NAME = 'Posts';

/** A service on a tier that writes results back into a Sheets fake. */
export interface WriteBackKit {
  kit: Kit;
  fake: SheetsFake;
  /** The service account's email: its requests are the ones the Sheets budgets cover (users' proofs are not). */
  serviceAccountEmail: string;
  /**
   * Puts rows into a new spreadsheet of the fake, in the order and row numbers the run request uses, and proves the
   * kit's organisation can edit it (as the add-on does before its first run).
   */
  loadSheet(spreadsheetId: string, rows: KitRow[]): Promise<void>;
  /** The data rows as they stand in the fake now, each as column name → text, by key. */
  rowsByKey(spreadsheetId: string): Map<string, Record<string, string>>;
  /** Waits for the run to end, then flushes until no result of that spreadsheet waits for the sheet. */
  settle(runId: string, spreadsheetId: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the Sheets fake and the service on the tier; results are flushed every few results (WRITEBACK_FLUSH_ROWS). */
export async function startWriteBackKit(tier: TestTier, o: { flushRows: number }): Promise<WriteBackKit> {
  const sa = makeFakeServiceAccount();
  const fake = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem, windowMs: SHEETS_BUDGET.windowMs });
  let kit: Kit;
  try {
    kit = await startKit({
      env: {
        ...tier.env,
        SHEETS_API_URL: fake.url,
        GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(withTokenUri(sa, fake.tokenUrl)),
        WRITEBACK_FLUSH_MS: '100',
        WRITEBACK_FLUSH_ROWS: String(o.flushRows),
        SHEETS_WRITES_PER_MINUTE: String(SHEETS_BUDGET.writesPerWindow),
        SHEETS_WRITE_WINDOW_MS: String(SHEETS_BUDGET.windowMs),
      },
    });
  } catch (err) {
    await fake.close();
    throw err;
  }

  return {
    kit,
    fake,
    serviceAccountEmail: sa.email,
    async loadSheet(spreadsheetId, rows) {
      const cells = [HEADER, ...rowsOf(rows).map((r) => r.values.map(String))];
      const csv =
        cells.map((row) => row.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') +
        '\n';
      fake.loadCsv(spreadsheetId, SHEET_NAME, csv);
      await proveSheetAccess(kit.sender(), fake, spreadsheetId);
    },
    rowsByKey(spreadsheetId) {
      const [header = [], ...data] = fake.getValues(spreadsheetId, SHEET_NAME);
      const out = new Map<string, Record<string, string>>();
      for (const row of data) {
        const rec = Object.fromEntries(header.map((h, i) => [h, row[i] ?? '']));
        if (rec.Key) out.set(rec.Key, rec);
      }
      return out;
    },
    async settle(runId, spreadsheetId) {
      const done = await kit.waitDone(runId, 60_000);
      if (done.state !== 'done') throw new Error(`run ${runId} ended ${done.state}`);
      const flusher = kit.service.flusher!;
      for (let i = 0; i < 50; i++) {
        await flusher.drain(spreadsheetId);
        const left = await kit.service.writeBackStore.pendingWrites(spreadsheetId, 1);
        if (left.length === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`results of ${spreadsheetId} still wait for the sheet`);
    },
    async close() {
      await kit.close();
      await fake.close();
    },
  };
}
