// Auth, workspace permission, tenant isolation, workspaces and accounts of the Postato sandbox, over real HTTP.
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet } from './postato-sandbox-test-helpers';

describe('Postato sandbox in demo mode (no settings)', () => {
  let sb: PostatoSandbox;
  beforeAll(async () => {
    sb = await startPostatoSandbox({ tickIntervalMs: 0 });
  });
  afterAll(() => sb.close());

  it('when the Authorization header is missing, then 401 unauthorized', async () => {
    const r = await call(sb.url, 'GET', '/v1/workspaces');
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('unauthorized');
    expect(r.json.message).toMatch(/Bearer/);
  });

  it('when the key is malformed, then 401 and the key is not echoed', async () => {
    const bad = 'smcp_' + 'z'.repeat(64);
    const r = await call(sb.url, 'GET', '/v1/workspaces', { key: bad });
    expect(r.status).toBe(401);
    expect(JSON.stringify(r.json)).not.toContain(bad);
  });

  it('when any well-formed key is used, then it is its own tenant and sees the demo workspace', async () => {
    const r = await call(sb.url, 'GET', '/v1/workspaces', { key: newKey() });
    expect(r.status).toBe(200);
    expect(r.json.items.map((w: { id: string }) => w.id)).toEqual(['wks_demo']);
  });

  it('when an unknown account id is used, then it is created for the post platform and listed', async () => {
    const key = newKey();
    const created = await call(sb.url, 'POST', '/v1/workspaces/wks_a/posts', {
      key,
      idem: 'k1',
      body: tweet({ accountId: 'acc_new' }),
    });
    expect(created.status).toBe(201);
    const accounts = await call(sb.url, 'GET', '/v1/workspaces/wks_a/accounts', { key });
    expect(accounts.json.items).toEqual([
      expect.objectContaining({
        id: 'acc_new',
        platform: 'twitter',
        status: 'connected',
        username: expect.any(String),
        displayName: expect.any(String),
      }),
    ]);
    const wrongPlatform = await call(sb.url, 'POST', '/v1/workspaces/wks_a/posts', {
      key,
      idem: 'k2',
      body: { platform: 'linkedin', accountId: 'acc_new', status: 'draft', postType: 'post', content: 'hi' },
    });
    expect(wrongPlatform.status).toBe(422);
    expect(wrongPlatform.json.errors[0].code).toBe('account_platform_mismatch');
    const ws = await call(sb.url, 'GET', '/v1/workspaces', { key });
    expect(ws.json.items[0]).toMatchObject({
      id: 'wks_a',
      connectedAccountCount: 1,
      connectedPlatforms: ['twitter'],
      recentPostCount: 1,
    });
  });

  it('when two tenants use the same workspace id, then neither sees the other one’s posts', async () => {
    const a = newKey();
    const b = newKey();
    const created = await call(sb.url, 'POST', '/v1/workspaces/wks_shared/posts', {
      key: a,
      idem: 'same',
      body: tweet(),
    });
    expect(created.status).toBe(201);
    expect((await call(sb.url, 'GET', `/v1/workspaces/wks_shared/posts/${created.json.id}`, { key: b })).status).toBe(
      404,
    );
    expect((await call(sb.url, 'GET', '/v1/workspaces/wks_shared/posts', { key: b })).json.total).toBe(0);
    expect(
      (await call(sb.url, 'DELETE', `/v1/workspaces/wks_shared/posts/${created.json.id}`, { key: b })).status,
    ).toBe(404);
    // Idempotency keys are tenant-scoped too: the same key for tenant b creates b's own post.
    const other = await call(sb.url, 'POST', '/v1/workspaces/wks_shared/posts', {
      key: b,
      idem: 'same',
      body: tweet(),
    });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(other.json.id).not.toBe(created.json.id);
    expect(new Set(sb.inspect().posts.map((p) => p.tenantId)).size).toBeGreaterThanOrEqual(2);
  });

  it('when a route does not exist or the method is wrong, then 404 / 405', async () => {
    const key = newKey();
    expect((await call(sb.url, 'GET', '/v1/nothing', { key })).status).toBe(404);
    const r = await call(sb.url, 'PUT', '/v1/workspaces/w/posts', { key });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, POST');
  });
});

describe('Postato sandbox with strict keys and accounts', () => {
  const keyA = newKey();
  const keyA2 = newKey();
  const keyB = newKey();
  let sb: PostatoSandbox;
  beforeAll(async () => {
    sb = await startPostatoSandbox({
      tickIntervalMs: 0,
      settings: {
        keys: [
          { apiKey: keyA, tenantId: 'tnt_a', workspaceIds: ['wks_a1', 'wks_a2'] },
          { apiKey: keyA2, tenantId: 'tnt_a', workspaceIds: ['wks_a1'] },
          { apiKey: keyB, tenantId: 'tnt_b', workspaceIds: ['wks_b'] },
        ],
        accounts: [
          { id: 'acc_tw', workspaceId: 'wks_a1', platform: 'twitter', username: 'acme', status: 'connected' },
          {
            id: 'acc_li',
            workspaceId: 'wks_a1',
            platform: 'linkedin',
            username: 'acme-li',
            displayName: 'Acme',
            status: 'token_expired',
          },
        ],
      },
    });
  });
  afterAll(() => sb.close());

  it('when a well-formed key is not in the list, then 401', async () => {
    const r = await call(sb.url, 'GET', '/v1/workspaces', { key: newKey() });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('unauthorized');
  });

  it('when a key lists its workspaces, then exactly those are returned', async () => {
    const r = await call(sb.url, 'GET', '/v1/workspaces', { key: keyA });
    expect(r.json.items.map((w: { id: string }) => w.id)).toEqual(['wks_a1', 'wks_a2']);
  });

  it('when a key is not allowed on a workspace, then 403 permission_denied', async () => {
    const r = await call(sb.url, 'GET', '/v1/workspaces/wks_b/posts', { key: keyA });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: 'permission_denied', required: 'workspace:wks_b' });
    expect((await call(sb.url, 'GET', '/v1/workspaces/wks_a2/posts', { key: keyA2 })).status).toBe(403);
  });

  it('when an account is not in the fixed list, then 422 account_not_found', async () => {
    const r = await call(sb.url, 'POST', '/v1/workspaces/wks_a1/posts', {
      key: keyA,
      idem: 'x1',
      body: tweet({ accountId: 'acc_nope' }),
    });
    expect(r.status).toBe(422);
    expect(r.json.error).toBe('VALIDATION_FAILED');
    expect(r.json.errors[0]).toMatchObject({ code: 'account_not_found', field: 'accountId', platform: 'twitter' });
    // A listed account of another workspace is unknown here too.
    const other = await call(sb.url, 'POST', '/v1/workspaces/wks_a2/posts', { key: keyA, idem: 'x2', body: tweet() });
    expect(other.json.errors[0].code).toBe('account_not_found');
  });

  it('when two keys map to one tenant, then they share posts in a workspace both may use', async () => {
    const created = await call(sb.url, 'POST', '/v1/workspaces/wks_a1/posts', {
      key: keyA,
      idem: 'shared-1',
      body: tweet(),
    });
    expect(created.status).toBe(201);
    const seen = await call(sb.url, 'GET', `/v1/workspaces/wks_a1/posts/${created.json.id}`, { key: keyA2 });
    expect(seen.status).toBe(200);
    const replay = await call(sb.url, 'POST', '/v1/workspaces/wks_a1/posts', {
      key: keyA2,
      idem: 'shared-1',
      body: tweet(),
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('lists the fixed accounts of a workspace, and answers 404 when the accounts endpoint is off', async () => {
    const r = await call(sb.url, 'GET', '/v1/workspaces/wks_a1/accounts', { key: keyA });
    expect(r.json.items).toEqual([
      { id: 'acc_tw', platform: 'twitter', username: 'acme', displayName: 'acme', status: 'connected' },
      { id: 'acc_li', platform: 'linkedin', username: 'acme-li', displayName: 'Acme', status: 'token_expired' },
    ]);
    sb.update({ accountsEndpoint: false });
    const off = await call(sb.url, 'GET', '/v1/workspaces/wks_a1/accounts', { key: keyA });
    expect(off.status).toBe(404);
    expect(off.json.error).toBe('not_found');
    sb.update({ accountsEndpoint: true });
  });
});
