/**
 * The optional Approved column end to end over real HTTP: the service, the Postato sandbox and the Sheets fake on
 * loopback. An unticked row is never sent; a row edited after its tick is held back until it is approved again; the run
 * report says who approved what and when.
 */
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import type { CellValue, DryRunResponse, RunAccepted, RunReport } from '../../appsscript/shared/contract';
import { demoStackTab } from '../demo-stack-client';

const SPREADSHEET = 'ss-approved-column-e2e';
const SHEET = 'Campaign';
const WORKSPACE = 'wks_approved_e2e';

describe('the Approved column', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({
      sandboxSettings: {
        accounts: [
          { id: 'acc_appr', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' },
        ],
      },
      env: { REQUESTS_PER_MINUTE: '100000' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const { call, rowOf, runEnded } = demoStackTab(() => stack, {
    spreadsheetId: SPREADSHEET,
    sheetName: SHEET,
    workspaceId: WORKSPACE,
  });
  const header = [...INPUT_COLUMNS, 'Approved', ...OUTPUT_COLUMNS] as string[];
  const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  const sheetRows: CellValue[][] = [
    header,
    ['r-ok', 'x', 'acc_appr', '', 'Signed-off launch post', '', `${day} 10:00`, '', '', '', true],
    ['r-no', 'x', 'acc_appr', '', 'Draft nobody signed off', '', `${day} 11:00`, '', '', '', false],
    ['r-edit', 'x', 'acc_appr', '', 'Approved wording', '', `${day} 12:00`, '', '', '', true],
  ].map((r) => header.map((_, i) => (r[i] ?? '') as CellValue));
  const request = (mode: 'dry-run' | 'publish' | 'draft') => ({
    mode,
    spreadsheetId: SPREADSHEET,
    sheetName: SHEET,
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: WORKSPACE,
    header,
    rows: sheetRows.slice(1).map((values, i) => ({ rowNumber: i + 2, values })),
  });
  const setCell = (key: string, column: string, value: CellValue) => {
    sheetRows.find((r) => r[0] === key)![header.indexOf(column)] = value;
  };
  const publish = async (mode: 'publish' | 'draft' = 'publish') => {
    const accepted = await call<RunAccepted>('POST', '/v1/runs', request(mode));
    expect(accepted.status).toBe(202);
    await runEnded(accepted.body.runId);
    await stack.service.flusher!.drain(SPREADSHEET);
    return accepted.body.runId;
  };
  const posts = () => stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE);
  const texts = () => posts().map((p) => (p.content as Array<{ text: string }>)[0]!.text);

  it('sends only approved rows, holds back a row edited after its approval, and names the approver in the report', async () => {
    stack.sheets.loadCsv(SPREADSHEET, SHEET, header.join(','), { timeZone: 'America/New_York' });
    stack.sheets.setValues(
      SPREADSHEET,
      SHEET,
      sheetRows.map((r) => r.map((c) => String(c ?? ''))),
    );
    await stack.proveAccess(SPREADSHEET);

    // The dry run lists the unticked row and records the ticks it sees.
    const dry = await call<DryRunResponse>('POST', '/v1/runs', request('dry-run'));
    expect(dry.status).toBe(200);
    expect(dry.body.summary.unapproved).toEqual([{ rowNumber: 3, key: 'r-no', reason: 'unapproved' }]);
    expect(dry.body.summary.toSend).toBe(2);
    expect(
      dry.body.rows
        .find((r) => r.key === 'r-no')
        ?.messages.map((m) => m.message)
        .join(' '),
    ).toContain('Approved: not ticked');

    // Someone edits an approved row after the tick was seen; Publish holds it back and never sends the unticked one.
    setCell('r-edit', 'Content', 'Wording changed after approval');
    const runId = await publish();
    expect(texts()).toEqual(['Signed-off launch post']);
    expect(rowOf('r-ok').Status).toBe('SCHEDULED');
    expect(rowOf('r-no')['Post ID']).toBe('');
    expect(rowOf('r-no').Error).toContain('Approved: not ticked');
    expect(rowOf('r-edit')['Post ID']).toBe('');
    expect(rowOf('r-edit').Error).toContain('edited after it was approved');

    const report = await call<RunReport>('GET', `/v1/runs/${runId}/report`);
    expect(report.body.approved).toEqual([
      { key: 'r-ok', rowNumber: 2, approvedBy: expect.any(String) as string, approvedAt: expect.any(String) as string },
    ]);
    expect(Date.parse(report.body.approved![0]!.approvedAt)).toBeLessThanOrEqual(Date.now());

    // A second Publish still holds both back: the edit is not approved until the box is ticked again.
    await publish();
    expect(posts()).toHaveLength(1);

    // Untick, look (dry run), tick again: the new content is approved and goes out; the unticked row never does.
    setCell('r-edit', 'Approved', false);
    expect((await call<DryRunResponse>('POST', '/v1/runs', request('dry-run'))).body.summary.unapproved).toHaveLength(
      2,
    );
    setCell('r-edit', 'Approved', true);
    await publish();
    expect(texts().sort()).toEqual(['Signed-off launch post', 'Wording changed after approval']);
    expect(rowOf('r-edit').Status).toBe('SCHEDULED');
    expect(rowOf('r-no')['Post ID']).toBe('');
  });

  it('sends unapproved rows as drafts for review, and Publish schedules only the drafts approved since', async () => {
    // Same sheet id, fresh rows: r-d1 is ticked, r-d2 is not; both become drafts (a draft delivers nothing).
    sheetRows.splice(1, sheetRows.length - 1);
    sheetRows.push(
      ...[
        ['r-d1', 'x', 'acc_appr', '', 'Draft for review one', '', `${day} 14:00`, '', '', '', true],
        ['r-d2', 'x', 'acc_appr', '', 'Draft for review two', '', `${day} 15:00`, '', '', '', false],
      ].map((r) => header.map((_, i) => (r[i] ?? '') as CellValue)),
    );
    stack.sheets.setValues(
      SPREADSHEET,
      SHEET,
      sheetRows.map((r) => r.map((c) => String(c ?? ''))),
    );
    const before = posts().length;
    await publish('draft');
    const drafts = () =>
      posts().filter((p) => String((p.content as Array<{ text: string }>)[0]!.text).startsWith('Draft for'));
    expect(posts()).toHaveLength(before + 2);
    expect(drafts().map((p) => p.status)).toEqual(['draft', 'draft']);
    expect(rowOf('r-d2').Status).toBe('DRAFT');

    // Publish: the approved draft is scheduled; the unticked one stays a draft and its Error cell says why.
    const byText = (t: string) => drafts().find((p) => (p.content as Array<{ text: string }>)[0]!.text === t)!;
    await publish();
    expect(byText('Draft for review one').status).toBe('scheduled');
    expect(byText('Draft for review two').status).toBe('draft');
    expect(rowOf('r-d2').Status).toBe('DRAFT');
    expect(rowOf('r-d2').Error).toContain('Approved: not ticked');

    // Ticked later, the second draft is scheduled too (Publish sees the tick), never created again.
    setCell('r-d2', 'Approved', true);
    await publish();
    expect(byText('Draft for review two').status).toBe('scheduled');
    expect(posts()).toHaveLength(before + 2);
  });
});
