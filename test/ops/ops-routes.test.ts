/** /readyz and /metrics: readiness names the failing dependency, the Postato probe is cached, metrics are Prometheus text. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import request from 'supertest';
import { sql } from 'kysely';
import { createApp } from '../../src/app';
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { createPostatoProbe } from '../../src/ops/postato-probe';
import { createOpsRouter } from '../../src/http/ops-routes';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { testConfig } from '../http/test-app';
import { tempDbFile } from '../runs/publish-test-kit';

describe('ops routes', () => {
  let sandbox: PostatoSandbox;
  let ledger: LedgerDb;
  let dbFile: string;

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ tickIntervalMs: 0 });
    dbFile = tempDbFile();
    ledger = await openLedgerDb(`sqlite:${dbFile}`);
  });
  afterAll(async () => {
    await sandbox.close().catch(() => undefined);
    await ledger.close();
    fs.rmSync(dbFile, { force: true });
  });

  function appWith(url: string, o: { cacheMs?: number; redis?: () => Promise<void> } = {}) {
    const metrics = createMetrics();
    const opsRouter = createOpsRouter({
      ledger: async () => {
        await sql`select 1`.execute(ledger.db);
      },
      redis: o.redis,
      postatoProbe: createPostatoProbe({ url, clock: new ManualClock(0), timeoutMs: 300, cacheMs: o.cacheMs ?? 0 }),
      metrics,
      checkTimeoutMs: 300,
    });
    return {
      app: createApp({ config: testConfig({ AUTH_SHARED_SECRET: 'a'.repeat(20) }), logger: silentLogger, opsRouter }),
      metrics,
    };
  }

  test('when every dependency answers, /readyz is 200 and lists each check, without authentication', async () => {
    const { app } = appWith(sandbox.url);
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.checks.ledger).toEqual({ ok: true });
    expect(res.body.checks.postato.ok).toBe(true);
    expect(res.body.checks.redis).toBeUndefined();
  });

  test('when Redis does not answer, /readyz is 503 naming redis', async () => {
    const { app } = appWith(sandbox.url, { redis: () => new Promise(() => undefined) });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.failing).toEqual(['redis']);
    expect(res.body.checks.redis.error).toMatch(/no answer within 300 ms/);
  });

  test('the Postato probe is cached: many /readyz calls make one request upstream', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.statusCode = 404; // any HTTP answer means Postato is reachable
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { app } = appWith(url, { cacheMs: 60_000 });
      for (let i = 0; i < 5; i++) expect((await request(app).get('/readyz')).status).toBe(200);
      expect(hits).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('/metrics serves the metric set in Prometheus text format', async () => {
    const { app, metrics } = appWith(sandbox.url);
    metrics.postsCreated.inc({ tenant: 'tnt_abc' }, 3);
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('postato_posts_created_total{tenant="tnt_abc"} 3');
    expect(res.text).toContain('# TYPE postato_rows_waiting gauge');
  });

  test('when the Postato sandbox stops, /readyz is 503 naming postato', async () => {
    const { app } = appWith(sandbox.url);
    await sandbox.close();
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.ok).toBe(false);
    expect(res.body.failing).toEqual(['postato']);
    expect(res.body.checks.postato.error).toMatch(/Postato did not answer/);
    expect(res.body.checks.ledger.ok).toBe(true);
  });
});
