// Fault injection of the Postato sandbox over real HTTP: added latency, 5xx before storing, drop after storing,
// hang past the client's timeout (409 during, replay after), and the seeded PRNG making runs reproducible.
import { chooseFault, seededRandom } from '../../src/sandbox/postato-sandbox-faults';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet, until } from './postato-sandbox-test-helpers';

const WS = '/v1/workspaces/wks_1/posts';

describe('Postato sandbox faults', () => {
  let sb: PostatoSandbox;
  let key: string;
  beforeEach(async () => {
    key = newKey();
    sb = await startPostatoSandbox({ tickIntervalMs: 0 });
  });
  afterEach(() => sb.close());

  it('when latency is added, then a client with a shorter timeout gives up, and without it succeeds', async () => {
    sb.update({ faults: { latencyMs: 1500 } });
    await expect(call(sb.url, 'GET', WS, { key, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    sb.update({ faults: { latencyMs: 0 } });
    expect((await call(sb.url, 'GET', WS, { key, signal: AbortSignal.timeout(1000) })).status).toBe(200);
  });

  it('when the 5xx share is 1, then creates answer 503 and nothing is stored, not even the key', async () => {
    sb.update({ faults: { error5xxShare: 1 } });
    const r = await call(sb.url, 'POST', WS, { key, idem: 'f1', body: tweet() });
    expect(r.status).toBe(503);
    expect(r.json.error).toBe('service_unavailable');
    expect(sb.inspect().posts).toHaveLength(0);
    // Faults apply to creates only.
    expect((await call(sb.url, 'GET', WS, { key })).status).toBe(200);
    sb.update({ faults: { error5xxShare: 0 } });
    const retry = await call(sb.url, 'POST', WS, { key, idem: 'f1', body: tweet() });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('when the drop share is 1, then the post and key are stored but the connection closes without an answer', async () => {
    sb.update({ faults: { dropAfterStoreShare: 1 } });
    await expect(call(sb.url, 'POST', WS, { key, idem: 'f2', body: tweet() })).rejects.toThrow();
    const stored = sb.inspect().posts;
    expect(stored).toHaveLength(1);
    expect(stored[0]?.idempotencyKey).toBe('f2');
    sb.update({ faults: { dropAfterStoreShare: 0 } });
    const replay = await call(sb.url, 'POST', WS, { key, idem: 'f2', body: tweet() });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json.id).toBe(stored[0]?.id);
  });

  it('when a create hangs past the client timeout, then a retry gets 409 during the hang and a replay after it', async () => {
    sb.update({ faults: { hangShare: 1, hangMs: 800 } });
    // The client gives up once the sandbox holds the request (a fixed client timeout would race the connection).
    const client = new AbortController();
    const first = call(sb.url, 'POST', WS, { key, idem: 'f3', body: tweet(), signal: client.signal });
    await until(() => sb.inspect().tenants[0]?.counters.create === 1);
    client.abort();
    await expect(first).rejects.toThrow();
    sb.update({ faults: { hangShare: 0 } });
    const during = await call(sb.url, 'POST', WS, { key, idem: 'f3', body: tweet() });
    expect(during.status).toBe(409);
    expect(during.json.error).toBe('idempotency_key_in_use');
    expect(sb.inspect().posts).toHaveLength(0);
    await until(() => sb.inspect().posts.length === 1);
    const after = await call(sb.url, 'POST', WS, { key, idem: 'f3', body: tweet() });
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(after.json.id).toBe(sb.inspect().posts[0]?.id);
  });

  it('when the sandbox closes during a hang, then close() still resolves and forgets the in-flight request', async () => {
    sb.update({ faults: { hangShare: 1, hangMs: 60_000 } });
    const pending = call(sb.url, 'POST', WS, { key, idem: 'f4', body: tweet() }).catch((e: unknown) => e);
    await until(() => sb.inspect().tenants[0]?.counters.create === 1);
    await sb.close();
    // fetch rejects (its TypeError comes from another realm, so check the shape, not the class).
    expect(await pending).toHaveProperty('message', 'fetch failed');
    expect(sb.inspect().posts).toHaveLength(0);
  });

  it('when shares are fractional, then the seeded PRNG gives the same outcomes for the same seed', async () => {
    const outcomes = async (s: PostatoSandbox) => {
      const k = newKey();
      const out: string[] = [];
      for (let i = 0; i < 20; i++) {
        out.push(
          await call(s.url, 'POST', WS, { key: k, idem: `p${i}`, body: tweet() }).then(
            (r) => String(r.status),
            () => 'dropped',
          ),
        );
      }
      return out;
    };
    const faults = { error5xxShare: 0.3, dropAfterStoreShare: 0.2 };
    sb.update({ seed: 7, faults });
    const other = await startPostatoSandbox({ tickIntervalMs: 0, settings: { seed: 7, faults } });
    try {
      const a = await outcomes(sb);
      const b = await outcomes(other);
      expect(a).toEqual(b);
      expect(new Set(a)).toEqual(new Set(['201', '503', 'dropped']));
    } finally {
      await other.close();
    }
  });

  it('chooseFault maps one draw onto the shares in the order 5xx, drop, hang', () => {
    const fixed = (v: number) => ({ next: () => v });
    const shares = { error5xxShare: 0.1, dropAfterStoreShare: 0.2, hangShare: 0.3 };
    expect(chooseFault(fixed(0.05), shares)).toBe('error5xx');
    expect(chooseFault(fixed(0.25), shares)).toBe('dropAfterStore');
    expect(chooseFault(fixed(0.55), shares)).toBe('hang');
    expect(chooseFault(fixed(0.65), shares)).toBe('none');
    const r = seededRandom(3);
    const xs = Array.from({ length: 1000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});
