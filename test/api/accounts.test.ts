import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createAccountsRouter } from '../../src/http/accounts-routes';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import type { AccountsResponse, ErrorBody } from '../../appsscript/shared/contract';

const WS = 'wks_01ACCOUNTS';
const SECRET = randomBytes(16).toString('hex');
const apiKey = 'smcp_' + randomBytes(32).toString('hex');
const otherKey = 'smcp_' + randomBytes(32).toString('hex');
const accounts = [
  { id: 'acc_x_main', workspaceId: WS, platform: 'x', username: 'brand', status: 'connected' as const },
  {
    id: 'acc_ig',
    workspaceId: WS,
    platform: 'instagram',
    username: 'brand.studio',
    displayName: 'Brand Studio',
    status: 'token_expired' as const,
  },
  {
    id: 'acc_elsewhere',
    workspaceId: 'wks_other',
    platform: 'linkedin',
    username: 'other',
    status: 'connected' as const,
  },
];

describe('GET /v1/accounts', () => {
  let sandbox: PostatoSandbox;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      settings: { accounts, keys: [{ apiKey, tenantId: 'ten_accounts', workspaceIds: [WS, 'wks_other'] }] },
      tickIntervalMs: 0,
    });
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_SHARED_SECRET: SECRET,
      POSTATO_API_URL: sandbox.url,
      POSTATO_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'silent',
    });
    app = createApp({ config, logger: silentLogger, routers: [createAccountsRouter({ config })] });
  });
  afterEach(() => sandbox.update({ accountsEndpoint: true }));
  afterAll(() => sandbox.close());

  const get = (query: string, key: string | null = apiKey, secret: string | null = SECRET) => {
    const r = request(app).get(`/v1/accounts${query}`).set('X-User-Id', 'tester');
    if (secret !== null) r.set('X-Shared-Secret', secret);
    if (key !== null) r.set('X-Postato-Api-Key', key);
    return r;
  };

  it('when Postato lists the workspace accounts, then answers only that workspace’s accounts in the contract shape', async () => {
    const res = await get(`?workspaceId=${WS}`);
    expect(res.status).toBe(200);
    const body = res.body as AccountsResponse;
    expect(body).toEqual({
      available: true,
      items: [
        { id: 'acc_x_main', platform: 'twitter', username: 'brand', displayName: 'brand', status: 'connected' },
        {
          id: 'acc_ig',
          platform: 'instagram',
          username: 'brand.studio',
          displayName: 'Brand Studio',
          status: 'token_expired',
        },
      ],
    });
  });

  it('when Postato has no account list (404), then answers available: false with no items', async () => {
    sandbox.update({ accountsEndpoint: false });
    const res = await get(`?workspaceId=${WS}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], available: false });
  });

  it('when workspaceId is missing or blank, then 400 says to add it', async () => {
    for (const query of ['', '?workspaceId=%20%20']) {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect((res.body as ErrorBody).message).toMatch(/^workspaceId is (missing|empty)/);
    }
  });

  it('when the Postato key is missing or malformed, then 400 says to paste it, and the key is never echoed', async () => {
    const missing = await get(`?workspaceId=${WS}`, null);
    expect(missing.status).toBe(400);
    expect((missing.body as ErrorBody).error).toBe('postato_key_missing');
    const malformed = await get(`?workspaceId=${WS}`, 'smcp_nothex');
    expect((malformed.body as ErrorBody).error).toBe('postato_key_malformed');
  });

  it('when Postato refuses the key, then 401 tells the user to check the key, without the key in the answer', async () => {
    const res = await get(`?workspaceId=${WS}`, otherKey);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).message).toMatch(/check the Postato API key in the add-on settings/);
    expect(res.text).not.toContain(otherKey.slice(5));
  });

  it('when the caller is not signed in, then 401 before Postato is asked', async () => {
    const reads = () => sandbox.inspect().tenants.map((t) => t.counters);
    const before = reads();
    const res = await get(`?workspaceId=${WS}`, apiKey, null);
    expect(res.status).toBe(401);
    expect(reads()).toEqual(before);
  });
});
