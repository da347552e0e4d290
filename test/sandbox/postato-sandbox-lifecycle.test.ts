// Lifecycle and signed webhooks of the Postato sandbox on a ManualClock, with a real receiving server on port 0:
// scheduled → queued → publishing → published/failed, HMAC verified here, retries with backoff, registration.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, startReceiver, tweet, type Received } from './postato-sandbox-test-helpers';

const T0 = Date.parse('2030-05-01T10:00:00Z');
const WS = '/v1/workspaces/wks_1/posts';

/** Checks the signature exactly as a receiver following §7 would. */
function verify(r: Received, secret: string): boolean {
  const header = String(r.headers['x-webhook-signature']);
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${r.rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2] as string, 'hex'));
}

const events = (rs: Received[]) =>
  rs.map(
    (r) => JSON.parse(r.rawBody) as { id: string; type: string; createdAt: string; data: Record<string, unknown> },
  );

describe('Postato sandbox lifecycle and webhooks', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const secret = 'whsec_' + 'ab'.repeat(16);

  afterEach(async () => {
    await sb.close();
    await receiver.close();
  });

  async function start(statuses: number[] = [], settings = {}) {
    clock = new ManualClock(T0);
    key = newKey();
    receiver = await startReceiver(statuses);
    sb = await startPostatoSandbox({
      clock,
      tickIntervalMs: 0,
      settings: {
        deliveryStepMs: 1000,
        webhooks: [{ url: receiver.url, secret }],
        webhookRetryBaseMs: 500,
        webhookMaxAttempts: 3,
        ...settings,
      },
    });
  }

  it('when a scheduled post comes due, then it goes queued → publishing → published, with signed events in order', async () => {
    await start();
    const c = await call(sb.url, 'POST', WS, {
      key,
      idem: 'l1',
      body: tweet({ status: 'scheduled', scheduledAt: '2030-05-01T10:05:00Z' }),
    });
    await sb.tick();
    const get = async () => (await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json;
    clock.set(Date.parse('2030-05-01T10:04:59Z'));
    await sb.tick();
    expect((await get()).status).toBe('scheduled');
    clock.set(Date.parse('2030-05-01T10:05:00Z'));
    await sb.tick();
    expect((await get()).status).toBe('queued');
    clock.advance(1000);
    await sb.tick();
    expect((await get()).status).toBe('publishing');
    clock.advance(1000);
    await sb.tick();
    const done = await get();
    expect(done.status).toBe('published');
    expect(done.items[0].status).toBe('published');
    expect(done.platformPostId).toMatch(/^\d{19}$/);
    expect(done.platformUrl).toBe(`https://x.com/sandbox_acc_tw/status/${done.platformPostId}`);
    expect(done.updatedAt).toBe('2030-05-01T10:05:02.000Z');

    expect(receiver.received.every((r) => verify(r, secret))).toBe(true);
    expect(receiver.received.some((r) => verify(r, 'whsec_wrong'))).toBe(false);
    expect(receiver.received[0]?.headers['content-type']).toBe('application/json');
    const evs = events(receiver.received);
    expect(evs.map((e) => e.type)).toEqual(['post.scheduled', 'post.queued', 'post.published']);
    expect(evs[2]).toMatchObject({
      id: expect.stringMatching(/^evt_[0-9A-Z]{26}$/),
      createdAt: '2030-05-01T10:05:02.000Z',
      data: {
        postId: c.json.id,
        status: 'published',
        platform: 'twitter',
        accountId: 'acc_tw',
        platformPostId: done.platformPostId,
        platformUrl: done.platformUrl,
      },
    });
    const t = Number(/t=(\d+)/.exec(String(receiver.received[2]?.headers['x-webhook-signature']))?.[1]);
    expect(t).toBe(Math.floor(Date.parse('2030-05-01T10:05:02Z') / 1000));
  });

  it('when one clock jump covers every step, then one tick runs them all', async () => {
    await start();
    const c = await call(sb.url, 'POST', WS, { key, idem: 'l2', body: tweet() });
    clock.advance(60_000);
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.status).toBe('published');
    expect(events(receiver.received).map((e) => e.type)).toEqual(['post.queued', 'post.published']);
  });

  it('when the fail share is 1, then delivery ends failed with an error and a post.failed event', async () => {
    await start([], { deliveryFailShare: 1 });
    const c = await call(sb.url, 'POST', WS, { key, idem: 'l3', body: tweet() });
    clock.advance(2000);
    await sb.tick();
    const post = (await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json;
    expect(post.status).toBe('failed');
    expect(post.error).toMatch(/^platform_error/);
    const last = events(receiver.received).pop();
    expect(last).toMatchObject({
      type: 'post.failed',
      data: { postId: c.json.id, status: 'failed', error: post.error },
    });
  });

  it('when the account token expired (strict accounts), then delivery fails naming it', async () => {
    await start([], {
      accounts: [{ id: 'acc_tw', workspaceId: 'wks_1', platform: 'x', username: 'acme', status: 'token_expired' }],
    });
    const c = await call(sb.url, 'POST', WS, { key, idem: 'l4', body: tweet() });
    expect(c.status).toBe(201);
    clock.advance(2000);
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.error).toMatch(/^account_token_expired/);
  });

  it('when the receiver fails, then the delivery is retried with backoff and given up after the max attempts', async () => {
    await start([500, 503]);
    await call(sb.url, 'POST', WS, { key, idem: 'l5', body: tweet({ status: 'draft' }) });
    await call(sb.url, 'POST', WS, {
      key,
      idem: 'l6',
      body: tweet({ status: 'scheduled', scheduledAt: '2030-05-02T00:00:00Z' }),
    });
    await sb.tick();
    expect(receiver.received).toHaveLength(1); // 500
    clock.advance(499);
    await sb.tick();
    expect(receiver.received).toHaveLength(1); // not due before base
    clock.advance(1);
    await sb.tick();
    expect(receiver.received).toHaveLength(2); // 503
    clock.advance(999);
    await sb.tick();
    expect(receiver.received).toHaveLength(2); // second retry waits 2 × base
    clock.advance(1);
    await sb.tick();
    expect(receiver.received).toHaveLength(3); // 200
    const bodies = new Set(receiver.received.map((r) => JSON.parse(r.rawBody).id));
    expect(bodies.size).toBe(1); // the same event, same id, every attempt
    expect(receiver.received.every((r) => verify(r, secret))).toBe(true);
    expect(sb.inspect().webhooks).toEqual({ delivered: 1, failedAttempts: 2, gaveUp: 0, pending: 0 });
  });

  it('when the receiver is unreachable, then attempts stop at webhookMaxAttempts', async () => {
    await start();
    await receiver.close();
    receiver = await startReceiver();
    sb.update({ webhooks: [{ url: 'http://127.0.0.1:1/nothing', secret }] });
    await call(sb.url, 'POST', WS, {
      key,
      idem: 'l7',
      body: tweet({ status: 'scheduled', scheduledAt: '2030-05-02T00:00:00Z' }),
    });
    for (let i = 0; i < 5; i++) {
      await sb.tick();
      clock.advance(10_000);
    }
    expect(sb.inspect().webhooks).toEqual({ delivered: 0, failedAttempts: 3, gaveUp: 1, pending: 0 });
  });

  it('when a webhook is registered over the API, then it gets only its events, signed with the returned secret', async () => {
    await start();
    sb.update({ webhooks: [] });
    const reg = await call(sb.url, 'POST', '/v1/workspaces/wks_1/webhooks', {
      key,
      body: { url: receiver.url, events: ['post.published'] },
    });
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({
      id: expect.stringMatching(/^whk_/),
      url: receiver.url,
      events: ['post.published'],
      secret: expect.stringMatching(/^whsec_/),
    });
    const bad = await call(sb.url, 'POST', '/v1/workspaces/wks_1/webhooks', {
      key,
      body: { url: 'not a url', events: ['post.nope'] },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details).sort()).toEqual(['events.0', 'url']);
    // Another tenant's post in the same workspace id does not reach this tenant's webhook.
    await call(sb.url, 'POST', WS, { key: newKey(), idem: 'other', body: tweet() });
    await call(sb.url, 'POST', WS, { key, idem: 'l8', body: tweet() });
    clock.advance(2000);
    await sb.tick();
    expect(events(receiver.received).map((e) => e.type)).toEqual(['post.published']);
    expect(verify(receiver.received[0] as Received, reg.json.secret)).toBe(true);
  });

  it('when POST /__sandbox/clock/advance is called, then the clock moves and due work runs', async () => {
    await start();
    const c = await call(sb.url, 'POST', WS, { key, idem: 'l9', body: tweet() });
    const adv = await call(sb.url, 'POST', '/__sandbox/clock/advance', { body: { ms: 2000 } });
    expect(adv.json).toEqual({ now: T0 + 2000 });
    expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.status).toBe('published');
    expect((await call(sb.url, 'POST', '/__sandbox/clock/advance', { body: { ms: -1 } })).status).toBe(400);
  });
});

describe('Postato sandbox on the system clock', () => {
  it('when left alone, then the automatic ticker publishes posts and delivers webhooks in real time', async () => {
    const receiver = await startReceiver();
    const sb = await startPostatoSandbox({
      tickIntervalMs: 20,
      settings: { deliveryStepMs: 30, webhooks: [{ url: receiver.url, secret: 's' }] },
    });
    try {
      const key = newKey();
      const c = await call(sb.url, 'POST', WS, { key, idem: 'real', body: tweet() });
      const deadline = Date.now() + 5000;
      while (receiver.received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(events(receiver.received).map((e) => e.type)).toEqual(['post.queued', 'post.published']);
      expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.status).toBe('published');
    } finally {
      await sb.close();
      await receiver.close();
    }
  });
});
