/**
 * A tenant at its limit (issue 13): once its span is full, each of its slots frees at its own time. The embedded
 * dispatcher knows those times from its own sends (the publish step hands back the slot each attempt used), so it
 * starts the tenant's next create when a slot frees instead of making an attempt the pacer refuses, then giving its
 * claimed rows back and claiming them again, once per slot. The real service on SQLite and the Postato sandbox at a
 * compressed window; the pacer is the in-process one, wrapped to count its refusals. Its claimed rows go back to the
 * ledger once per span it waits for, not at every call of its that ends meanwhile.
 */
import { fakeApiKey, goodRows, startKit, type Kit } from './publish-test-kit';
import { systemClock } from '../../src/clock';
import { createMemoryPacer, type TenantPacer } from '../../src/pacing/tenant-pacer';
import type { EmbeddedDispatcherStats } from '../../src/runs/embedded-dispatcher';

jest.setTimeout(60_000);

const LIMIT = 10;
const WINDOW_MS = 1500;
const LIMITS = { create: LIMIT, write: LIMIT, read: 600, windowMs: WINDOW_MS };

/** A pacer that counts the create slots it refused. */
function countingPacer(inner: TenantPacer): TenantPacer & { refused(): number } {
  let refused = 0;
  return {
    ...inner,
    async tryAcquire(tenant, kind) {
      const r = await inner.tryAcquire(tenant, kind);
      if (!r.ok && kind === 'create') refused++;
      return r;
    },
    sent: (...a) => inner.sent(...a),
    pause: (...a) => inner.pause(...a),
    nextFreeAt: (...a) => inner.nextFreeAt(...a),
    close: () => inner.close(),
    refused: () => refused,
  };
}

describe('embedded dispatcher: a tenant at its limit', () => {
  let kit: Kit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('when a tenant publishes three spans of rows, then its creates start as its slots free, with no attempt the pacer refuses', async () => {
    const pacer = countingPacer(
      createMemoryPacer({
        limits: {
          create: { limit: LIMIT, windowMs: WINDOW_MS },
          write: { limit: LIMIT, windowMs: WINDOW_MS },
          safetyMargin: 0,
          maxFlightMs: 800,
        },
        clock: systemClock,
      }),
    );
    kit = await startKit({
      sandbox: { limits: LIMITS, faults: { latencyMs: 100 } },
      env: {
        POSTATO_CREATE_LIMIT: String(LIMIT),
        POSTATO_UPDATE_LIMIT: String(LIMIT),
        POSTATO_WINDOW_MS: String(WINDOW_MS),
        POSTATO_SAFETY_MARGIN: '0',
        // Claimed rows wait in a window up to a tenth of the lease: 500 ms, longer than the gaps between slots inside
        // a span, shorter than the wait for the next span.
        DISPATCH_LEASE_MS: '5000',
      },
      overrides: { pacer },
    });
    const rows = 3 * LIMIT + 5;
    const res = await kit.run('publish', goodRows(rows, 'lim'), { apiKey: fakeApiKey(), spreadsheetId: 'sheet-lim' });
    expect(res.status).toBe(202);
    expect((await kit.waitDone(res.body.runId as string)).counts).toMatchObject({ created: rows, failed: 0 });

    const tenant = kit.sandbox.inspect().tenants.find((t) => t.counters.create === rows);
    expect(tenant?.counters.rateLimited).toBe(0);
    const stats = (kit.service.dispatcher as unknown as { stats(): EmbeddedDispatcherStats }).stats();
    // The tenant waited for its slots (three spans' worth of rows)…
    expect(stats.pacedWaits).toBeGreaterThan(0);
    // …without asking the pacer for them: before, every slot after the first span cost a refused attempt.
    expect(pacer.refused()).toBeLessThanOrEqual(2);
    expect(stats.started).toBeLessThanOrEqual(rows + 2);
    // Its claimed rows went back once per span it waited for (three; one more allowed for a slow machine), not again
    // at every call that ended meanwhile
    // (claimed anew only to be given back: six before).
    expect(stats.pacedGiveBacks).toBeGreaterThan(0);
    expect(stats.pacedGiveBacks).toBeLessThanOrEqual(4);
  });
});
