/**
 * The end-of-run report built from the ledger alone (src/runs/run-report.ts), on a real SQLite ledger and a manual
 * clock: counts, exact duration, failed rows with their reasons and link, and the plan's warnings.
 */
import { ManualClock } from '../../src/clock';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import type { NewRun } from '../../src/ledger/run-ledger';
import { buildRunReport, rowLink } from '../../src/runs/run-report';
import { tempDbFile } from './publish-test-kit';

const START = Date.parse('2030-06-01T12:00:00Z');

const newRun = (summaryJson?: string): NewRun => ({
  ownerSubject: 'manager',
  mode: 'publish',
  spreadsheetId: 'sheet-report',
  sheetName: 'Posts',
  sheetId: 7,
  workspaceId: 'wks_1',
  tenantId: 'tnt_report',
  apiKeySealed: null,
  ...(summaryJson !== undefined ? { summaryJson } : {}),
  rows: [
    { rowKey: 'ok', rowNumber: 2, kind: 'create', state: 'pending', bodyJson: '{}', writeBack: true },
    { rowKey: 'late', rowNumber: 5, kind: 'create', state: 'pending', bodyJson: '{}', writeBack: true },
    { rowKey: 'bad', rowNumber: 3, kind: 'create', state: 'failed', sheetStatus: 'INVALID', writeBack: true },
    { rowKey: 'same', rowNumber: 4, kind: 'create', state: 'skipped', postId: 'pst_same', writeBack: false },
  ],
});

describe('buildRunReport', () => {
  let opened: OpenedLedger;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(START);
    opened = await openLedger(`sqlite:${tempDbFile()}`, clock);
  });
  afterEach(() => opened.close());

  /** Commits the run and settles its two pending rows: one created, one failed with a reason. */
  async function finishedRun(summaryJson?: string): Promise<string> {
    const { ledger } = opened;
    const { runId } = await ledger.createRun(newRun(summaryJson));
    const byKey = new Map<string, string>();
    for (let row = await ledger.claimNext('tnt_report', 'w', clock.now(), 1000); row;) {
      byKey.set(row.row_key, row.id);
      row = await ledger.claimNext('tnt_report', 'w', clock.now(), 1000);
    }
    await ledger.setResult(byKey.get('ok')!, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_ok' });
    await ledger.setResult(byKey.get('late')!, {
      state: 'failed',
      sheetStatus: 'FAILED',
      error: 'Postato rejected it: too long.',
    });
    clock.advance(12_345);
    expect(await ledger.finishRunIfComplete(runId)).toBe(true);
    return runId;
  }

  it('when a run ended, then the report has its counts, exact duration and failed rows in sheet order with a link to the first', async () => {
    const runId = await finishedRun();
    const report = (await buildRunReport(opened.ledger, runId))!;
    expect(report).toMatchObject({
      runId,
      mode: 'publish',
      state: 'done',
      spreadsheetId: 'sheet-report',
      sheetName: 'Posts',
      sheetId: 7,
      startedAt: new Date(START).toISOString(),
      finishedAt: new Date(START + 12_345).toISOString(),
      durationSeconds: 12.3,
      counts: { total: 4, pending: 0, created: 1, failed: 2, skipped: 1 },
      failedTotal: 2,
      removed: [],
      warnings: [],
      firstFailedLink: '#gid=7&range=A3',
    });
    expect(report.failed).toEqual([
      { key: 'bad', rowNumber: 3, message: 'The row is invalid; run the dry run to see why.' },
      { key: 'late', rowNumber: 5, message: 'Postato rejected it: too long.' },
    ]);
  });

  it('when the plan had warnings, then they are in the report; an unreadable summary loses only them', async () => {
    const withWarnings = await finishedRun(JSON.stringify({ warnings: ['Row 9 is in the past.', 42] }));
    expect((await buildRunReport(opened.ledger, withWarnings))!.warnings).toEqual(['Row 9 is in the past.']);
    const unreadable = await finishedRun('{not json');
    const report = (await buildRunReport(opened.ledger, unreadable))!;
    expect(report.warnings).toEqual([]);
    expect(report.counts.total).toBe(4);
  });

  it('when the run is still going, then its duration runs to the time asked for and it has no end time', async () => {
    const { runId } = await opened.ledger.createRun(newRun());
    const report = (await buildRunReport(opened.ledger, runId, { nowMs: START + 4_050 }))!;
    expect(report.state).not.toBe('done');
    expect(report.durationSeconds).toBe(4.1);
    expect(report.finishedAt).toBeUndefined();
    expect(report.counts.pending).toBe(2);
  });

  it('when no such run exists, then there is no report', async () => {
    expect(await buildRunReport(opened.ledger, 'run_missing')).toBeUndefined();
  });

  it('rowLink selects the row on its tab', () => {
    expect(rowLink(123, 42)).toBe('#gid=123&range=A42');
  });
});
