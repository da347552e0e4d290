/**
 * Postato approval policies end to end: the real service, the Postato sandbox with a policy on the workspace and the
 * Sheets fake, all on loopback. Published rows come back PENDING APPROVAL; a reviewer's decisions reach the service as
 * signed approval.decided webhooks and move the rows to SCHEDULED (approved, time ahead), QUEUED then PUBLISHED
 * (approved, "now"), or REJECTED with the reviewer's reason in the Error cell.
 */
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';
import { registerPostatoWebhook } from '../../src/webhooks/webhook-registration';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import type { RunStatusResponse } from '../../appsscript/shared/contract';
import { until } from '../wait-until';
import { demoStackTab } from '../demo-stack-client';

const SPREADSHEET = 'ss-approval-e2e';
const SHEET = 'Campaign';
const WORKSPACE = 'wks_approval_e2e';
/** Sandbox-clock ms between lifecycle steps. */
const STEP_MS = 10_000;

describe('Postato approval policies, end to end through the webhooks, the ledger and the write-back', () => {
  let stack: DemoStack;

  beforeAll(async () => {
    stack = await startDemoStack({
      sandboxSettings: {
        deliveryStepMs: STEP_MS,
        webhookRetryBaseMs: 50,
        approvalPolicies: [{ id: 'pol_campaign', workspaceId: WORKSPACE }],
        accounts: [
          { id: 'acc_appr_x', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' },
        ],
      },
      env: { REQUESTS_PER_MINUTE: '100000' },
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
  const decidedEvents = async () =>
    (await inspectLedgerDb(stack.service.ledger).selectFrom('webhook_events').select('event_id').execute()).length;

  it('when a policy holds the posts, then rows show PENDING APPROVAL and follow the decisions to SCHEDULED, PUBLISHED and REJECTED with the reason', async () => {
    await registerPostatoWebhook({
      apiUrl: stack.sandbox.url,
      apiKey: stack.apiKey,
      workspaceId: WORKSPACE,
      publicUrl: stack.url,
      store: stack.service.ledger.webhookSecrets(),
    });

    const header = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS] as string[];
    const make = (cells: Record<string, string>) => header.map((h) => cells[h] ?? '');
    const later = `${new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10)} 10:00`;
    const tweet = (key: string, content: string, at: string) =>
      make({ Key: key, Platform: 'x', Account: 'acc_appr_x', Content: content, 'Scheduled at': at });
    stack.sheets.loadCsv(SPREADSHEET, SHEET, header.join(','), { timeZone: 'America/New_York' });
    await stack.proveAccess(SPREADSHEET);
    stack.sheets.setValues(SPREADSHEET, SHEET, [
      header,
      tweet('r-approved', 'Launch post, approved for later', later),
      tweet('r-rejected', 'Launch post, off-brand', `${later.slice(0, 10)} 11:00`),
      tweet('r-now', 'Launch post, approved to go now', 'now'),
    ]);
    const runId = await startTabRun();
    expect((await runEnded(runId)).counts).toMatchObject({ total: 3, created: 3, failed: 0 });
    await stack.service.flusher!.drain(SPREADSHEET);
    for (const key of ['r-approved', 'r-rejected', 'r-now']) {
      expect(rowOf(key).Status).toBe('PENDING APPROVAL');
      expect(rowOf(key)['Post ID']).toMatch(/^pst_/);
      expect(rowOf(key).Error).toBe('');
    }
    const posts = stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE);
    expect(posts.map((p) => p.status)).toEqual(['pending_approval', 'pending_approval', 'pending_approval']);

    // The requests reach the service too; they change nothing (the rows already wait for approval).
    await until(
      'the approval requests to be delivered',
      async () => (await decidedEvents()) >= 3,
      () => stack.sandbox.tick(),
    );

    const postOf = (key: string) => rowOf(key)['Post ID']!;
    stack.sandbox.decideApproval({ postId: postOf('r-approved'), decision: 'approve', reviewerId: 'usr_lead' });
    stack.sandbox.decideApproval({
      postId: postOf('r-rejected'),
      decision: 'reject',
      reviewerId: 'usr_lead',
      comment: 'Off-brand wording, use the approved tagline',
    });
    stack.sandbox.decideApproval({ postId: postOf('r-now'), decision: 'approve', reviewerId: 'usr_lead' });
    await until(
      'the decisions to reach the sheet',
      async () => {
        await stack.service.flusher!.drain(SPREADSHEET);
        return (
          rowOf('r-approved').Status === 'SCHEDULED' &&
          rowOf('r-rejected').Status === 'REJECTED' &&
          rowOf('r-now').Status === 'QUEUED'
        );
      },
      () => stack.sandbox.tick(),
    );
    expect(rowOf('r-approved').Error).toBe('');
    const rejected = rowOf('r-rejected');
    expect(rejected.Error).toContain(
      'A reviewer rejected this post in Postato: Off-brand wording, use the approved tagline.',
    );
    expect(rejected.Error).toContain('clear its Key and Post ID');
    expect(rejected.Link).toBe('');

    // The post approved to go now is delivered, and its post.published event marks it PUBLISHED.
    stack.sandbox.advance(2 * STEP_MS + 1_000);
    await until(
      'the approved post to be published in the sheet',
      async () => {
        await stack.service.flusher!.drain(SPREADSHEET);
        return rowOf('r-now').Status === 'PUBLISHED';
      },
      () => stack.sandbox.tick(),
    );
    expect(rowOf('r-now').Link).toMatch(/^https:\/\//);
    expect(rowOf('r-approved').Status).toBe('SCHEDULED');
    expect(rowOf('r-rejected').Status).toBe('REJECTED');
    const after = stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE);
    expect(Object.fromEntries(after.map((p) => [p.id, p.status]))).toEqual({
      [postOf('r-approved')]: 'scheduled',
      [postOf('r-rejected')]: 'rejected',
      [postOf('r-now')]: 'published',
    });

    // The run report lists the rejected row with the reviewer's reason.
    const report = await call<RunStatusResponse>('GET', `/v1/runs/${runId}`);
    expect(JSON.stringify(report.body)).toContain('Off-brand wording');

    // Publishing the sheet again sends nothing: every row has its post, whatever the reviewer decided.
    await runEnded(await startTabRun(), 'the second run to end');
    expect(stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE)).toHaveLength(3);
    await stack.service.flusher!.drain(SPREADSHEET);
    expect(rowOf('r-rejected').Status).toBe('REJECTED');
    expect(rowOf('r-approved').Status).toBe('SCHEDULED');
  });
});
