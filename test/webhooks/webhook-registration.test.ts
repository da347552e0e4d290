import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../src/app';
import { systemClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { AppError } from '../../src/errors';
import { silentLogger } from '../../src/logger';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { createPostatoWebhookRouter } from '../../src/webhooks/postato-webhook-router';
import { registerPostatoWebhook, webhookUrlFor } from '../../src/webhooks/webhook-registration';
import { runRegisterWebhook } from '../../scripts/register-webhook';
import { InMemoryWebhookSecretStore, InMemoryWebhookSink } from './in-memory-webhook-fakes';

const fakeKey = () => 'smcp_' + randomBytes(32).toString('hex');

describe('webhook registration against the Postato sandbox', () => {
  let sandbox: PostatoSandbox;
  let server: Server | undefined;
  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      tickIntervalMs: 0,
      settings: { deliveryStepMs: 10, deliveryFailShare: 0, webhookRetryBaseMs: 10 },
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await sandbox.close();
  });

  it('when registered, then the secret Postato returns is stored for the workspace and the URL names the workspace', async () => {
    const store = new InMemoryWebhookSecretStore();
    const result = await registerPostatoWebhook({
      apiUrl: sandbox.url,
      apiKey: fakeKey(),
      workspaceId: 'wks_reg',
      publicUrl: 'https://sheets.example.com/base',
      store,
    });
    expect(result.url).toBe('https://sheets.example.com/base/v1/webhooks/postato?workspace=wks_reg');
    expect(result.webhookId).toBeTruthy();
    expect(result.events).toEqual(expect.arrayContaining(['post.published', 'post.failed']));
    const secrets = await store.secretsFor('wks_reg');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).toMatchObject({ workspaceId: 'wks_reg', secret: expect.stringMatching(/^whsec_/) });
  });

  it("when registered against a running service, then Postato's signed post.published reaches the sink end to end", async () => {
    const store = new InMemoryWebhookSecretStore();
    const sink = new InMemoryWebhookSink(new Set());
    const config = loadConfig({ NODE_ENV: 'test', AUTH_SHARED_SECRET: randomBytes(24).toString('hex') });
    const app = createApp({
      config,
      logger: silentLogger,
      routers: [createPostatoWebhookRouter({ sink, secrets: store, clock: systemClock, logger: silentLogger })],
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const apiKey = fakeKey();
    await registerPostatoWebhook({ apiUrl: sandbox.url, apiKey, workspaceId: 'wks_e2e', publicUrl, store });

    const created = await fetch(`${sandbox.url}/v1/workspaces/wks_e2e/posts`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${apiKey}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': randomBytes(8).toString('hex'),
      },
      body: JSON.stringify({
        platform: 'twitter',
        accountId: 'acc_1',
        status: 'publish',
        postType: 'tweet',
        content: 'hello',
      }),
    });
    expect(created.status).toBe(201);
    const post = (await created.json()) as { id: string };
    sink.knownPostIds.add(post.id);

    for (let i = 0; i < 50 && sink.applied.length === 0; i++) {
      sandbox.advance(20);
      await sandbox.tick();
    }
    expect(sink.applied).toHaveLength(1);
    expect(sink.applied[0]).toMatchObject({ type: 'post.published', postId: post.id, status: 'published' });
    expect(sink.applied[0]!.platformUrl).toMatch(/^https?:\/\//);
  });

  it('when the API key is refused, then the error says to check POSTATO_API_KEY, never shows the key, and nothing is stored', async () => {
    const good = fakeKey();
    sandbox.update({ keys: [{ apiKey: good, tenantId: 't1', workspaceIds: ['wks_1'] }] });
    try {
      const store = new InMemoryWebhookSecretStore();
      const bad = fakeKey();
      const err = await registerPostatoWebhook({
        apiUrl: sandbox.url,
        apiKey: bad,
        workspaceId: 'wks_1',
        publicUrl: 'https://s.example.com',
        store,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).message).toMatch(/POSTATO_API_KEY/);
      expect(JSON.stringify({ m: (err as AppError).message, s: (err as AppError).stack })).not.toContain(bad.slice(5));
      expect(await store.secretsFor(undefined)).toEqual([]);
    } finally {
      sandbox.update({ keys: 'any' });
    }
  });

  it('refuses a public URL that is not https (except loopback) or not a URL', () => {
    expect(() => webhookUrlFor('http://sheets.example.com', 'wks_1')).toThrow(/https/);
    expect(() => webhookUrlFor('not a url', 'wks_1')).toThrow(/not a URL/);
  });

  it('the command reads the key from POSTATO_API_KEY only, and stores the secret through the given store', async () => {
    const store = new InMemoryWebhookSecretStore();
    let closed = false;
    const open = async () => ({ store, close: async () => void (closed = true) });
    const env = { POSTATO_API_URL: sandbox.url, POSTATO_API_KEY: fakeKey() };
    const result = await runRegisterWebhook(['--workspace', 'wks_cli', '--url', 'https://s.example.com'], env, open);
    expect(result.url).toContain('workspace=wks_cli');
    expect(await store.secretsFor('wks_cli')).toHaveLength(1);
    expect(closed).toBe(true);

    await expect(
      runRegisterWebhook(
        ['--workspace', 'wks_cli', '--url', 'https://s.example.com'],
        { POSTATO_API_URL: sandbox.url },
        open,
      ),
    ).rejects.toThrow(/POSTATO_API_KEY/);
  });

  it('when no secret store can be opened, then the command fails before registering anything', async () => {
    const before = JSON.stringify(sandbox.inspect().tenants);
    const open = async () => {
      throw new AppError('secret_store_unavailable', 'no store');
    };
    await expect(
      runRegisterWebhook(
        ['--workspace', 'wks_x', '--url', 'https://s.example.com'],
        { POSTATO_API_URL: sandbox.url, POSTATO_API_KEY: fakeKey() },
        open,
      ),
    ).rejects.toThrow(/no store/);
    expect(JSON.stringify(sandbox.inspect().tenants)).toBe(before);
  });
});
