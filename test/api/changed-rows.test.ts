/**
 * CHANGED rows end to end, through the demo stack (service, Postato sandbox, Sheets fake): publish, edit a row in the
 * sheet, dry run (CHANGED in the answer and the sheet), reschedule (Postato gets the edit), dry run (nothing CHANGED).
 */
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import type { DryRunResponse, RunAccepted, RunStatusResponse } from '../../appsscript/shared/contract';

const SHEET_ID = 'changed-sheet';
const TAB = 'Posts';
const WORKSPACE = 'wks_changed';
const CSV = [
  'Key,Platform,Account,Post type,Content,Scheduled at,Status,Post ID,Error,Scheduled (UTC),Run,Updated',
  'one,x,acc_ch,,First text of row one,,,,,,,',
  'two,x,acc_ch,,Row two stays as it is,,,,,,,',
].join('\n');

describe('CHANGED rows through the service', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({
      sandboxSettings: {
        accounts: [
          { id: 'acc_ch', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' },
        ],
      },
    });
  });
  afterAll(() => stack.close());

  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { ...stack.headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const sheetRequest = (mode: string) => {
    const [header, ...rows] = stack.sheets.getValues(SHEET_ID, TAB);
    return {
      mode,
      spreadsheetId: SHEET_ID,
      sheetName: TAB,
      sheetId: 0,
      spreadsheetTimeZone: 'America/New_York',
      workspaceId: WORKSPACE,
      header,
      rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
    };
  };
  const rowOf = (key: string): Record<string, string> => {
    const [header = [], ...rows] = stack.sheets.getValues(SHEET_ID, TAB);
    const row = rows.find((r) => r[header.indexOf('Key')] === key) ?? [];
    return Object.fromEntries(header.map((h, i) => [h, row[i] ?? '']));
  };
  const setCell = (key: string, column: string, value: string) => {
    const values = stack.sheets.getValues(SHEET_ID, TAB);
    const row = values.find((r) => r[values[0]!.indexOf('Key')] === key)!;
    row[values[0]!.indexOf(column)] = value;
    stack.sheets.setValues(SHEET_ID, TAB, values);
  };
  async function runToEnd(mode: 'publish' | 'reschedule'): Promise<RunStatusResponse> {
    const accepted = await call<RunAccepted>('POST', '/v1/runs', sheetRequest(mode));
    expect(accepted.status).toBe(202);
    for (let i = 0; i < 400; i++) {
      const status = (await call<RunStatusResponse>('GET', `/v1/runs/${accepted.body.runId}`)).body;
      if (status.state !== 'queued' && status.state !== 'running') {
        await stack.service.flusher!.drain(SHEET_ID);
        return status;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`the ${mode} run did not end`);
  }
  async function dryRun(): Promise<DryRunResponse> {
    const res = await call<DryRunResponse>('POST', '/v1/runs', sheetRequest('dry-run'));
    expect(res.status).toBe(200);
    await stack.service.dryRunVerdicts!.idle();
    return res.body;
  }

  it('when a published row is edited, then the dry run says CHANGED and Reschedule sends the edit, after which nothing is CHANGED', async () => {
    stack.sheets.loadCsv(SHEET_ID, TAB, CSV, { timeZone: 'America/New_York' });
    await stack.proveAccess(SHEET_ID);
    const published = await runToEnd('publish');
    expect(published.counts).toMatchObject({ total: 2, created: 2, failed: 0 });
    expect(rowOf('one').Status).toBe('SCHEDULED');
    const postId = rowOf('one')['Post ID'];
    expect(postId).toMatch(/^pst_/);

    // Unedited: nothing is CHANGED and posted rows keep their status.
    const clean = await dryRun();
    expect(clean.rows.filter((r) => r.changed)).toEqual([]);
    expect(clean.summary.changed).toBeUndefined();

    setCell('one', 'Content', 'Second, better text of row one');
    const edited = await dryRun();
    const one = edited.rows.find((r) => r.key === 'one')!;
    expect(one.changed).toBe(true);
    expect(one.messages.map((m) => m.message)).toContain(
      'Content or time differs from the post in Postato: press Reschedule changed rows to update it, or undo the edit.',
    );
    expect(edited.rows.find((r) => r.key === 'two')!.changed).toBeUndefined();
    expect(edited.summary.changed).toBe(1);
    expect(rowOf('one').Status).toBe('CHANGED');
    expect(rowOf('one').Error).toMatch(/Reschedule changed rows/);
    expect(rowOf('two').Status).toBe('SCHEDULED');

    const keptTime = stack.sandbox.inspect().posts.find((p) => p.id === postId)!.scheduledAt;
    const rescheduled = await runToEnd('reschedule');
    expect(rescheduled.state).toBe('done');
    const post = stack.sandbox.inspect().posts.find((p) => p.id === postId)!;
    expect(JSON.stringify(post.content)).toContain('Second, better text of row one');
    expect(post.scheduledAt).toBe(keptTime);
    expect(stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE)).toHaveLength(2);
    expect(rowOf('one').Status).toBe('SCHEDULED');
    expect(rowOf('one').Error).toBe('');

    const after = await dryRun();
    expect(after.rows.filter((r) => r.changed)).toEqual([]);
    expect(after.summary.changed).toBeUndefined();
    expect(rowOf('one').Status).toBe('SCHEDULED');
  });
});
