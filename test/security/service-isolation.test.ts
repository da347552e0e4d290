/**
 * Isolation and secrets through the whole service (buildService on a real SQLite file, the Postato sandbox as
 * Postato): another user's run is a 404, admins (by configuration) see it, a header claim makes nobody an admin or
 * another user, and the Postato key is in no log, body or database byte.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { sleep } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { buildService, type Service } from '../../src/service';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import { findSecretLeaks } from './leak-scan';
import { createFakeGoogleIssuer } from '../http/google-token-fixtures';

describe('run isolation and key hygiene through the service', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postato-sec-'));
  const sharedSecret = randomBytes(24).toString('hex');
  const apiKey = 'smcp_' + randomBytes(32).toString('hex');
  const lines: string[] = [];
  const bodies: string[] = [];
  let sandbox: PostatoSandbox;
  let service: Service;
  const CLIENT = 'isolation-client.apps.googleusercontent.com';
  const issuer = createFakeGoogleIssuer(CLIENT);
  const as = (user: string) => ({
    Authorization: `Bearer ${issuer.token({ sub: `sub-${user}`, email: `${user}@example.com` })}`,
  });
  /** A shared-secret caller claiming any user id it likes. */
  const claiming = (userId: string) => ({ 'X-Shared-Secret': sharedSecret, 'X-User-Id': userId });

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      tickIntervalMs: 0,
      settings: {
        accounts: [{ id: 'acc_1', workspaceId: 'wks_1', platform: 'twitter', username: 'sec', status: 'connected' }],
      },
    });
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_SHARED_SECRET: sharedSecret,
      GOOGLE_OAUTH_CLIENT_IDS: CLIENT,
      // Words a header could carry are listed too: only the verified Google account ops@example.com may be an admin.
      ADMIN_EMAILS: 'ops@example.com,ops-admin,secret:ops-admin,secret:organisation,google:sub-alice',
      POSTATO_API_URL: sandbox.url,
      DATABASE_URL: `sqlite:${path.join(dir, 'ledger.db')}`,
      DISPATCH_POLL_MS: '20',
      POSTATO_TIMEOUT_MS: '2000',
      DISPATCH_LEASE_MS: '5000',
    });
    const destination = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    service = await buildService(config, {
      logger: createLogger({ level: 'debug', destination }),
      app: { auth: { certsProvider: issuer.certsProvider } },
    });
  });
  afterAll(async () => {
    await service?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('only the owner and admins see a run; everyone else gets the 404 of a missing run; the key leaks nowhere', async () => {
    const rows = [1, 2, 3].map((i) => ({
      rowNumber: i + 1,
      values: [`k${i}`, 'twitter', 'acc_1', 'tweet', `hello ${i}`, '', '', '', '', ''],
    }));
    const started = await request(service.app)
      .post('/v1/runs')
      .set(as('alice'))
      .set('X-Postato-Api-Key', apiKey)
      .send({
        mode: 'publish',
        spreadsheetId: 'ss_sec',
        sheetName: 'Posts',
        sheetId: 0,
        spreadsheetTimeZone: 'America/New_York',
        workspaceId: 'wks_1',
        header: [...INPUT_COLUMNS, ...OUTPUT_COLUMNS],
        rows,
      });
    bodies.push(started.text);
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    expect(runId.length).toBeGreaterThanOrEqual(20);

    const missing = await request(service.app).get('/v1/runs/run_doesnotexist').set(as('bob'));
    for (const [method, url] of [
      ['get', `/v1/runs/${runId}`],
      ['post', `/v1/runs/${runId}/cancel`],
      ['post', `/v1/runs/${runId}/sync`],
    ] as const) {
      const res = await request(service.app)[method](url).set(as('bob'));
      bodies.push(res.text);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }
    expect((await request(service.app).get(`/v1/runs/${runId}`).set(as('ops'))).status).toBe(200);
    // Shared-secret callers are one organisation, whatever X-User-Id they send: no claim reaches alice's run.
    for (const claim of ['ops-admin', 'secret:ops-admin', 'ops', 'alice', 'google:sub-alice', 'sub-alice']) {
      const res = await request(service.app).get(`/v1/runs/${runId}`).set(claiming(claim));
      bodies.push(res.text);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }

    let status: { state: string; counts: { total: number; created: number } } | undefined;
    for (let i = 0; i < 200; i++) {
      const res = await request(service.app).get(`/v1/runs/${runId}`).set(as('alice'));
      bodies.push(res.text);
      expect(res.status).toBe(200);
      status = res.body;
      if (status!.state === 'done') break;
      await sleep(50);
    }
    expect(status).toMatchObject({ state: 'done', counts: { total: 3, created: 3 } });

    const dbFiles = readdirSync(dir).map((f) => readFileSync(path.join(dir, f)));
    expect(findSecretLeaks([...lines, ...bodies, ...dbFiles], [apiKey, sharedSecret])).toEqual([]);
  });
});
