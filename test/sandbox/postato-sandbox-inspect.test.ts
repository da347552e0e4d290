// The sandbox-only endpoints (inspect, settings, reset) and the `npm run sandbox` environment parsing.
import { parseSandboxEnv, withDemoDefaults } from '../../src/sandbox/postato-sandbox-main';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet } from './postato-sandbox-test-helpers';

const WS = '/v1/workspaces/wks_1/posts';

describe('Postato sandbox inspection endpoints', () => {
  let sb: PostatoSandbox;
  beforeEach(async () => {
    sb = await startPostatoSandbox({ tickIntervalMs: 0 });
  });
  afterEach(() => sb.close());

  it('GET /__sandbox/inspect lists every post with owner and idempotency key, and per-tenant counters', async () => {
    const key = newKey();
    await call(sb.url, 'POST', WS, { key, idem: 'i1', body: tweet() });
    await call(sb.url, 'POST', WS, { key, idem: 'i1', body: tweet() });
    await call(sb.url, 'POST', WS, { key, idem: 'i2', body: tweet({ status: 'bad' }) });
    await call(sb.url, 'GET', WS, { key });
    const r = await call(sb.url, 'GET', '/__sandbox/inspect');
    expect(r.status).toBe(200);
    const { now: _now, ...rest } = sb.inspect();
    expect(r.json).toEqual({ now: expect.any(Number), ...JSON.parse(JSON.stringify(rest)) });
    expect(r.json.tenants).toEqual([
      {
        tenantId: expect.stringMatching(/^tnt_/),
        counters: { create: 3, write: 0, read: 1, media: 0, rateLimited: 0, replayed: 1, validationFailed: 1 },
        maxCreatesInAnyWindow: 3,
        maxInFlight: 1,
      },
    ]);
    expect(r.json.posts).toEqual([
      expect.objectContaining({ workspaceId: 'wks_1', idempotencyKey: 'i1', tenantId: r.json.tenants[0].tenantId }),
    ]);
    expect(JSON.stringify(r.json)).not.toContain(key.slice(5));
  });

  it('POST /__sandbox/settings applies a partial patch, rejects bad ones, and never shows keys or secrets', async () => {
    const apiKey = newKey();
    const ok = await call(sb.url, 'POST', '/__sandbox/settings', {
      body: {
        limits: { create: 5 },
        keys: [{ apiKey, tenantId: 't1', workspaceIds: ['w'] }],
        webhooks: [{ url: 'http://127.0.0.1:9/h', secret: 'topsecret' }],
      },
    });
    expect(ok.status).toBe(200);
    expect(sb.settings.limits).toEqual({ create: 5, write: 120, read: 600, media: 120, windowMs: 60_000 });
    expect(JSON.stringify(ok.json)).not.toContain(apiKey);
    expect(JSON.stringify(ok.json)).not.toContain('topsecret');
    const bad = await call(sb.url, 'POST', '/__sandbox/settings', {
      body: { limits: { create: 0 }, bogus: 1, faults: { error5xxShare: 2 } },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details).sort()).toEqual(['_body', 'faults.error5xxShare', 'limits.create']);
    expect(sb.settings.limits.create).toBe(5);
  });

  it('POST /__sandbox/reset forgets posts, keys and counters', async () => {
    const key = newKey();
    const first = await call(sb.url, 'POST', WS, { key, idem: 'r1', body: tweet() });
    expect((await call(sb.url, 'POST', '/__sandbox/reset')).json).toEqual({ success: true });
    expect(sb.inspect()).toMatchObject({ posts: [], tenants: [] });
    const again = await call(sb.url, 'POST', WS, { key, idem: 'r1', body: tweet() });
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.json.id).not.toBe(first.json.id);
  });

  it('unknown paths outside /v1 and /__sandbox answer 404 not_found', async () => {
    const r = await call(sb.url, 'GET', '/health');
    expect(r.status).toBe(404);
    expect(r.json.error).toBe('not_found');
  });
});

describe('parseSandboxEnv', () => {
  it('defaults to 127.0.0.1:4010 with no settings', () => {
    expect(parseSandboxEnv({})).toEqual({ port: 4010, host: '127.0.0.1', settings: {} });
  });

  it('reads SANDBOX_PORT, SANDBOX_HOST and a SANDBOX_SETTINGS JSON patch', () => {
    const env = parseSandboxEnv({
      SANDBOX_PORT: '0',
      SANDBOX_HOST: '0.0.0.0',
      SANDBOX_SETTINGS: '{"idempotencyMode":"strict","limits":{"windowMs":1000}}',
    });
    expect(env).toEqual({
      port: 0,
      host: '0.0.0.0',
      settings: { idempotencyMode: 'strict', limits: { windowMs: 1000 } },
    });
  });

  it('lists every bad variable in one error', () => {
    expect(() => parseSandboxEnv({ SANDBOX_PORT: 'abc', SANDBOX_SETTINGS: '{nope' })).toThrow(
      /SANDBOX_PORT[\s\S]*SANDBOX_SETTINGS: must be valid JSON/,
    );
    expect(() => parseSandboxEnv({ SANDBOX_SETTINGS: '{"idempotencyMode":"sometimes"}' })).toThrow(
      /SANDBOX_SETTINGS.idempotencyMode/,
    );
  });
});

describe('withDemoDefaults (npm run sandbox)', () => {
  it('turns the account list off while accounts are created on first use, and keeps any explicit choice', () => {
    const media = { unknownRefs: 'accept' };
    expect(withDemoDefaults({})).toEqual({ accountsEndpoint: false, media });
    expect(withDemoDefaults({ idempotencyMode: 'strict' })).toEqual({
      idempotencyMode: 'strict',
      accountsEndpoint: false,
      media,
    });
    const accounts = [
      { id: 'acc_1', workspaceId: 'wks_1', platform: 'twitter', username: 'brand', status: 'connected' as const },
    ];
    expect(withDemoDefaults({ accounts })).toEqual({ accounts, media });
    expect(withDemoDefaults({ accountsEndpoint: true })).toEqual({ accountsEndpoint: true, media });
  });

  it('accepts media ids the sandbox never issued (the sample campaign names one) unless told otherwise', () => {
    expect(withDemoDefaults({ media: { maxSizeBytes: 10 } }).media).toEqual({
      maxSizeBytes: 10,
      unknownRefs: 'accept',
    });
    expect(withDemoDefaults({ media: { unknownRefs: 'reject' } }).media).toEqual({ unknownRefs: 'reject' });
  });
});
