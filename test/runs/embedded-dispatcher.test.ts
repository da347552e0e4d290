/**
 * The embedded dispatcher on its own (src/runs/embedded-dispatcher.ts): a real SQLite ledger, the real publish step
 * and pacer, and the Postato sandbox over HTTP. It sends every due row of every tenant, reports each run's end once,
 * stays within its concurrency, and on stop waits for the calls in flight so their results are recorded.
 */
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';
import { PostatoClient } from '../../src/postato/postato-client';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { createEmbeddedDispatcher } from '../../src/runs/embedded-dispatcher';
import { tenantIdFor } from '../../src/runs/idempotency-key';
import { KeyVault } from '../../src/runs/key-vault';
import { createPublishStep } from '../../src/runs/publish-step';
import { createMemoryPacer, type TenantPacer } from '../../src/pacing/tenant-pacer';
import { ACCOUNTS, WS, fakeApiKey, postsPerKey, tempDbFile } from './publish-test-kit';
import { until } from '../wait-until';

jest.setTimeout(60_000);

const CONCURRENCY = 3;

describe('embedded dispatcher', () => {
  let sandbox: PostatoSandbox;
  let opened: OpenedLedger;
  let pacer: TenantPacer;
  let dispatcher: ReturnType<typeof createEmbeddedDispatcher>;
  let finishedRuns: string[];
  const vault = new KeyVault(randomBytes(32).toString('base64'));

  beforeEach(async () => {
    sandbox = await startPostatoSandbox({
      settings: { accounts: ACCOUNTS, limits: { create: 1000, write: 1000, read: 1000, windowMs: 60_000 } },
      tickIntervalMs: 0,
    });
    opened = await openLedger(`sqlite:${tempDbFile()}`, systemClock);
    pacer = createMemoryPacer({
      clock: systemClock,
      limits: {
        create: { limit: 1000, windowMs: 60_000 },
        write: { limit: 1000, windowMs: 60_000 },
        safetyMargin: 0.02,
        maxFlightMs: 5000,
      },
    });
    const step = createPublishStep({
      ledger: opened.ledger,
      pacer,
      vault,
      clock: systemClock,
      logger: silentLogger,
      clientFor: (apiKey) =>
        new PostatoClient({ baseUrl: sandbox.url, apiKey, timeoutMs: 5000, retry: { maxAttempts: 1 } }),
      maxAttempts: 3,
      backoffBaseMs: 20,
    });
    finishedRuns = [];
    dispatcher = createEmbeddedDispatcher({
      ledger: opened.ledger,
      step,
      clock: systemClock,
      logger: silentLogger,
      pollMs: 20,
      leaseMs: 10_000,
      concurrency: CONCURRENCY,
      onRunFinished: (runId) => finishedRuns.push(runId),
    });
  });
  afterEach(async () => {
    await dispatcher.stop();
    await pacer.close();
    await opened.close();
    await sandbox.close();
  });

  /** Commits a publish run of `n` rows keyed `<prefix>0..`, for the API key's tenant. */
  async function commitRun(apiKey: string, prefix: string, n: number): Promise<string> {
    const { runId } = await opened.ledger.createRun({
      ownerSubject: 'manager',
      mode: 'publish',
      spreadsheetId: `sheet-${prefix}`,
      sheetName: 'Posts',
      sheetId: 0,
      workspaceId: WS,
      tenantId: tenantIdFor(apiKey),
      apiKeySealed: vault.encrypt(apiKey),
      rows: Array.from({ length: n }, (_, i) => ({
        rowKey: `${prefix}${i}`,
        rowNumber: i + 2,
        kind: 'create' as const,
        state: 'pending' as const,
        bodyJson: JSON.stringify({
          platform: 'twitter',
          accountId: ACCOUNTS[i % ACCOUNTS.length]!.id,
          status: 'scheduled',
          postType: 'tweet',
          content: `Post for ${prefix}${i}`,
          scheduledAt: '2031-01-01T10:00:00Z',
        }),
        writeBack: false,
      })),
    });
    return runId;
  }

  const stateOf = async (runId: string) => (await opened.ledger.getRun(runId))!.state;

  it('when two tenants have runs, then every row is posted once, each run ends once, and calls stay within the concurrency', async () => {
    const a = await commitRun(fakeApiKey(), 'a', 12);
    const b = await commitRun(fakeApiKey(), 'b', 5);
    dispatcher.start();
    await until('both runs to end', async () => (await stateOf(a)) === 'done' && (await stateOf(b)) === 'done');

    expect(await opened.ledger.counts(a)).toMatchObject({ total: 12, created: 12, pending: 0 });
    expect(await opened.ledger.counts(b)).toMatchObject({ total: 5, created: 5, pending: 0 });
    const per = postsPerKey(sandbox);
    for (const key of [
      ...Array.from({ length: 12 }, (_, i) => `a${i}`),
      ...Array.from({ length: 5 }, (_, i) => `b${i}`),
    ])
      expect([key, per.get(key)]).toEqual([key, 1]);
    expect(finishedRuns.sort()).toEqual([a, b].sort());
    const stats = dispatcher.stats();
    expect(stats.started).toBe(17);
    expect(stats.maxInFlight).toBeGreaterThan(0);
    expect(stats.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    await until('the dispatcher to be idle', () => dispatcher.idle());
  });

  it('when stopped with calls in flight, then stop waits for their results and starts nothing more', async () => {
    sandbox.update({ faults: { hangShare: 1, hangMs: 1000 } });
    const runId = await commitRun(fakeApiKey(), 's', 10);
    dispatcher.start();
    const sending = () =>
      inspectLedgerDb(opened.ledger)
        .selectFrom('run_rows')
        .select('id')
        .where('run_id', '=', runId)
        .where('state', '=', 'sending')
        .execute();
    await until('a call in flight', async () => (await sending()).length > 0);
    await dispatcher.stop();

    // Every call that was started has its outcome recorded; no row is left mid-call.
    expect(await sending()).toEqual([]);
    const counts = await opened.ledger.counts(runId);
    const started = dispatcher.stats().started;
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThan(10);
    expect(counts.created).toBe(started);
    expect(counts.pending).toBe(10 - started);
    expect(sandbox.inspect().posts).toHaveLength(started);
    expect(await stateOf(runId)).toBe('running');
    expect(finishedRuns).toEqual([]);
  });

  it('when the dispatcher starts, then it applies a webhook event parked for a post recorded without applying it', async () => {
    const runId = await commitRun(fakeApiKey(), 'r', 1);
    const rowId = `${runId}:0`;
    const workspaceId = (await opened.ledger.getRow(rowId))!.workspace_id;
    const event = {
      workspaceId,
      eventId: 'evt_reconcile',
      type: 'post.published',
      postId: 'pst_reconcile',
      status: 'published',
      createdAt: new Date().toISOString(),
    };
    expect(await opened.ledger.webhookSink.applyDeliveryEvent(event)).toBe('parked');
    // The post id lands on the row by a write that applies nothing parked (as when a crash follows the commit).
    await opened.ledger.setResult(rowId, { state: 'created', sheetStatus: 'QUEUED', postId: 'pst_reconcile' });

    dispatcher.start();
    // Stop waits for the reconcile its start began.
    await dispatcher.stop();

    expect((await opened.ledger.getRow(rowId))?.sheet_status).toBe('PUBLISHED');
    expect(await opened.ledger.webhookSink.applyDeliveryEvent(event)).toBe('duplicate');
  });
});
