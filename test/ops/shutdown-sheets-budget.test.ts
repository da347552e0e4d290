/**
 * Stopping the service while the Sheets request budget is exhausted (a many-sheet publish spends the service
 * account's 60 requests per minute on final write-backs and runs-tab rows): close() does not wait for the quota window
 * to free a slot. The results the ledger holds are written to the sheet, and the ended run added to its "Postato runs" tab, at the next start.
 */
import { startServiceSheets } from './service-sheets-kit';
import type { SheetsFake } from '../../src/sandbox/sheets-fake';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { createLogger } from '../../src/logger';
import { ACCOUNTS, FAST_LIMITS, goodRows, startKit, tempDbFile } from '../runs/publish-test-kit';
import { proveSheetAccess } from '../fakes/sheet-proof-helper';
import { RUNS_TAB_HEADER, RUNS_TAB_TITLE } from '../../src/sheets/runs-tab-writer';

const ROWS = goodRows(3);

describe('close() with the Sheets request budget exhausted', () => {
  let fake: SheetsFake;
  let sandbox: PostatoSandbox;

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ settings: { accounts: ACCOUNTS, limits: FAST_LIMITS }, tickIntervalMs: 0 });
  });

  afterAll(async () => {
    await fake?.close();
    await sandbox?.close();
  });

  test('resolves while the budget is still exhausted; the next start writes the results from the ledger', async () => {
    const sheets = await startServiceSheets({ rows: ROWS });
    ({ fake } = sheets);
    const { sa, env: sheetsEnv } = sheets;
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const dbFile = tempDbFile();
    // One read per hour: the proof of access spends it, so the write-back at the run's end (and the runs-tab row after
    // it) would wait most of an hour for a slot.
    const kit = await startKit({
      dbFile,
      existingSandbox: sandbox,
      env: { ...sheetsEnv, SHEETS_READS_PER_MINUTE: '1', SHEETS_WRITE_WINDOW_MS: String(3_600_000) },
      overrides: { logger },
    });
    await proveSheetAccess(kit.sender(), fake, 'sheet-kit');
    const res = await kit.run('publish', ROWS, { spreadsheetId: 'sheet-kit' });
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;
    const done = await kit.waitDone(runId);
    expect(done.counts.created).toBe(ROWS.length);
    expect(await kit.service.writeBackStore.spreadsheetsWithPendingWrites()).toEqual(['sheet-kit']);

    // Before the fix this waited for the budget window (an hour) and the test timed out.
    await kit.close();
    // Nothing was written: no results, no runs tab.
    expect(fake.stats(sa.email)).toMatchObject({ reads: 1, writes: 0 });
    const stopLine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => /Sheets request budget/.test(String(l.msg)));
    expect(stopLine).toMatchObject({ spreadsheets: 1, runsNotInTab: 1 });

    // The next start, with a fresh budget, writes the results the ledger kept.
    const next = await startKit({ dbFile, existingSandbox: sandbox, env: sheetsEnv });
    try {
      await next.service.flusher!.drain();
      const [header, ...rows] = fake.getValues('sheet-kit', 'Posts');
      const postId = header!.indexOf('Post ID');
      const posted = await next.results(runId);
      expect(rows.map((r) => r[postId])).toEqual(ROWS.map((r) => posted.get(r.key)?.postId));
      expect(rows.every((r) => (r[postId] ?? '') !== '')).toBe(true);
      // The run the stop left out of the "Postato runs" tab is recorded once, from the ledger.
      await next.service.runsTab!.idle();
      const tab = fake.getValues('sheet-kit', RUNS_TAB_TITLE);
      expect(tab.map((r) => r[0])).toEqual([RUNS_TAB_HEADER[0], runId]);
      expect(await next.service.ledger.runsTabDue(10)).toEqual([]);
    } finally {
      await next.close();
    }
  }, 30_000);
});
