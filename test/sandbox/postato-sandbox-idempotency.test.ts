// Idempotency of the Postato sandbox over real HTTP: replay, lenient and strict modes, in-flight 409,
// validation failures not stored, retention expiry on a ManualClock.
import { ManualClock } from '../../src/clock';
import { canonicalJson } from '../../src/sandbox/postato-sandbox-idempotency';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet, until } from './postato-sandbox-test-helpers';

const WS = '/v1/workspaces/wks_1/posts';
const T0 = Date.parse('2030-01-01T00:00:00Z');

describe('Postato sandbox idempotency', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  beforeEach(async () => {
    clock = new ManualClock(T0);
    key = newKey();
    sb = await startPostatoSandbox({ clock, tickIntervalMs: 0 });
  });
  afterEach(() => sb.close());

  it('canonical JSON sorts keys recursively so key order does not change the body', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 2 } })).toBe('{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('when the same key and body are sent again, then the original 201 body is replayed with Idempotent-Replayed', async () => {
    const first = await call(sb.url, 'POST', WS, { key, idem: 'idem-1', body: tweet() });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    clock.advance(5000);
    await sb.tick(); // the post moves on; the replay still shows the original response
    const reordered = JSON.stringify({
      content: 'hello world',
      postType: 'tweet',
      status: 'publish',
      accountId: 'acc_tw',
      platform: 'twitter',
    });
    const second = await call(sb.url, 'POST', WS, { key, idem: 'idem-1', body: reordered });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.json).toEqual(first.json);
    const inspection = sb.inspect();
    expect(inspection.posts).toHaveLength(1);
    expect(inspection.posts[0]?.idempotencyKey).toBe('idem-1');
    expect(inspection.tenants[0]?.counters.replayed).toBe(1);
  });

  it('when lenient and the body differs, then the original is replayed and nothing changes', async () => {
    const first = await call(sb.url, 'POST', WS, { key, idem: 'idem-2', body: tweet() });
    const other = await call(sb.url, 'POST', WS, { key, idem: 'idem-2', body: tweet({ content: 'different' }) });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBe('true');
    expect(other.json.id).toBe(first.json.id);
    expect(other.json.content).toEqual([{ text: 'hello world' }]);
    expect(sb.inspect().posts).toHaveLength(1);
  });

  it('when strict and the body differs, then 422 idempotency_key_reused; the same body still replays', async () => {
    sb.update({ idempotencyMode: 'strict' });
    await call(sb.url, 'POST', WS, { key, idem: 'idem-3', body: tweet() });
    const other = await call(sb.url, 'POST', WS, { key, idem: 'idem-3', body: tweet({ content: 'different' }) });
    expect(other.status).toBe(422);
    expect(other.json.error).toBe('idempotency_key_reused');
    const same = await call(sb.url, 'POST', WS, { key, idem: 'idem-3', body: tweet() });
    expect(same.headers.get('idempotent-replayed')).toBe('true');
  });

  it('when strict and no key is sent, then 400 idempotency_key_required; lenient accepts it', async () => {
    sb.update({ idempotencyMode: 'strict' });
    const r = await call(sb.url, 'POST', WS, { key, body: tweet() });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('idempotency_key_required');
    sb.update({ idempotencyMode: 'lenient' });
    expect((await call(sb.url, 'POST', WS, { key, body: tweet() })).status).toBe(201);
  });

  it('when a create fails validation, then the key is not stored and a corrected body under it creates the post', async () => {
    const bad = await call(sb.url, 'POST', WS, { key, idem: 'idem-4', body: tweet({ content: 'x'.repeat(281) }) });
    expect(bad.status).toBe(422);
    const bad400 = await call(sb.url, 'POST', WS, { key, idem: 'idem-4', body: tweet({ status: 'later' }) });
    expect(bad400.status).toBe(400);
    const good = await call(sb.url, 'POST', WS, { key, idem: 'idem-4', body: tweet() });
    expect(good.status).toBe(201);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('when the retention period has passed, then the key is forgotten and creates a new post', async () => {
    sb.update({ idempotencyRetentionMs: 24 * 3600_000 });
    const first = await call(sb.url, 'POST', WS, { key, idem: 'idem-5', body: tweet() });
    clock.advance(24 * 3600_000 - 1);
    const within = await call(sb.url, 'POST', WS, { key, idem: 'idem-5', body: tweet() });
    expect(within.json.id).toBe(first.json.id);
    clock.advance(1);
    const after = await call(sb.url, 'POST', WS, { key, idem: 'idem-5', body: tweet() });
    expect(after.status).toBe(201);
    expect(after.headers.get('idempotent-replayed')).toBeNull();
    expect(after.json.id).not.toBe(first.json.id);
  });

  it('when the first request is still in flight, then a second one gets 409 idempotency_key_in_use with Retry-After 1', async () => {
    sb.update({ faults: { hangShare: 1, hangMs: 600 } });
    const first = call(sb.url, 'POST', WS, { key, idem: 'idem-6', body: tweet() });
    await until(() => sb.inspect().tenants[0]?.counters.create === 1);
    sb.update({ faults: { hangShare: 0 } });
    const second = await call(sb.url, 'POST', WS, { key, idem: 'idem-6', body: tweet() });
    expect(second.status).toBe(409);
    expect(second.json.error).toBe('idempotency_key_in_use');
    expect(second.headers.get('retry-after')).toBe('1');
    const done = await first;
    expect(done.status).toBe(201);
    const third = await call(sb.url, 'POST', WS, { key, idem: 'idem-6', body: tweet() });
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(third.json.id).toBe(done.json.id);
  });
});
