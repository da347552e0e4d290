/**
 * Stopping the service while its Sheets requests are answered 503 (Google having a bad minute at the end of a run):
 * close() does not wait out the retry backoffs (up to 20 s each, six attempts per request). Each request the stop
 * finds failing is sent once and given up; the results and the runs-tab row stay in the ledger, and the next start
 * writes them.
 */
import { startServiceSheets } from './service-sheets-kit';
import type { SheetsFake } from '../../src/sandbox/sheets-fake';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { ACCOUNTS, FAST_LIMITS, goodRows, startKit, tempDbFile } from '../runs/publish-test-kit';
import { proveSheetAccess } from '../fakes/sheet-proof-helper';
import { RUNS_TAB_HEADER, RUNS_TAB_TITLE } from '../../src/sheets/runs-tab-writer';
import { until } from '../wait-until';

const ROWS = goodRows(3);

describe('close() while Sheets answers 503', () => {
  let fake: SheetsFake;
  let sandbox: PostatoSandbox;

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ settings: { accounts: ACCOUNTS, limits: FAST_LIMITS }, tickIntervalMs: 0 });
  });

  afterAll(async () => {
    await fake?.close();
    await sandbox?.close();
  });

  test('resolves without retrying any request; the next start writes the results and the runs-tab row', async () => {
    const sheets = await startServiceSheets({ rows: ROWS });
    ({ fake } = sheets);
    const { env: sheetsEnv } = sheets;
    const dbFile = tempDbFile();
    const kit = await startKit({ dbFile, existingSandbox: sandbox, env: sheetsEnv });
    await proveSheetAccess(kit.sender(), fake, 'sheet-kit');

    // From now on every Sheets call gets a 503, and the first one (the write-back at the run's end) starts the stop.
    const before = fake.requestLog.length;
    fake.update({ faults: { share429: 0, share5xx: 1, applyTo: 'all' } });
    let closed: Promise<void> | undefined;
    fake.beforeNextCall(() => void (closed = kit.close()));
    const res = await kit.run('publish', ROWS, { spreadsheetId: 'sheet-kit' });
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;
    await until('the stop to begin', () => closed !== undefined);
    await closed;

    // Before the fix, each request was repeated after its backoff (six attempts each) and the stop waited for them.
    const failed = fake.requestLog.slice(before).filter((r) => r.kind !== 'token');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.status === 503)).toBe(true);
    expect(new Set(failed.map((r) => `${r.method} ${r.path}`)).size).toBe(failed.length);

    // The next start, with Sheets back, writes what the ledger kept.
    fake.update({ faults: { share429: 0, share5xx: 0 } });
    const next = await startKit({ dbFile, existingSandbox: sandbox, env: sheetsEnv });
    try {
      await next.service.flusher!.drain();
      const [header, ...rows] = fake.getValues('sheet-kit', 'Posts');
      const postId = header!.indexOf('Post ID');
      const posted = await next.results(runId);
      expect(rows.map((r) => r[postId])).toEqual(ROWS.map((r) => posted.get(r.key)?.postId));
      expect(rows.every((r) => (r[postId] ?? '') !== '')).toBe(true);
      await next.service.runsTab!.idle();
      expect(fake.getValues('sheet-kit', RUNS_TAB_TITLE).map((r) => r[0])).toEqual([RUNS_TAB_HEADER[0], runId]);
    } finally {
      await next.close();
    }
  }, 60_000);
});
