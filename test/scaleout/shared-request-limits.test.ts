/**
 * The per-address and failed-sign-in limits on the scale-out tier: two service instances behind one load balancer
 * count in the same Redis, so together they allow the documented limit, not twice it; and while Redis cannot be
 * reached, each instance still limits in its own memory instead of failing or letting everything through.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { redisLimiterStore } from '../../src/limits/limiter-store';
import { ACCOUNTS, FAST_LIMITS, startKit, type Kit } from '../runs/publish-test-kit';
import { openTestTier, type TestTier } from '../contract/tier-kit';
import { buildTestApp, testConfig } from '../http/test-app';

const secret = randomBytes(16).toString('hex');
const signedIn = { 'X-Shared-Secret': secret, 'X-User-Id': 'manager' };
const wrong = (i: number) => ({ 'X-Shared-Secret': `wrong-${i}-secret-value` });

describe('request limits shared by two instances on the scale-out tier', () => {
  let sandbox: PostatoSandbox;
  const tiers: TestTier[] = [];
  const kits: Kit[] = [];

  /** Two instances of one deployment (one ledger, one Redis prefix) with `env` limits. */
  async function twoInstances(env: Record<string, string>): Promise<[Kit, Kit]> {
    const tier = await openTestTier('scale-out');
    tiers.push(tier);
    const shared = { ...tier.env, AUTH_SHARED_SECRET: secret, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const a = await startKit({ existingSandbox: sandbox, env: { ...shared, ...env } });
    kits.push(a);
    const b = await startKit({ existingSandbox: sandbox, env: { ...shared, ...env } });
    kits.push(b);
    return [a, b];
  }

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ settings: { accounts: ACCOUNTS, limits: FAST_LIMITS }, tickIntervalMs: 0 });
  });
  afterAll(async () => {
    for (const k of kits) await k.close();
    await sandbox?.close();
    // Removes each test's PostgreSQL database and every key under its Redis prefix, the limits' counts included.
    for (const t of tiers) await t.cleanup();
  });

  it('when one address spreads its requests over both instances, then the (limit+1)th is refused with 429', async () => {
    const [a, b] = await twoInstances({ REQUESTS_PER_MINUTE_PER_ADDRESS: '4' });
    for (const kit of [a, b, a, b]) {
      expect((await request(kit.service.app).get('/v1/runs/none').set(signedIn)).status).not.toBe(429);
    }
    for (const kit of [a, b]) {
      const res = await request(kit.service.app).get('/v1/runs/none').set(signedIn);
      expect(res.status).toBe(429);
      expect(res.body.message).toMatch(/from your address: at most 4 per 60 s/);
    }
  });

  it('when a guesser spreads failed sign-ins over both instances, then the address is locked out on both', async () => {
    const [a, b] = await twoInstances({ AUTH_FAILURES_PER_MINUTE: '3' });
    for (const [i, kit] of [a, b, a].entries()) {
      expect((await request(kit.service.app).get('/v1/runs/none').set(wrong(i))).status).toBe(401);
    }
    // The fourth failure, on the other instance, crosses the shared count and locks the address everywhere.
    expect((await request(b.service.app).get('/v1/runs/none').set(wrong(3))).status).toBe(401);
    for (const kit of [a, b]) {
      const res = await request(kit.service.app).get('/v1/runs/none').set(signedIn);
      expect(res.status).toBe(429);
      expect(res.body.message).toMatch(/Too many failed sign-ins from your address/);
    }
  });
});

describe('request limits while Redis is unreachable', () => {
  it('when the limits cannot reach Redis, then each instance still refuses the (limit+1)th request from its memory', async () => {
    // Never connected (nothing listens on port 1): every command is refused at once, as while Redis restarts.
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
    try {
      const app = buildTestApp(
        testConfig({ AUTH_SHARED_SECRET: secret, REQUESTS_PER_MINUTE: '1000', REQUESTS_PER_MINUTE_PER_ADDRESS: '2' }),
        { limiters: redisLimiterStore(down, 'postato-test-unreachable') },
      );
      for (let i = 0; i < 2; i++) expect((await request(app).get('/v1/whoami').set(signedIn)).status).toBe(200);
      const res = await request(app).get('/v1/whoami').set(signedIn);
      expect(res.status).toBe(429);
      expect(res.body.message).toMatch(/from your address: at most 2 per 60 s/);
    } finally {
      down.disconnect();
    }
  });
});
