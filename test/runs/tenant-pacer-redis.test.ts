/**
 * The Redis pacer against the shared contract and across two connections, on the real Redis at 127.0.0.1:6379.
 * Every key lives under a prefix unique to this test run and is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ManualClock } from '../../src/clock';
import { createRedisPacer } from '../../src/pacing/tenant-pacer-redis';
import { effectiveLimit } from '../../src/pacing/tenant-pacer';
import { assertWithinLimit, describePacerContract, TEST_LIMITS } from './tenant-pacer-contract';

const prefix = `test-pacer-${randomBytes(6).toString('hex')}`;
const connect = () =>
  new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
const a = connect();
const b = connect();

beforeAll(async () => {
  try {
    await Promise.all([a.connect(), b.connect()]);
  } catch (err) {
    throw new Error(
      `These tests need Redis on 127.0.0.1:6379 and could not reach it (${String(err)}). Start redis-server.`,
    );
  }
});

afterAll(async () => {
  if (a.status === 'ready') {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await a.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length) await a.del(...keys);
  }
  a.disconnect();
  b.disconnect();
});

describePacerContract('redis', (clock, limits = TEST_LIMITS) => createRedisPacer({ redis: a, prefix, limits, clock }), {
  propertyRuns: 30,
});

describe('redis pacer across instances', () => {
  test('when two connections acquire concurrently for one tenant, then together they never exceed the limit', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const pacers = [a, b].map((redis) => createRedisPacer({ redis, prefix, limits: TEST_LIMITS, clock }));
    const tenant = `shared-${randomBytes(4).toString('hex')}`;
    const sent: number[] = [];
    for (let round = 0; round < 40; round++) {
      // Both instances fire a burst at the same instant; the script must serialise them.
      const now = clock.now();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (pacers[i % 2] as (typeof pacers)[0]).tryAcquire(tenant, 'create')),
      );
      for (const r of results) if (r.ok) sent.push(now);
      clock.advance(137);
    }
    const rule = effectiveLimit(TEST_LIMITS, 'create');
    assertWithinLimit(sent, TEST_LIMITS.create.limit, TEST_LIMITS.create.windowMs);
    assertWithinLimit(sent, rule.max, rule.spanMs);
    expect(sent.length).toBeGreaterThanOrEqual(rule.max * 4);
  });

  test('when one instance records a 429 pause, then the other instance honours it for that tenant only', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const [pa, pb] = [a, b].map((redis) => createRedisPacer({ redis, prefix, limits: TEST_LIMITS, clock }));
    await pa!.pause('paused-tenant', 'create', clock.now() + 3000);
    expect(await pb!.tryAcquire('paused-tenant', 'create')).toEqual({ ok: false, retryAtMs: clock.now() + 3000 });
    expect(await pb!.tryAcquire('other-tenant', 'create')).toMatchObject({ ok: true });
  });
});
