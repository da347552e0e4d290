import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../src/app';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createPostatoWebhookRouter, POSTATO_WEBHOOK_PATH } from '../../src/webhooks/postato-webhook-router';
import { signWebhookPayload, webhookSignatureHeader } from '../../src/webhooks/webhook-signature';
import { InMemoryWebhookSecretStore, InMemoryWebhookSink } from './in-memory-webhook-fakes';

const T0 = Date.UTC(2031, 2, 4, 12, 0, 0);

function setup() {
  const clock = new ManualClock(T0);
  const sink = new InMemoryWebhookSink(new Set(['pst_known', 'pst_other']));
  const secrets = new InMemoryWebhookSecretStore();
  const wsSecret = 'whsec_' + randomBytes(24).toString('hex');
  const otherSecret = 'whsec_' + randomBytes(24).toString('hex');
  void secrets.saveSecret('wks_1', wsSecret, 'wh_1');
  void secrets.saveSecret('wks_2', otherSecret, 'wh_2');
  const config = loadConfig({ NODE_ENV: 'test', AUTH_SHARED_SECRET: randomBytes(24).toString('hex') });
  const app = createApp({
    config,
    logger: silentLogger,
    routers: [createPostatoWebhookRouter({ sink, secrets, clock, logger: silentLogger })],
  });
  const nowS = () => Math.floor(clock.now() / 1000);
  const deliver = (body: string, opts: { secret?: string; header?: string; path?: string } = {}) =>
    request(app)
      .post(opts.path ?? POSTATO_WEBHOOK_PATH)
      .set('Content-Type', 'application/json')
      .set('X-Webhook-Signature', opts.header ?? webhookSignatureHeader(opts.secret ?? wsSecret, body, nowS()))
      .send(body);
  return { clock, sink, secrets, wsSecret, otherSecret, app, deliver, nowS };
}

const event = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `evt_${randomBytes(6).toString('hex')}`,
    type: 'post.published',
    createdAt: new Date(T0).toISOString(),
    data: {
      postId: 'pst_known',
      status: 'published',
      platform: 'twitter',
      accountId: 'acc_1',
      platformPostId: '99',
      platformUrl: 'https://x.com/a/status/99',
      ...data,
    },
    ...over,
  });

describe('POST /v1/webhooks/postato', () => {
  it('when a signed event carries a link that is not an absolute https:// URL, then the event applies but no link reaches the Link column', async () => {
    const { deliver, sink } = setup();
    const bad = [
      'javascript:alert(1)',
      'http://x.com/a/status/99',
      'data:text/html,<b>x</b>',
      '=HYPERLINK("https://evil.example","x")',
      'https://user:pass@x.com/a',
      '//x.com/a',
      'x.com/a',
    ];
    for (const platformUrl of bad) {
      const res = await deliver(event({}, { platformUrl }));
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('applied');
    }
    expect(sink.applied.map((e) => e.platformUrl)).toEqual(bad.map(() => undefined));
    await deliver(event({}, { platformUrl: 'https://www.instagram.com/p/abc/' }));
    expect(sink.applied.at(-1)?.platformUrl).toBe('https://www.instagram.com/p/abc/');
  });

  it('when a correctly signed post.published arrives, then the sink gets it with its link and Postato gets 200 applied', async () => {
    const { deliver, sink } = setup();
    const res = await deliver(event());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, result: 'applied' });
    expect(sink.applied).toHaveLength(1);
    expect(sink.applied[0]).toMatchObject({
      type: 'post.published',
      postId: 'pst_known',
      status: 'published',
      platformUrl: 'https://x.com/a/status/99',
    });
  });

  it('when post.failed arrives, then the sink gets the reason', async () => {
    const { deliver, sink } = setup();
    const res = await deliver(
      event(
        { type: 'post.failed' },
        { status: 'failed', error: 'Caption longer than 2200 characters', platformUrl: undefined },
      ),
    );
    expect(res.status).toBe(200);
    expect(sink.applied[0]).toMatchObject({ type: 'post.failed', error: 'Caption longer than 2200 characters' });
  });

  it('when the signature is computed over the exact raw bytes (spaces, key order), then it verifies: the body is not re-serialised', async () => {
    const { deliver } = setup();
    const pretty = JSON.stringify(JSON.parse(event()), null, 3) + '\n';
    expect((await deliver(pretty)).status).toBe(200);
  });

  it('when the same event is delivered twice (Postato retry), then it is applied once and both deliveries get 2xx', async () => {
    const { deliver, sink } = setup();
    const body = event();
    expect((await deliver(body)).body.result).toBe('applied');
    const again = await deliver(body);
    expect(again.status).toBe(200);
    expect(again.body.result).toBe('duplicate');
    expect(sink.applied).toHaveLength(1);
  });

  it('when a captured delivery is replayed after more than 300 s, then it is refused as stale and nothing is applied', async () => {
    const { deliver, sink, clock, wsSecret, nowS } = setup();
    const body = event({}, { postId: 'pst_other' });
    const header = webhookSignatureHeader(wsSecret, body, nowS());
    clock.advance(301_000);
    const res = await deliver(body, { header });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_signature');
    expect(res.body.message).toMatch(/300 s/);
    expect(sink.applied).toHaveLength(0);
  });

  it('when the timestamp is more than 300 s in the future, then it is refused', async () => {
    const { deliver, wsSecret, nowS } = setup();
    const body = event();
    const t = nowS() + 301;
    expect((await deliver(body, { header: `t=${t},v1=${signWebhookPayload(wsSecret, t, body)}` })).status).toBe(400);
  });

  it('when the delivery is within 300 s, then a slightly old signature still verifies', async () => {
    const { deliver, clock, wsSecret, nowS } = setup();
    const body = event();
    const header = webhookSignatureHeader(wsSecret, body, nowS());
    clock.advance(299_000);
    expect((await deliver(body, { header })).status).toBe(200);
  });

  it('when the signature is forged (unknown secret) or the body was changed after signing, then 400 and nothing is applied', async () => {
    const { deliver, sink, wsSecret, nowS } = setup();
    expect((await deliver(event(), { secret: 'whsec_' + randomBytes(24).toString('hex') })).status).toBe(400);
    const body = event();
    const header = webhookSignatureHeader(wsSecret, body, nowS());
    const tampered = body.replace('https://x.com/a/status/99', 'https://evil.example/phish');
    expect((await deliver(tampered, { header })).status).toBe(400);
    expect(sink.applied).toHaveLength(0);
  });

  it('when the signature header is missing or malformed, then 400 with a message that shows the expected form', async () => {
    const { app, deliver } = setup();
    const missing = await request(app).post(POSTATO_WEBHOOK_PATH).set('Content-Type', 'application/json').send(event());
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/missing/);
    for (const header of ['nonsense', 't=abc,v1=00', 'v1=' + 'a'.repeat(64), 't=1', '']) {
      const res = await deliver(event(), { header });
      expect(res.status).toBe(400);
    }
  });

  it('when the header carries several v1 values and one matches (secret rotation), then it verifies', async () => {
    const { deliver, wsSecret, nowS } = setup();
    const body = event();
    const t = nowS();
    const header = `t=${t},v1=${'0'.repeat(64)},v1=${signWebhookPayload(wsSecret, t, body)}`;
    expect((await deliver(body, { header })).status).toBe(200);
  });

  it('when ?workspace= names a workspace, then only its secrets count; without it every stored secret is tried', async () => {
    const { deliver, otherSecret } = setup();
    expect(
      (await deliver(event(), { secret: otherSecret, path: `${POSTATO_WEBHOOK_PATH}?workspace=wks_1` })).status,
    ).toBe(400);
    expect(
      (await deliver(event(), { secret: otherSecret, path: `${POSTATO_WEBHOOK_PATH}?workspace=wks_2` })).status,
    ).toBe(200);
    expect((await deliver(event(), { secret: otherSecret })).status).toBe(200);
  });

  it('when the post is not one of ours, then 200 unknown_post (Postato stops retrying)', async () => {
    const { deliver } = setup();
    const res = await deliver(event({}, { postId: 'pst_stranger' }));
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('unknown_post');
  });

  it('when the event is not a delivery event (post.queued), then 200 ignored and the sink is not called', async () => {
    const { deliver, sink } = setup();
    const res = await deliver(event({ type: 'post.queued' }, { status: 'queued' }));
    expect(res.body).toEqual({ received: true, result: 'ignored' });
    expect(sink.applied).toHaveLength(0);
  });

  it('when a correctly signed body is not JSON or not an envelope, then 400 (never 500)', async () => {
    const { deliver } = setup();
    expect((await deliver('{not json')).body.error).toBe('bad_json');
    const res = await deliver(JSON.stringify({ id: 'evt_1', type: 'post.published' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_event');
  });

  it('when the body exceeds 64 kB, then 413', async () => {
    const { deliver } = setup();
    const res = await deliver(event({}, { error: 'x'.repeat(70_000) }));
    expect(res.status).toBe(413);
  });

  it('needs no add-on credentials: the signature is its authentication', async () => {
    const { deliver } = setup();
    expect((await deliver(event())).status).toBe(200);
  });
});
