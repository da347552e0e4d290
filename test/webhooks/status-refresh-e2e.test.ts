/**
 * "Refresh statuses" end to end, for an install Postato cannot reach with webhooks: the real service, the Postato
 * sandbox with an approval policy and the Sheets fake on loopback, and no webhook registered. Rows wait PENDING
 * APPROVAL; after the reviewer decides, POST /v1/statuses/refresh reads the posts back from Postato (a bounded number
 * per call) and the rows move to SCHEDULED, or REJECTED with the reviewer's reason; another tenant's key moves nothing.
 */
import { demoApiKey, startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import { POSTATO_API_KEY_HEADER, type StatusRefreshResponse } from '../../appsscript/shared/contract';
import { until } from '../wait-until';
import { demoStackTab } from '../demo-stack-client';

const SPREADSHEET = 'ss-status-refresh-e2e';
const SHEET = 'Campaign';
const WORKSPACE = 'wks_refresh_e2e';

describe('Refresh statuses without webhooks', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startDemoStack({
      sandboxSettings: {
        approvalPolicies: [{ id: 'pol_refresh', workspaceId: WORKSPACE }],
        accounts: [
          { id: 'acc_refresh_x', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' },
        ],
      },
      env: { REQUESTS_PER_MINUTE: '100000', STATUS_REFRESH_MAX_POSTS: '2' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const { call, rowOf, runEnded, startTabRun } = demoStackTab(() => stack, {
    spreadsheetId: SPREADSHEET,
    sheetName: SHEET,
    workspaceId: WORKSPACE,
  });
  const refresh = (headers: Record<string, string> = {}) =>
    call<StatusRefreshResponse>(
      'POST',
      '/v1/statuses/refresh',
      { spreadsheetId: SPREADSHEET, workspaceId: WORKSPACE },
      headers,
    );

  it('when reviewers decide and nobody receives webhooks, then a refresh moves the rows to SCHEDULED and REJECTED with the reason', async () => {
    const header = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS] as string[];
    const later = `${new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10)}`;
    const tweet = (key: string, content: string, at: string) =>
      header.map(
        (h) => ({ Key: key, Platform: 'x', Account: 'acc_refresh_x', Content: content, 'Scheduled at': at })[h] ?? '',
      );
    stack.sheets.loadCsv(SPREADSHEET, SHEET, header.join(','), { timeZone: 'America/New_York' });
    await stack.proveAccess(SPREADSHEET);
    stack.sheets.setValues(SPREADSHEET, SHEET, [
      header,
      tweet('r-approved', 'Approved for later', `${later} 10:00`),
      tweet('r-rejected', 'Off-brand wording', `${later} 11:00`),
      tweet('r-waiting', 'Nobody decided yet', `${later} 12:00`),
    ]);
    await runEnded(await startTabRun());
    await stack.service.flusher!.drain(SPREADSHEET);
    for (const key of ['r-approved', 'r-rejected', 'r-waiting']) expect(rowOf(key).Status).toBe('PENDING APPROVAL');

    // Nothing decided yet: a refresh reads at most two posts and says more are left.
    const first = await refresh();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ checked: 2, changed: 0, more: true });

    const postOf = (key: string) => rowOf(key)['Post ID']!;
    stack.sandbox.decideApproval({ postId: postOf('r-approved'), decision: 'approve', reviewerId: 'usr_lead' });
    stack.sandbox.decideApproval({
      postId: postOf('r-rejected'),
      decision: 'reject',
      reviewerId: 'usr_lead',
      comment: 'Use the approved tagline',
    });

    // Another tenant's key names the same spreadsheet and workspace: it sees none of these rows.
    const stranger = await refresh({ [POSTATO_API_KEY_HEADER]: demoApiKey() });
    expect(stranger.status).toBe(200);
    expect(stranger.body).toMatchObject({ checked: 0, changed: 0 });
    await stack.service.flusher!.drain(SPREADSHEET);
    expect(rowOf('r-approved').Status).toBe('PENDING APPROVAL');

    // Two refreshes cover the three posts (two per call, least recently checked first).
    let changed = 0;
    for (let i = 0; i < 2; i++) changed += (await refresh()).body.changed;
    expect(changed).toBe(2);
    await until('the refreshed rows to reach the sheet', async () => {
      await stack.service.flusher!.drain(SPREADSHEET);
      return rowOf('r-approved').Status === 'SCHEDULED' && rowOf('r-rejected').Status === 'REJECTED';
    });
    expect(rowOf('r-approved').Error).toBe('');
    expect(rowOf('r-rejected').Error).toContain('A reviewer rejected this post in Postato: Use the approved tagline.');
    expect(rowOf('r-waiting').Status).toBe('PENDING APPROVAL');

    // A rejected row has ended and is no longer read; the scheduled one and the one still waiting are.
    const last = await refresh();
    expect(last.body).toMatchObject({ checked: 2, changed: 0, more: false });
  });

  it('when the body names no workspace, then the refresh is refused with what to fix', async () => {
    const res = await call<{ message: string }>('POST', '/v1/statuses/refresh', { spreadsheetId: SPREADSHEET });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('workspaceId');
  });
});
