// Per-tenant rolling-window rate limits of the Postato sandbox over real HTTP, on a compressed ManualClock window.
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet } from './postato-sandbox-test-helpers';

const WS = '/v1/workspaces/wks_1/posts';

describe('Postato sandbox rate limits', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  let n = 0;
  const create = (body = tweet(), k = key) => call(sb.url, 'POST', WS, { key: k, idem: `r-${++n}`, body });
  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    key = newKey();
    sb = await startPostatoSandbox({
      clock,
      tickIntervalMs: 0,
      settings: { limits: { create: 3, write: 2, read: 4, windowMs: 10_000 } },
    });
  });
  afterEach(() => sb.close());

  it('when creates exceed the limit in the window, then 429 rate_limited with Retry-After and IETF RateLimit headers', async () => {
    const first = await create();
    expect(first.headers.get('ratelimit-policy')).toBe('"create";q=3;w=10');
    expect(first.headers.get('ratelimit')).toBe('"create";r=2;t=10');
    clock.advance(4000);
    await create();
    await create();
    const over = await create();
    expect(over.status).toBe(429);
    expect(over.json.error).toBe('rate_limited');
    expect(over.json.message).toMatch(/retry after 6 s/);
    expect(over.headers.get('retry-after')).toBe('6');
    expect(over.headers.get('ratelimit')).toBe('"create";r=0;t=6');
    // Rolling window: the first create leaves it at exactly 10 s after it was made.
    clock.advance(5999);
    const stillOver = await create();
    expect(stillOver.status).toBe(429);
    expect(stillOver.headers.get('retry-after')).toBe('1');
    clock.advance(1);
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(429);
    const t = sb.inspect().tenants[0];
    expect(t?.counters.create).toBe(4);
    expect(t?.counters.rateLimited).toBe(3);
    expect(t?.maxCreatesInAnyWindow).toBe(3);
  });

  it('when requests fail validation or are replays, then they still count', async () => {
    expect((await create(tweet({ status: 'nope' }))).status).toBe(400);
    const ok = await call(sb.url, 'POST', WS, { key, idem: 'same', body: tweet() });
    const replay = await call(sb.url, 'POST', WS, { key, idem: 'same', body: tweet() });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(ok.status).toBe(201);
    expect((await create()).status).toBe(429);
    expect(sb.inspect().tenants[0]?.counters.validationFailed).toBe(1);
  });

  it('when one tenant is limited, then other tenants and other classes are not', async () => {
    for (let i = 0; i < 3; i++) await create();
    expect((await create()).status).toBe(429);
    expect((await create(tweet(), newKey())).status).toBe(201);
    const read = await call(sb.url, 'GET', WS, { key });
    expect(read.status).toBe(200);
    expect(read.headers.get('ratelimit-policy')).toBe('"read";q=4;w=10');
  });

  it('PATCH and DELETE share the write limit; GET has its own', async () => {
    sb.update({ limits: { create: 100 } });
    const a = await create(tweet({ status: 'draft' }));
    const b = await create(tweet({ status: 'draft' }));
    expect((await call(sb.url, 'PATCH', `${WS}/${a.json.id}`, { key, body: { content: 'x' } })).status).toBe(200);
    expect((await call(sb.url, 'DELETE', `${WS}/${b.json.id}`, { key })).status).toBe(200);
    const third = await call(sb.url, 'DELETE', `${WS}/${a.json.id}`, { key });
    expect(third.status).toBe(429);
    expect(third.headers.get('ratelimit-policy')).toBe('"write";q=2;w=10');
    for (let i = 0; i < 4; i++) expect((await call(sb.url, 'GET', WS, { key })).status).toBe(200);
    expect((await call(sb.url, 'GET', `${WS}/${a.json.id}`, { key })).status).toBe(429);
  });

  it('when a forced 429 period is set, then every tenant gets 429 with its Retry-After, uncounted, until it ends', async () => {
    const now = clock.now();
    sb.update({ faults: { forced429: { untilMs: now + 3000, retryAfterSeconds: 3 } } });
    for (const k of [key, newKey()]) {
      const r = await create(tweet(), k);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('3');
    }
    expect((await call(sb.url, 'GET', WS, { key })).status).toBe(429);
    clock.advance(3000);
    for (let i = 0; i < 3; i++) expect((await create()).status).toBe(201);
  });

  it('when the window is compressed on the real clock, then the limit frees up in real time', async () => {
    const real = await startPostatoSandbox({ tickIntervalMs: 0, settings: { limits: { create: 2, windowMs: 300 } } });
    try {
      const k = newKey();
      const post = () => call(real.url, 'POST', WS, { key: k, body: tweet() });
      const sentFirstAt = Date.now();
      expect((await post()).status).toBe(201);
      expect((await post()).status).toBe(201);
      const over = await post();
      expect(over.status).toBe(429);
      expect(over.headers.get('retry-after')).toBe('1');
      // Refused requests are not counted, so asking again until one is admitted is safe: the first admitted one comes
      // no sooner than a window after the first post (a lower bound that load can only lengthen, never break).
      let next = await post();
      for (let i = 0; i < 250 && next.status === 429; i++) {
        await new Promise((r) => setTimeout(r, 20));
        next = await post();
      }
      expect(next.status).toBe(201);
      expect(Date.now() - sentFirstAt).toBeGreaterThanOrEqual(300);
    } finally {
      await real.close();
    }
  });
});
