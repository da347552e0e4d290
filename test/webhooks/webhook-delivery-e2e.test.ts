/**
 * Webhook delivery end to end: the real service, the Postato sandbox and the Sheets fake on loopback. The webhook is
 * registered with the product's registration function, two rows are published, the sandbox delivers one and fails
 * the other, and its signed webhooks must mark the rows PUBLISHED (with the Link) and DELIVERY FAILED (with the
 * reason) in the sheet; replayed deliveries change nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { seededRandom } from '../../src/sandbox/postato-sandbox-faults';
import { registerPostatoWebhook, webhookUrlFor } from '../../src/webhooks/webhook-registration';
import { webhookSignatureHeader } from '../../src/webhooks/webhook-signature';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';
import { until } from '../wait-until';
import { demoStackTab } from '../demo-stack-client';

const SPREADSHEET = 'ss-webhook-e2e';
const SHEET = 'Campaign';
const WORKSPACE = 'wks_webhook_e2e';
/** Sandbox-clock ms between lifecycle steps: long, so nothing is delivered until the test moves the clock. */
const STEP_MS = 60_000;

/** A seed whose first two delivery draws at share 0.5 give one failure and one success, so both events happen. */
function seedWithOneFailureOfTwo(): number {
  for (let seed = 1; ; seed++) {
    const r = seededRandom(seed);
    if (r.next() < 0.5 !== r.next() < 0.5) return seed;
  }
}

interface Captured {
  body: string;
}

/** A second webhook receiver: it sees the very bytes the sandbox sends the service, so the test can replay them. */
async function startCapture(): Promise<{ url: string; received: Captured[]; close(): Promise<void> }> {
  const received: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('Postato webhooks, end to end through the ledger and the write-back', () => {
  let stack: DemoStack;
  let capture: Awaited<ReturnType<typeof startCapture>>;

  beforeAll(async () => {
    capture = await startCapture();
    stack = await startDemoStack({
      sandboxSettings: {
        seed: seedWithOneFailureOfTwo(),
        deliveryFailShare: 0.5,
        deliveryStepMs: STEP_MS,
        webhookRetryBaseMs: 50,
        accounts: [
          { id: 'acc_webhook_x', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' },
          {
            id: 'acc_webhook_li',
            workspaceId: WORKSPACE,
            platform: 'linkedin',
            username: 'brand-company',
            status: 'connected',
          },
        ],
      },
      env: { REQUESTS_PER_MINUTE: '100000', REQUESTS_PER_MINUTE_PER_ADDRESS: '100000' },
    });
    stack.sandbox.update({
      webhooks: [
        { url: capture.url, secret: 'whsec_capture_' + randomBytes(8).toString('hex'), workspaceId: WORKSPACE },
      ],
    });
  });
  afterAll(async () => {
    await stack?.close();
    await capture?.close();
  });

  const { rowOf, runEnded, startTabRun } = demoStackTab(() => stack, {
    spreadsheetId: SPREADSHEET,
    sheetName: SHEET,
    workspaceId: WORKSPACE,
  });
  const sheet = () => stack.sheets.getValues(SPREADSHEET, SHEET);

  it('when Postato delivers one post and fails the other, then the sheet shows PUBLISHED with its Link and DELIVERY FAILED with the reason, and replays change nothing', async () => {
    const { ledger } = stack.service;
    const secrets = ledger.webhookSecrets();
    const registered = await registerPostatoWebhook({
      apiUrl: stack.sandbox.url,
      apiKey: stack.apiKey,
      workspaceId: WORKSPACE,
      publicUrl: stack.url,
      store: secrets,
    });
    expect(registered.url).toBe(webhookUrlFor(stack.url, WORKSPACE));
    // A second registration of the same URL (e.g. a secret rotation): Postato now sends every event twice, each copy
    // signed with its own secret, the at-least-once delivery the service must absorb.
    await registerPostatoWebhook({
      apiUrl: stack.sandbox.url,
      apiKey: stack.apiKey,
      workspaceId: WORKSPACE,
      publicUrl: stack.url,
      store: secrets,
    });
    const registeredSecrets = await secrets.secretsFor(WORKSPACE);
    expect(registeredSecrets).toHaveLength(2);
    const secret = registeredSecrets[0]?.secret;
    expect(secret).toMatch(/^whsec_/);

    const header = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS] as string[];
    const make = (cells: Record<string, string>) => header.map((h) => cells[h] ?? '');
    stack.sheets.loadCsv(SPREADSHEET, SHEET, header.join(','), { timeZone: 'America/New_York' });
    await stack.proveAccess(SPREADSHEET);
    stack.sheets.setValues(SPREADSHEET, SHEET, [
      header,
      make({
        Key: 'r-one',
        Platform: 'x',
        Account: 'acc_webhook_x',
        Content: 'First post, published by webhook',
        'Scheduled at': 'now',
      }),
      make({
        Key: 'r-two',
        Platform: 'linkedin',
        Account: 'acc_webhook_li',
        Content: 'Second post, published by webhook',
        'Scheduled at': 'now',
      }),
    ]);
    const runId = await startTabRun();
    expect((await runEnded(runId)).counts).toMatchObject({ total: 2, created: 2, failed: 0 });
    await stack.service.flusher!.drain(SPREADSHEET);
    expect(rowOf('r-one').Status).toBe('QUEUED');
    expect(rowOf('r-two').Status).toBe('QUEUED');

    // Past queued → publishing → published/failed on the sandbox clock (under the 300 s signature tolerance).
    stack.sandbox.advance(2 * STEP_MS + 5_000);
    await until(
      'both delivery webhooks to reach the service',
      async () => {
        const w = stack.sandbox.inspect().webhooks;
        const events = await inspectLedgerDb(ledger).selectFrom('webhook_events').select('event_id').execute();
        return (
          w.pending === 0 &&
          events.length >= 2 &&
          capture.received.filter((c) => /"post\.(published|failed)"/.test(c.body)).length === 2
        );
      },
      () => stack.sandbox.tick(),
    );
    await stack.service.flusher!.drain(SPREADSHEET);

    const posts = stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE);
    expect(posts).toHaveLength(2);
    const published = posts.find((p) => p.status === 'published')!;
    const failed = posts.find((p) => p.status === 'failed')!;
    expect(published).toBeDefined();
    expect(failed).toBeDefined();
    const keyOf = (postId: string) => ['r-one', 'r-two'].find((k) => rowOf(k)['Post ID'] === postId)!;

    const publishedRow = rowOf(keyOf(published.id));
    expect(publishedRow.Status).toBe('PUBLISHED');
    expect(publishedRow.Link).toBe(published.platformUrl);
    expect(publishedRow.Link).toMatch(/^https:\/\//);
    expect(publishedRow.Error).toBe('');

    const failedRow = rowOf(keyOf(failed.id));
    expect(failedRow.Status).toBe('DELIVERY FAILED');
    expect(failedRow.Error).toContain(failed.error!);
    expect(failedRow.Link).toBe('');

    // Replays: the captured events re-signed with the registered secret (a valid, fresh signature), once as sent and
    // once with the outcome flipped; the same bytes with the capture receiver's signature; a stale signature.
    const before = sheet();
    const deliveryEvents = capture.received.map((c) => c.body).filter((b) => /"post\.(published|failed)"/.test(b));
    const hookUrl = webhookUrlFor(stack.url, WORKSPACE);
    const send = (body: string, signature: string) =>
      fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
        body,
      });
    const now = () => Math.floor(Date.now() / 1000);
    for (const body of deliveryEvents) {
      const same = await send(body, webhookSignatureHeader(secret!, body, now()));
      expect(same.status).toBe(200);
      expect(await same.json()).toEqual({ received: true, result: 'duplicate' });

      const flipped = body.includes('"published"')
        ? body.replace('"post.published"', '"post.failed"').replace('"status":"published"', '"status":"failed"')
        : body.replace('"post.failed"', '"post.published"').replace('"status":"failed"', '"status":"published"');
      const tampered = await send(flipped, webhookSignatureHeader(secret!, flipped, now()));
      expect(await tampered.json()).toEqual({ received: true, result: 'duplicate' });

      const stale = await send(body, webhookSignatureHeader(secret!, body, now() - 3600));
      expect(stale.status).toBe(400);
      expect(((await stale.json()) as { error: string }).error).toBe('bad_signature');
    }
    // Each delivery event reached the service twice from the sandbox (two registrations) and four more times from
    // the replays above, yet the ledger recorded it once.
    const events = await inspectLedgerDb(ledger).selectFrom('webhook_events').select('event_id').execute();
    expect(events.map((e) => e.event_id).sort()).toEqual(
      deliveryEvents.map((b) => (JSON.parse(b) as { id: string }).id).sort(),
    );
    expect(stack.sandbox.inspect().webhooks).toMatchObject({ gaveUp: 0, pending: 0 });

    await stack.service.flusher!.drain(SPREADSHEET);
    expect(sheet()).toEqual(before);
    expect(stack.sandbox.inspect().posts.filter((p) => p.workspaceId === WORKSPACE)).toHaveLength(2);
    const rowsInLedger = await inspectLedgerDb(ledger)
      .selectFrom('run_rows')
      .select(['row_key', 'post_id'])
      .where('spreadsheet_id', '=', SPREADSHEET)
      .execute();
    expect(rowsInLedger.map((r) => r.row_key).sort()).toEqual(['r-one', 'r-two']);
    expect(stack.sheets.formulaCells(SPREADSHEET, SHEET)).toEqual([]);
  });
});
