/**
 * A publish through buildService against the Postato sandbox and the Sheets fake: the report (failed rows with reasons,
 * a row removed from the sheet), the "Postato runs" tab row, and the metrics it leaves behind.
 */
import { startServiceSheets } from './service-sheets-kit';
import request from 'supertest';
import type { SheetsFake } from '../../src/sandbox/sheets-fake';
import { startKit, type Kit, type KitRow } from '../runs/publish-test-kit';
import { RUNS_TAB_HEADER, RUNS_TAB_TITLE } from '../../src/sheets/runs-tab-writer';
import type { RunReport, RunStatusResponse } from '../../appsscript/shared/contract';
import { proveSheetAccess } from '../fakes/sheet-proof-helper';

const ROWS: KitRow[] = [{ key: 'k0' }, { key: 'k1' }, { key: 'k2' }, { key: 'k3', account: 'acc_unknown' }];

describe('run report, runs tab and metrics after a publish', () => {
  let fake: SheetsFake;
  let kit: Kit;
  let runId: string;
  let done: RunStatusResponse;

  beforeAll(async () => {
    const sheets = await startServiceSheets({ rows: ROWS, flushMs: 60_000 });
    fake = sheets.fake;
    kit = await startKit({ env: sheets.env });
    await proveSheetAccess(kit.sender(), fake, 'sheet-kit');
    // The manager deletes row k1 (sheet row 3) while the run is going: its result must not be written at a guess.
    fake.mutate('sheet-kit', 'Posts').deleteRow(3);

    const res = await kit.run('publish', ROWS);
    expect(res.status).toBe(202);
    runId = res.body.runId;
    done = await kit.waitDone(runId);
    // The run's end queues its tab row; wait until the recorder has written it.
    for (let i = 0; i < 100; i++) {
      await kit.service.runsTab!.idle();
      if (safeValues(fake, RUNS_TAB_TITLE).length >= 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 60_000);

  afterAll(async () => {
    await kit?.close();
    await fake?.close();
  });

  function safeValues(f: SheetsFake, tab: string): string[][] {
    try {
      return f.getValues('sheet-kit', tab);
    } catch {
      return [];
    }
  }

  test('the status of an ended run carries its report', () => {
    expect(done.state).toBe('done');
    expect(done.report?.runId).toBe(runId);
    expect(done.report?.counts.total).toBe(4);
  });

  test('the report lists the failed row with its reason and the row removed from the sheet', async () => {
    const res = await request(kit.service.app)
      .get(`/v1/runs/${runId}/report`)
      .set('X-Shared-Secret', kit.secret)
      .set('X-User-Id', 'manager');
    expect(res.status).toBe(200);
    const report = res.body as RunReport;
    expect(report.mode).toBe('publish');
    expect(report.state).toBe('done');
    expect(report.failedTotal).toBe(1);
    expect(report.failed).toEqual([
      { key: 'k3', rowNumber: 5, message: expect.stringMatching(/acc_unknown|account/i) },
    ]);
    expect(report.firstFailedLink).toBe('#gid=0&range=A5');
    expect(report.removed.map((r) => r.key)).toEqual(['k1']);
    expect(report.removed[0]!.message).toMatch(/gone from the sheet/);
    expect(report.warnings.some((w) => /deleted from the sheet/.test(w))).toBe(true);
    // k3 was INVALID in the plan: never sent, it counts as failed, as it is listed among the failed rows with its reason.
    expect(report.counts).toEqual({ total: 4, pending: 0, sent: 3, created: 3, failed: 1, skipped: 0 });
    expect(report.failedTotal).toBe(report.counts.failed);
    expect([report.spreadsheetId, report.sheetName, report.sheetId, report.runId]).toEqual([
      'sheet-kit',
      'Posts',
      0,
      runId,
    ]);
    // The duration is the run's own span in the ledger, to the tenth of a second, not a clock read by the report.
    const span = Date.parse(report.finishedAt!) - Date.parse(report.startedAt);
    expect(span).toBeGreaterThanOrEqual(0);
    expect(report.durationSeconds).toBe(Math.round(span / 100) / 10);
    expect(Date.parse(report.startedAt)).toBeLessThanOrEqual(Date.parse(report.finishedAt!));
  });

  test('another user gets the same 404 as for a run that does not exist', async () => {
    const other = await request(kit.service.app).get(`/v1/runs/${runId}/report`).set(kit.as('intruder'));
    const missing = await request(kit.service.app)
      .get('/v1/runs/run_nope/report')
      .set('X-Shared-Secret', kit.secret)
      .set('X-User-Id', 'manager');
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.body).toEqual(missing.body);
  });

  test('the run is appended to a "Postato runs" tab created with its header', () => {
    const tab = safeValues(fake, RUNS_TAB_TITLE);
    expect(tab[0]).toEqual([...RUNS_TAB_HEADER]);
    expect(tab).toHaveLength(2);
    const row = Object.fromEntries(RUNS_TAB_HEADER.map((h, i) => [h, tab[1]![i]]));
    expect(row.Run).toBe(runId);
    expect(row.Mode).toBe('publish');
    expect(row.Total).toBe('4');
    expect(row.Created).toBe('3');
    expect(row.Failed).toBe('1');
    expect(row.Removed).toBe('1');
    expect(row['First failed row']).toBe('https://docs.google.com/spreadsheets/d/sheet-kit/edit#gid=0&range=A5');
  });

  test('/metrics shows the created posts, no rows waiting and the Sheets requests, with tenants only as hashes', async () => {
    const res = await request(kit.service.app).get('/metrics');
    expect(res.status).toBe(200);
    const created = [...res.text.matchAll(/^postato_posts_created_total\{tenant="(tnt_[0-9a-f]+)"\} (\d+)$/gm)];
    expect(created).toHaveLength(1);
    expect(Number(created[0]![2])).toBe(3); // k1 was created too: only its sheet row was gone
    expect(res.text).not.toMatch(/smcp_/);
    expect(res.text).not.toMatch(/^postato_rows_waiting\{/m);
    expect(res.text).toMatch(/^postato_sheets_requests_total\{kind="write",outcome="ok"\} [1-9]/m);
    expect(res.text).toMatch(/^postato_writeback_lag_seconds 0$/m);
  });

  test('a run that ends with nothing to send is appended to the tab too', async () => {
    // Publishing the same rows again sends nothing (every row has a post): the run is done at once, no row finishes.
    const again = await kit.run('publish', ROWS.slice(0, 3));
    expect(again.status).toBe(202);
    const status = await kit.waitDone(again.body.runId);
    expect(status.counts.created).toBe(0);
    for (let i = 0; i < 100 && safeValues(fake, RUNS_TAB_TITLE).length < 3; i++) {
      await kit.service.runsTab!.idle();
      await new Promise((r) => setTimeout(r, 20));
    }
    const tab = safeValues(fake, RUNS_TAB_TITLE);
    expect(tab).toHaveLength(3);
    expect(tab[2]![RUNS_TAB_HEADER.indexOf('Run')]).toBe(again.body.runId);
  });
});
