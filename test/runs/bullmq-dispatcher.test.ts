/**
 * The BullMQ dispatcher's own duties, on PostgreSQL and Redis at 127.0.0.1: rows that lost their job are found by the
 * sweep, and job ids are valid BullMQ ids derived from row ids.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DISPATCH_QUEUE, jobIdOf } from '../../src/runs/bullmq-dispatcher';
import { goodRows, postsPerKey, startKit, type Kit } from './publish-test-kit';
import { openTestTier, REDIS_TEST_URL, type TestTier } from '../contract/tier-kit';

jest.setTimeout(60_000);

describe('BullMQ dispatcher', () => {
  let tier: TestTier;
  let kit: Kit;
  beforeAll(async () => {
    tier = await openTestTier('scale-out');
    kit = await startKit({ env: tier.env, overrides: { startDispatcher: false } });
  });
  afterAll(async () => {
    await kit?.close();
    await tier?.cleanup();
  });

  it('when committed rows have no job (a crash between commit and enqueue), then the sweep enqueues them and each is posted once', async () => {
    const res = await kit.run('publish', goodRows(15, 'w'), { spreadsheetId: 'sheet-w' });
    expect(res.status).toBe(202);
    // Lose every job: the queue is wiped as if the enqueue never happened.
    const redis = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(DISPATCH_QUEUE, { connection: redis, prefix: `${tier.env.REDIS_PREFIX}:bull` });
    try {
      // The run's commit enqueues its rows in the background: wipe only once all 15 jobs are there, or a late enqueue
      // would land after the wipe and the sweep would have nothing to find.
      for (let i = 0; i < 500 && (await queue.count()) < 15; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await queue.count()).toBe(15);
      await queue.obliterate({ force: true });
      expect(await queue.count()).toBe(0);
    } finally {
      await queue.close();
      redis.disconnect();
    }
    kit.service.dispatcher.start();
    const done = await kit.waitDone(res.body.runId, 30_000);
    expect(done.counts).toMatchObject({ total: 15, created: 15, failed: 0 });
    const per = postsPerKey(kit.sandbox);
    for (let i = 0; i < 15; i++) expect(per.get(`w${i}`)).toBe(1);
  });

  it('when the check whether a run has ended fails after its last row, then the run still ends', async () => {
    const { ledger } = kit.service;
    const real = ledger.finishRunIfComplete.bind(ledger);
    let failed = 0;
    // A database error at the moment the last row's run end is asked (rows done, run not yet ended).
    const spy = jest.spyOn(ledger, 'finishRunIfComplete').mockImplementation(async (runId) => {
      if (failed === 0 && (await ledger.rowsLeft(runId)) === 0) {
        failed++;
        throw new Error('connection lost');
      }
      return real(runId);
    });
    try {
      kit.service.dispatcher.start();
      const res = await kit.run('publish', goodRows(1, 'e'), { spreadsheetId: 'sheet-e' });
      expect(res.status).toBe(202);
      const done = await kit.waitDone(res.body.runId, 10_000);
      expect(done.counts).toMatchObject({ total: 1, created: 1 });
      expect(failed).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('when a row id contains colons, then its job id has none and stays unique per row', () => {
    expect(jobIdOf('run_abc:12')).toBe('run_abc|12');
    expect(jobIdOf('run_abc:12')).not.toBe(jobIdOf('run_abc:1'));
  });
});
