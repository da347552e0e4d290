/**
 * The BullMQ dispatcher's enqueueing on PostgreSQL and Redis at 127.0.0.1, without a worker: a committed run gets a job
 * per row at once, the sweep finds every tenant's lost jobs however large the others' backlogs, and a sweep over rows
 * that all have their jobs adds nothing (not even a refused duplicate).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { createBullmqDispatcher, DISPATCH_QUEUE, jobIdOf } from '../../src/runs/bullmq-dispatcher';
import type { PublishStep } from '../../src/runs/publish-step';
import { deleteRedisPrefix, REDIS_TEST_URL, testRedisPrefix } from '../contract/tier-kit';
import { ledgerPerTest, newRunOf } from '../ledger/ledger-fixtures';

jest.setTimeout(60_000);

/** These tests start no worker, so no row reaches the publish step. */
const noStep: PublishStep = {
  processRow: () => Promise.reject(new Error('no worker runs in these tests')),
} as unknown as PublishStep;

describe('BullMQ dispatcher enqueueing', () => {
  const clock = new ManualClock(Date.now());
  const opened = ledgerPerTest('postgres', clock);
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  let dispatcher: ReturnType<typeof createBullmqDispatcher>;
  let runsFinished: string[];
  beforeEach(() => {
    runsFinished = [];
    redis = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
    prefix = testRedisPrefix();
    queue = new Queue(DISPATCH_QUEUE, { connection: redis, prefix: `${prefix}:bull` });
    dispatcher = createBullmqDispatcher({
      ledger: opened().ledger,
      step: noStep,
      clock,
      logger: silentLogger,
      redis,
      prefix,
      leaseMs: 60_000,
      concurrency: 8,
      onRunFinished: (runId) => runsFinished.push(runId),
    });
  });
  afterEach(async () => {
    await dispatcher.stop();
    await queue.close();
    await deleteRedisPrefix(prefix);
    redis.disconnect();
  });

  const jobsOf = async (rowIds: string[]) =>
    (await Promise.all(rowIds.map((id) => queue.getJob(jobIdOf(id))))).filter((j) => j !== undefined);
  const duplicatesRefused = async () =>
    (await redis.xrange(queue.toKey('events'), '-', '+')).filter(([, fields]) => fields.includes('duplicated')).length;

  it('when a tenant arrives behind another tenant backlog larger than a sweep and its jobs were lost, then one sweep enqueues them', async () => {
    const { ledger } = opened();
    // Committed straight into the ledger, never enqueued: as if every job was lost.
    await ledger.createRun(newRunOf({ tenantId: 'tnt_big', spreadsheetId: 'sheet-big' }, 2100));
    clock.advance(1000);
    const late = await ledger.createRun(newRunOf({ tenantId: 'tnt_late', spreadsheetId: 'sheet-late' }, 5));
    const lateRows = (await ledger.rowsToSendOfRun(late.runId)).map((r) => r.id);

    await dispatcher.sweep();

    expect(await jobsOf(lateRows)).toHaveLength(5);
  });

  it('when every row already has its job, then a sweep adds none and asks BullMQ for no duplicate; a lost one it adds back', async () => {
    const { ledger } = opened();
    const run = await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 40));
    const rowIds = (await ledger.rowsToSendOfRun(run.runId)).map((r) => r.id);
    expect(await dispatcher.sweep()).toBe(40);
    expect(await jobsOf(rowIds)).toHaveLength(40);
    const refusedBefore = await duplicatesRefused();

    expect(await dispatcher.sweep()).toBe(0);
    expect(await duplicatesRefused()).toBe(refusedBefore);

    await (await queue.getJob(jobIdOf(rowIds[7]!)))!.remove();
    expect(await dispatcher.sweep()).toBe(1);
    expect(await jobsOf(rowIds)).toHaveLength(40);
    expect(await duplicatesRefused()).toBe(refusedBefore);
  });

  it('when a run larger than a sweep is committed, then its kick gives every row a job at once, in sheet order of priority', async () => {
    const { ledger } = opened();
    const run = await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 2100));
    const rowIds = (await ledger.rowsToSendOfRun(run.runId)).map((r) => r.id);

    dispatcher.kick(run.runId);

    for (let i = 0; i < 250 && (await queue.count()) < 2100; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await queue.count()).toBe(2100);
    const [first, last] = await jobsOf([rowIds[0]!, rowIds[2099]!]);
    expect(first!.opts.priority).toBeLessThan(last!.opts.priority!);
  });

  it('when a run last row finished but its end check was lost, then the next sweep ends the run once', async () => {
    const { ledger } = opened();
    const run = await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 2));
    const other = await ledger.createRun(newRunOf({ tenantId: 'tnt_b', spreadsheetId: 'sheet-b' }, 1));
    // Both of tnt_a's rows finish in the ledger, and no end check follows (the worker crashed after the job).
    for (let row = await ledger.claimNext('tnt_a', 'w', clock.now(), 60_000); row;) {
      await ledger.setResult(row.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: `pst_${row.id}` });
      row = await ledger.claimNext('tnt_a', 'w', clock.now(), 60_000);
    }
    expect((await ledger.getRun(run.runId))?.state).toBe('running');

    await dispatcher.sweep();

    expect((await ledger.getRun(run.runId))?.state).toBe('done');
    expect((await ledger.getRun(run.runId))?.api_key_sealed).toBeNull();
    expect((await ledger.getRun(other.runId))?.state).toBe('running');
    // The sheet's lock went with it: a new run of the sheet is its own run, not refused nor joined.
    expect((await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 1))).joined).toBe(false);
    await dispatcher.sweep();
    expect(runsFinished).toEqual([run.runId]);
  });

  it('when the dispatcher starts, then it applies a webhook event parked for a post recorded without applying it', async () => {
    const { ledger } = opened();
    await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 1));
    const event = {
      workspaceId: 'wks_1',
      eventId: 'evt_reconcile',
      type: 'post.published',
      postId: 'pst_reconcile',
      status: 'published',
      createdAt: new Date(clock.now()).toISOString(),
    };
    expect(await ledger.webhookSink.applyDeliveryEvent(event)).toBe('parked');
    // The post id lands on the row by a write that applies nothing parked (as when a crash follows the commit).
    const row = await ledger.claimNext('tnt_a', 'w', clock.now(), 60_000);
    await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'QUEUED', postId: 'pst_reconcile' });

    dispatcher.start();
    // Stop waits for the reconcile its start began.
    await dispatcher.stop();

    expect((await ledger.getRow(row!.id))?.sheet_status).toBe('PUBLISHED');
    expect(await ledger.webhookSink.applyDeliveryEvent(event)).toBe('duplicate');
  });
});
