/**
 * Sharing the dispatcher's pool between tenants (issue 13): a tenant with few rows to send goes before the backlogs of
 * others (fewest critical sends first, see dispatch-critical-first.test.ts), a tenant never has more than
 * DISPATCH_TENANT_CONCURRENCY calls in flight, and calls reuse keep-alive connections. Asserted on the order and
 * counts the sandbox saw, never on wall-clock times.
 */
import { fakeApiKey, goodRows, postsPerKey, startKit, type Kit } from './publish-test-kit';
import type { EmbeddedDispatcherStats } from '../../src/runs/embedded-dispatcher';
import { until } from '../wait-until';

jest.setTimeout(90_000);

/** Roomy limits: only the pool, never the pacer, decides who goes next. */
const ROOMY = { create: 100_000, write: 100_000, read: 100_000, windowMs: 60_000 };

/** Index in the sandbox's creation order of the posts whose row key starts with `prefix`. */
function creationIndexes(kit: Kit, prefix: string): number[] {
  return kit.sandbox
    .inspect()
    .posts.map((p, i) => ({ i, key: /Post for (\S+)/.exec(p.content[0]?.text ?? '')?.[1] ?? '' }))
    .filter((p) => p.key.startsWith(prefix))
    .map((p) => p.i);
}

describe('embedded dispatcher: fairness and per-tenant cap', () => {
  let kit: Kit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('when a tenant with 10 rows arrives while four others burst, then its rows go out within about ten turns, not behind their backlog', async () => {
    const CONCURRENCY = 4;
    kit = await startKit({
      sandbox: { limits: ROOMY, faults: { latencyMs: 20 } },
      env: {
        POSTATO_CREATE_LIMIT: String(ROOMY.create),
        POSTATO_WINDOW_MS: String(ROOMY.windowMs),
        DISPATCH_CONCURRENCY: String(CONCURRENCY),
        DISPATCH_TENANT_CONCURRENCY: '2',
      },
    });
    const k = kit;
    const big = await Promise.all(
      [0, 1, 2, 3].map((t) =>
        k.run('publish', goodRows(80, `big${t}x`), { apiKey: fakeApiKey(), spreadsheetId: `sheet-big${t}` }),
      ),
    );
    // The burst is under way: some of it is created, most of it still queued.
    await until('the burst to start', () => k.sandbox.inspect().posts.length >= 20);
    const late = await k.run('publish', goodRows(10, 'late'), { apiKey: fakeApiKey(), spreadsheetId: 'sheet-late' });
    expect(late.status).toBe(202);
    const createdBeforeLate = k.sandbox.inspect().posts.length;
    expect((await k.waitDone(late.body.runId)).counts).toMatchObject({ created: 10, failed: 0 });
    for (const r of big) expect((await k.waitDone(r.body.runId)).counts).toMatchObject({ created: 80, failed: 0 });

    const lateIdx = creationIndexes(k, 'late');
    expect(lateIdx).toHaveLength(10);
    const othersBetween = Math.max(...lateIdx) + 1 - createdBeforeLate - 10;
    // Its 10 rows are all critical and fewer than any backlog's, so it goes first: at most what was already in flight
    // (or claimed) goes between. Queued behind the backlog (first come, first served) it would wait for over 200 rows.
    expect(othersBetween).toBeLessThanOrEqual(10 * 4 + CONCURRENCY + 4);
    const remainingAfterLate = 4 * 80 - (Math.max(...lateIdx) + 1 - 10);
    expect(remainingAfterLate).toBeGreaterThan(100);
    for (const n of postsPerKey(k.sandbox).values()) expect(n).toBe(1);
  });

  it('when one tenant has a large backlog, then it never has more than DISPATCH_TENANT_CONCURRENCY calls in flight and calls reuse connections', async () => {
    kit = await startKit({
      sandbox: { limits: ROOMY, faults: { latencyMs: 30 } },
      env: {
        POSTATO_CREATE_LIMIT: String(ROOMY.create),
        POSTATO_WINDOW_MS: String(ROOMY.windowMs),
        DISPATCH_CONCURRENCY: '16',
        DISPATCH_TENANT_CONCURRENCY: '3',
      },
    });
    const keys = [fakeApiKey(), fakeApiKey()];
    const runs = await Promise.all(
      keys.map((apiKey, t) =>
        kit!.run('publish', goodRows(60, `cap${t}x`), { apiKey, spreadsheetId: `sheet-cap${t}` }),
      ),
    );
    for (const r of runs) expect((await kit.waitDone(r.body.runId)).counts).toMatchObject({ created: 60, failed: 0 });

    const seen = kit.sandbox.inspect();
    const tenants = seen.tenants.filter((t) => t.counters.create === 60);
    expect(tenants).toHaveLength(2);
    // The cap is reached (the tenant used its share) and never exceeded.
    for (const t of tenants) expect(t.maxInFlight).toBe(3);
    const stats = (kit.service.dispatcher as unknown as { stats(): EmbeddedDispatcherStats }).stats();
    expect(stats.maxInFlight).toBeLessThanOrEqual(16);
    expect(stats.started).toBeGreaterThanOrEqual(120);
    // Claims came in batches: far fewer round trips than rows.
    expect(stats.claims).toBeLessThan(120 / 2);
    // 120 calls over a keep-alive pool: a handful of connections, not one per call.
    expect(seen.connections).toBeLessThanOrEqual(16 + 4);
  });
});
