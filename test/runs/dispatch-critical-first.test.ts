/**
 * Critical sends first (issue 13): tenants publishing at once each finish near their own physical minimum only if the
 * sends that decide a tenant's finish (its first ((N−1) mod L') + 1 creations, src/runs/critical-sends.ts) go before
 * any tenant's slack sends, the tenant with the fewest critical sends first. The real service on SQLite and the
 * Postato sandbox, with a compressed limit of 12 per window; asserted on the sandbox's creation order, never on times.
 */
import { fakeApiKey, goodRows, postsPerKey, startKit, type Kit } from './publish-test-kit';
import { criticalSends } from '../../src/runs/critical-sends';

jest.setTimeout(90_000);

const LIMIT = 12;
const LIMITS = { create: LIMIT, write: LIMIT, read: 600, windowMs: 4000 };

/** The tenants: row prefix and row count; with 12 per span their critical counts are 6, 3 and 10. */
const TENANTS = [
  { prefix: 'crA', rows: 30 },
  { prefix: 'crB', rows: 27 },
  { prefix: 'crC', rows: 34 },
];

/** The sandbox's creations in order, each as its tenant's prefix and its rank among that tenant's creations (1-based). */
function creations(kit: Kit): Array<{ prefix: string; rank: number }> {
  const ranks = new Map<string, number>();
  return kit.sandbox.inspect().posts.map((p) => {
    const key = /Post for (\S+)/.exec(p.content[0]?.text ?? '')?.[1] ?? '';
    const prefix = TENANTS.find((t) => key.startsWith(t.prefix))?.prefix ?? '?';
    const rank = (ranks.get(prefix) ?? 0) + 1;
    ranks.set(prefix, rank);
    return { prefix, rank };
  });
}

describe('embedded dispatcher: critical sends first', () => {
  let kit: Kit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('when three tenants publish at once at a tight limit, then all their critical creations come before any slack one, the tenant with the fewest first', async () => {
    kit = await startKit({
      sandbox: { limits: LIMITS, faults: { latencyMs: 10 } },
      env: {
        POSTATO_CREATE_LIMIT: String(LIMIT),
        POSTATO_UPDATE_LIMIT: String(LIMIT),
        POSTATO_WINDOW_MS: String(LIMITS.windowMs),
        // L' = 12 exactly (the pacer stamps sends at their answer, so no 429 without the margin).
        POSTATO_SAFETY_MARGIN: '0',
        // One call at a time: the sandbox's creation order is the dispatcher's start order.
        DISPATCH_CONCURRENCY: '1',
      },
      overrides: { startDispatcher: false },
    });
    const k = kit;
    const critical = new Map(TENANTS.map((t) => [t.prefix, criticalSends(t.rows, 0, LIMIT)]));
    expect([...critical.values()]).toEqual([6, 3, 10]);

    // Every run is committed before the dispatcher looks, so it sees the three tenants together.
    const runs = [];
    for (const t of TENANTS) {
      const res = await k.run('publish', goodRows(t.rows, t.prefix), {
        apiKey: fakeApiKey(),
        spreadsheetId: `sheet-${t.prefix}`,
      });
      expect(res.status).toBe(202);
      runs.push({ ...t, runId: res.body.runId as string });
    }
    k.service.dispatcher.start();
    for (const r of runs) expect((await k.waitDone(r.runId)).counts).toMatchObject({ created: r.rows, failed: 0 });

    const order = creations(k);
    expect(order).toHaveLength(30 + 27 + 34);
    const isCritical = (c: { prefix: string; rank: number }) => c.rank <= critical.get(c.prefix)!;
    // Slack: the rest of what each tenant may send in its first span.
    const isSlack = (c: { prefix: string; rank: number }) => !isCritical(c) && c.rank <= LIMIT;
    const lastCritical = Math.max(...order.flatMap((c, i) => (isCritical(c) ? [i] : [])));
    const firstSlack = Math.min(...order.flatMap((c, i) => (isSlack(c) ? [i] : [])));
    expect(lastCritical).toBe(3 + 6 + 10 - 1);
    expect(firstSlack).toBeGreaterThan(lastCritical);
    // Fewest critical first: B's 3, then A's 6, then C's 10, each tenant's in one stretch.
    expect(order.slice(0, 19).map((c) => c.prefix)).toEqual([
      ...Array<string>(3).fill('crB'),
      ...Array<string>(6).fill('crA'),
      ...Array<string>(10).fill('crC'),
    ]);
    // Slack work, earliest deadline first: B's critical sends were made first, so its slack is due first.
    expect(order[19]!.prefix).toBe('crB');
    for (const n of postsPerKey(k.sandbox).values()) expect(n).toBe(1);
  });
});
