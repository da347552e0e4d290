import { goodRows, postsPerKey, startKit, fakeApiKey, FAST_LIMITS, type Kit } from './publish-test-kit';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';

describe('publish under faults, in strict idempotency mode (sandbox over real HTTP)', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await startKit({
      sandbox: {
        idempotencyMode: 'strict',
        seed: 7,
        faults: {
          latencyMs: 0,
          error5xxShare: 0.1,
          dropAfterStoreShare: 0.05,
          hangShare: 0.03,
          hangMs: 1500,
          forced429: null,
        },
      },
    });
  });
  afterAll(() => kit.close());

  it('when 5xx, dropped connections, hangs and a forced 429 period hit a 120-row publish, then no row is posted twice and every row ends created or with a reason', async () => {
    const res = await kit.run('publish', goodRows(120, 'f'), { spreadsheetId: 'sheet-f' });
    expect(res.status).toBe(202);
    kit.sandbox.update({ faults: { forced429: { untilMs: kit.sandbox.clock.now() + 800, retryAfterSeconds: 1 } } });
    const done = await kit.waitDone(res.body.runId, 60_000);
    expect(done.counts.pending).toBe(0);
    expect(done.counts.created + done.counts.failed).toBe(120);

    const per = postsPerKey(kit.sandbox);
    for (const [key, n] of per) expect([key, n]).toEqual([key, 1]);
    const results = await kit.results(res.body.runId);
    for (let i = 0; i < 120; i++) {
      const r = results.get(`f${i}`)!;
      if (r.status === 'FAILED') expect(r.error).toMatch(/\w{10,}/);
      else {
        expect(r.status).toBe('SCHEDULED');
        expect(per.get(`f${i}`)).toBe(1);
      }
    }
    // Faults really happened, and no call ever reused a key with another body.
    const attempts = await inspectLedgerDb(kit.service.ledger)
      .selectFrom('attempts')
      .select(['outcome', 'error_code'])
      .where('run_id', '=', res.body.runId)
      .execute();
    expect(attempts.some((a) => a.error_code === 'upstream_unavailable')).toBe(true);
    expect(attempts.some((a) => a.outcome === 'rate_limited' || a.error_code === 'rate_limited')).toBe(true);
    expect(attempts.some((a) => a.error_code === 'idempotency_key_reused')).toBe(false);
    // Replays of lost answers came back as replays, not as second posts.
    expect(kit.sandbox.inspect().tenants.some((t) => t.counters.replayed > 0)).toBe(true);
  });

  it('when three tenants publish at once, then each proceeds within its own limit and is never rate limited', async () => {
    kit.sandbox.update({ faults: { error5xxShare: 0, dropAfterStoreShare: 0, hangShare: 0, forced429: null } });
    const before = new Map(kit.sandbox.inspect().tenants.map((t) => [t.tenantId, t.counters.rateLimited]));
    const keys = [fakeApiKey(), fakeApiKey(), fakeApiKey()];
    const runs = await Promise.all(
      keys.map((apiKey, i) => kit.run('publish', goodRows(70, `t${i}x`), { apiKey, spreadsheetId: `sheet-t${i}` })),
    );
    const done = await Promise.all(runs.map((r) => kit.waitDone(r.body.runId, 60_000)));
    for (const d of done) expect(d.counts).toMatchObject({ created: 70, failed: 0 });
    const tenants = kit.sandbox.inspect().tenants.filter((t) => !before.has(t.tenantId));
    expect(tenants).toHaveLength(3);
    for (const t of tenants) {
      expect(t.maxCreatesInAnyWindow).toBeLessThanOrEqual(FAST_LIMITS.create);
      // The pacer counts each send from its answer, so however late a request arrives it never makes a window hold
      // more than the sandbox allows (unpaced sending of 70 rows at 30 per window draws dozens of 429s).
      expect(t.counters.rateLimited).toBe(0);
      // A call that timed out on a loaded machine is replayed under its key, which the sandbox also counts.
      expect(t.counters.create).toBeGreaterThanOrEqual(70);
    }
  });

  it('when a create answer was lost and the row is then edited, then the next publish replays the lost attempt first and never posts twice', async () => {
    const strict = await startKit({
      sandbox: { idempotencyMode: 'strict', faults: { dropAfterStoreShare: 1 } },
      env: { POSTATO_MAX_ATTEMPTS: '1' },
    });
    try {
      const apiKey = fakeApiKey();
      const run1 = await strict.run('publish', [{ key: 'lost' }], { apiKey, spreadsheetId: 'sheet-lost' });
      const done1 = await strict.waitDone(run1.body.runId);
      expect(done1.counts.failed).toBe(1);
      expect(postsPerKey(strict.sandbox).get('lost')).toBe(1); // stored, answer dropped
      strict.sandbox.update({ faults: { dropAfterStoreShare: 0 } });
      const run2 = await strict.run('publish', [{ key: 'lost', content: 'Post for lost, edited' }], {
        apiKey,
        spreadsheetId: 'sheet-lost',
      });
      const done2 = await strict.waitDone(run2.body.runId);
      expect(done2.counts).toMatchObject({ created: 1, failed: 0 });
      expect(strict.sandbox.inspect().posts).toHaveLength(1);
      const results = await strict.results(run2.body.runId);
      expect(results.get('lost')?.postId).toBe(strict.sandbox.inspect().posts[0]!.id);
      expect(results.get('lost')?.error).toMatch(/Reschedule/);
    } finally {
      await strict.close();
    }
  });
});
