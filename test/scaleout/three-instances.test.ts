/**
 * Three real service processes on the scale-out tier (PostgreSQL ledger, BullMQ + Redis) publish 3 tenants × 300 rows
 * through one Postato sandbox; one instance is SIGKILLed mid-run. Every row must end with exactly one post, and no
 * tenant may exceed its creation limit in any rolling window.
 */
import {
  startServiceProcess,
  stopServiceProcess,
  waitUntil,
  type ServiceProcess,
} from '../integration/service-process';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { ACCOUNTS, fakeApiKey, goodRows, kitEnv, postsPerKey, postRunTo, runRequestOf } from '../runs/publish-test-kit';
import { openTestTier, type TestTier } from '../contract/tier-kit';
import type { RunStatusResponse } from '../../appsscript/shared/contract';

jest.setTimeout(150_000);

const TENANTS = 3;
const ROWS = 300;
const LIMITS = { create: 60, write: 60, read: 6000, windowMs: 1000 };

describe('three service instances on the scale-out tier', () => {
  let tier: TestTier;
  let sandbox: PostatoSandbox;
  const instances: ServiceProcess[] = [];

  beforeAll(async () => {
    tier = await openTestTier('scale-out');
    sandbox = await startPostatoSandbox({
      settings: {
        accounts: ACCOUNTS,
        limits: LIMITS,
        faults: { latencyMs: 10, error5xxShare: 0, dropAfterStoreShare: 0, hangShare: 0, hangMs: 0, forced429: null },
      },
      tickIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => stopServiceProcess(i, 'SIGKILL')));
    await sandbox?.close();
    await tier?.cleanup();
  });

  it('when one of three instances is SIGKILLed mid-run, then all 900 rows end with exactly one post and no tenant exceeds its limit', async () => {
    const secret = randomBytes(16).toString('hex');
    const env = kitEnv(sandbox.url, 'unused', secret, {
      ...tier.env,
      LOG_LEVEL: 'error',
      POSTATO_CREATE_LIMIT: String(LIMITS.create),
      POSTATO_UPDATE_LIMIT: String(LIMITS.write),
      POSTATO_WINDOW_MS: String(LIMITS.windowMs),
      DISPATCH_LEASE_MS: '2000',
    });
    // The first instance migrates the fresh database; the others start on the migrated schema.
    instances.push(await startServiceProcess(env));
    instances.push(...(await Promise.all([startServiceProcess(env), startServiceProcess(env)])));

    const runIds = await Promise.all(
      Array.from({ length: TENANTS }, async (_, t) => {
        const res = await postRunTo(
          instances[t]!.url,
          secret,
          fakeApiKey(),
          runRequestOf('publish', goodRows(ROWS, `t${t}r`), { spreadsheetId: `sheet-${t}` }),
        );
        expect(res.status).toBe(202);
        return res.body.runId as string;
      }),
    );

    // Kill one instance once about a third of the posts exist: it is then mid-call on some rows.
    await waitUntil(() => sandbox.inspect().posts.length >= (TENANTS * ROWS) / 3, 60_000, 'a third of the posts');
    const victim = instances.splice(1, 1)[0]!;
    await stopServiceProcess(victim, 'SIGKILL');

    const survivor = instances[0]!;
    await waitUntil(
      async () => {
        const states = await Promise.all(
          runIds.map(
            async (id) =>
              (
                (
                  await request(survivor.url)
                    .get(`/v1/runs/${id}`)
                    .set('X-Shared-Secret', secret)
                    .set('X-User-Id', 'manager')
                ).body as RunStatusResponse
              ).state,
          ),
        );
        return states.every((s) => s !== 'running' && s !== 'queued');
      },
      90_000,
      'every run to finish',
    );
    for (const id of runIds) {
      const s = (
        await request(survivor.url).get(`/v1/runs/${id}`).set('X-Shared-Secret', secret).set('X-User-Id', 'manager')
      ).body as RunStatusResponse;
      expect(s.state).toBe('done');
      expect(s.counts).toMatchObject({ total: ROWS, created: ROWS, failed: 0, pending: 0 });
    }

    const per = postsPerKey(sandbox);
    expect(per.size).toBe(TENANTS * ROWS);
    for (const [key, n] of per) expect([key, n]).toEqual([key, 1]);
    expect(sandbox.inspect().posts.length).toBe(TENANTS * ROWS);
    const tenants = sandbox.inspect().tenants;
    expect(tenants).toHaveLength(TENANTS);
    for (const t of tenants) {
      expect(t.counters.create).toBeGreaterThanOrEqual(ROWS);
      expect(t.maxCreatesInAnyWindow).toBeLessThanOrEqual(LIMITS.create);
    }

    // The survivors shut down cleanly on SIGTERM.
    const codes = await Promise.all(
      instances.map(
        (i) =>
          new Promise<number | null>((r) => {
            i.proc.once('exit', (code) => r(code));
            i.proc.kill('SIGTERM');
          }),
      ),
    );
    expect(codes).toEqual([0, 0]);
    instances.length = 0;
  });
});
