/** Dry-run verdicts reach the sheet: through the real service, googleapis and the Sheets fake. */
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { verdictCells } from '../../src/sheets/dry-run-verdict-writer';
import type { PlannedRow, PlannedRun } from '../../src/plan/sheet-planner';
import type { RowVerdict } from '../../appsscript/shared/contract';

const SHEET_ID = 'verdicts-sheet';
const TAB = 'Posts';
const HEADER = 'Key,Platform,Account,Post type,Content,Scheduled at,Status,Post ID,Error';
const CSV = [
  HEADER,
  'good,x,acc_tw,,Hello from the dry run,,,,',
  'bad,x,acc_tw,,,,,,',
  'posted,x,acc_tw,,Already out,,SCHEDULED,pst_01EXISTING,',
].join('\n');

describe('dry-run verdicts in the sheet', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({
      sandboxSettings: {
        accounts: [{ id: 'acc_tw', workspaceId: 'wks_v', platform: 'twitter', username: 'brand', status: 'connected' }],
      },
    });
  });
  afterAll(() => stack.close());

  it('when a dry run is answered, then each row without a post gets its Status and Error, and posted rows keep theirs', async () => {
    stack.sheets.loadCsv(SHEET_ID, TAB, CSV, { timeZone: 'America/New_York' });
    await stack.proveAccess(SHEET_ID);
    const [header, ...rows] = stack.sheets.getValues(SHEET_ID, TAB);
    const res = await fetch(`${stack.url}/v1/runs`, {
      method: 'POST',
      headers: { ...stack.headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        mode: 'dry-run',
        spreadsheetId: SHEET_ID,
        sheetName: TAB,
        sheetId: 0,
        spreadsheetTimeZone: 'America/New_York',
        workspaceId: 'wks_v',
        header,
        rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
      }),
    });
    expect(res.status).toBe(200);
    await stack.service.dryRunVerdicts!.idle();

    const after = stack.sheets.getValues(SHEET_ID, TAB);
    const col = (name: string) => after[0]!.indexOf(name);
    const byKey = new Map(after.slice(1).map((r) => [r[0], r]));
    expect(byKey.get('good')![col('Status')]).toBe('READY');
    expect(byKey.get('good')![col('Error')]).toBe('');
    expect(byKey.get('bad')![col('Status')]).toBe('INVALID');
    expect(byKey.get('bad')![col('Error')]).toMatch(/^Content: /);
    expect(byKey.get('posted')![col('Status')]).toBe('SCHEDULED');
    expect(stack.sandbox.inspect().posts).toHaveLength(0);
  });
});

describe('verdictCells', () => {
  const row = (key: string, extra: Partial<PlannedRow> = {}, verdict: Partial<RowVerdict> = {}): PlannedRow => ({
    rowNumber: 2,
    key,
    verdict: { rowNumber: 2, key, status: 'READY', messages: [], ...verdict },
    ...extra,
  });

  it('when a posted row is CHANGED, then it gets CHANGED with what to do; unchanged posted rows are not written', () => {
    const cells = verdictCells({
      rows: [
        row('new'),
        row('kept', { postId: 'pst_1' }),
        row(
          'edited',
          { postId: 'pst_2' },
          {
            changed: true,
            messages: [
              {
                level: 'info',
                message:
                  'Content or time differs from the post in Postato: press Reschedule changed rows to update it, or undo the edit.',
              },
            ],
          },
        ),
      ],
    } as PlannedRun);
    expect(cells).toEqual([
      { key: 'new', status: 'READY', error: '' },
      {
        key: 'edited',
        status: 'CHANGED',
        error:
          'Content or time differs from the post in Postato: press Reschedule changed rows to update it, or undo the edit.',
      },
    ]);
  });
});
