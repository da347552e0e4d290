import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ManualClock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { PostatoClient, canonicalJson, type PostatoClientOptions } from '../../src/postato/postato-client';
import { PostatoError } from '../../src/postato/postato-errors';
import type { CreatePostBody } from '../../src/post-body';
import { startScriptedServer, type ScriptedAnswer, type ScriptedServer } from './scripted-server';

const apiKey = () => 'smcp_' + randomBytes(32).toString('hex');
const body: CreatePostBody = {
  platform: 'twitter',
  accountId: 'acc_1',
  status: 'scheduled',
  postType: 'tweet',
  content: 'hello',
  scheduledAt: '2030-01-01T10:00:00Z',
};
const post = (id = 'pst_1', extra: Record<string, unknown> = {}) => ({
  id,
  status: 'scheduled',
  platform: 'twitter',
  accountId: 'acc_1',
  postType: 'tweet',
  content: [{ text: 'hello' }],
  createdAt: '2025-01-01T00:00:00Z',
  ...extra,
});

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A client whose waits are recorded and skipped (the clock moves by the wait), with no jitter randomness. */
function client(url: string, over: Partial<PostatoClientOptions> = {}) {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const waits: number[] = [];
  const c = new PostatoClient({
    baseUrl: url,
    apiKey: over.apiKey ?? apiKey(),
    timeoutMs: 2000,
    clock,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      clock.advance(ms);
    },
    retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxTotalMs: 60_000 },
    ...over,
  });
  return { c, clock, waits };
}

async function script(answers: ScriptedAnswer[] | ((n: number) => ScriptedAnswer)) {
  server = await startScriptedServer((_req, n) =>
    typeof answers === 'function' ? answers(n) : (answers[n] ?? { status: 500 }),
  );
  return server;
}

async function caught(p: Promise<unknown>): Promise<PostatoError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PostatoError) return e;
    throw e;
  }
  throw new Error('expected a PostatoError');
}

describe('PostatoClient requests', () => {
  it('sends the key only as a bearer token, the Idempotency-Key, and a canonical JSON body; detects replays', async () => {
    const s = await script([{ status: 201, body: post(), headers: { 'Idempotent-Replayed': 'true' } }]);
    const key = apiKey();
    const { c } = client(s.url, { apiKey: key });
    const res = await c.createPost('wks_1', body, 'idem-1');
    expect(res.replayed).toBe(true);
    expect(res.post.id).toBe('pst_1');
    const r = s.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/workspaces/wks_1/posts');
    expect(r.headers.authorization).toBe(`Bearer ${key}`);
    expect(r.headers['idempotency-key']).toBe('idem-1');
    expect(r.body).toBe(canonicalJson(body));
    expect(Object.keys(JSON.parse(r.body))).toEqual([...Object.keys(body)].sort());
    expect(r.url + r.body).not.toContain(key);
  });

  it('reports a first-time create as not replayed', async () => {
    const s = await script([{ status: 201, body: post() }]);
    expect((await client(s.url).c.createPost('wks_1', body, 'k')).replayed).toBe(false);
  });

  it('accepts both status vocabularies, x as twitter, externalId as platformPostId, and extra fields', async () => {
    const s = await script([
      {
        status: 200,
        body: post('pst_2', {
          status: 'processing',
          platform: 'x',
          externalId: '123',
          externalUrl: 'https://x.com/1',
          surprise: { a: 1 },
        }),
      },
    ]);
    const p = await client(s.url).c.getPost('wks_1', 'pst_2');
    expect(p).toMatchObject({
      id: 'pst_2',
      status: 'processing',
      platform: 'twitter',
      platformPostId: '123',
      platformUrl: 'https://x.com/1',
    });
  });

  it('rejects a 2xx body without the fields it needs as unexpected_response (outcome unknown for a write)', async () => {
    const s = await script([
      { status: 201, body: { status: 'queued' } },
      { status: 200, body: 'not json' },
    ]);
    const { c } = client(s.url);
    const e = await caught(c.createPost('wks_1', body, 'k'));
    expect([e.code, e.outcomeUnknown]).toEqual(['unexpected_response', true]);
    expect(s.requests).toHaveLength(1);
    const g = await caught(c.getPost('wks_1', 'pst_1'));
    expect([g.code, g.outcomeUnknown]).toEqual(['unexpected_response', false]);
  });

  it('lists workspaces and accounts in either documented envelope, and treats a 404 accounts endpoint as unavailable', async () => {
    const s = await script([
      { status: 200, body: { items: [{ id: 'wks_1', name: 'Main' }] } },
      { status: 200, body: { workspaces: [{ id: 'wks_2', name: 'Other', role: 'editor' }] } },
      { status: 200, body: { items: [{ id: 'acc_1', platform: 'x', username: 'me', status: 'connected' }] } },
      { status: 404, body: { error: 'not_found' } },
    ]);
    const { c } = client(s.url);
    expect((await c.listWorkspaces()).map((w) => w.id)).toEqual(['wks_1']);
    expect((await c.listWorkspaces()).map((w) => w.id)).toEqual(['wks_2']);
    expect(await c.listAccounts('wks_1')).toEqual([expect.objectContaining({ id: 'acc_1', platform: 'twitter' })]);
    expect(await c.listAccounts('wks_1')).toBeNull();
    expect(s.requests[2]!.url).toBe('/v1/workspaces/wks_1/accounts');
  });

  it('sends list filters as query parameters, PATCH bodies, and DELETE to the post path', async () => {
    const s = await script([
      { status: 200, body: { items: [post()], page: 2, pageSize: 10, total: 11, totalPages: 2 } },
      { status: 200, body: post('pst_1', { scheduledAt: '2030-02-01T00:00:00Z' }) },
      { status: 200, body: { success: true } },
    ]);
    const { c } = client(s.url);
    const page = await c.listPosts('wks_1', { status: 'scheduled', platform: 'twitter', page: 2, pageSize: 10 });
    expect(page.items).toHaveLength(1);
    expect(new URL(s.requests[0]!.url, 'http://x').searchParams.toString()).toBe(
      'status=scheduled&platform=twitter&page=2&pageSize=10',
    );
    expect((await c.updatePost('wks_1', 'pst_1', { scheduledAt: '2030-02-01T00:00:00Z' })).scheduledAt).toBe(
      '2030-02-01T00:00:00Z',
    );
    expect([s.requests[1]!.method, s.requests[1]!.body]).toEqual(['PATCH', '{"scheduledAt":"2030-02-01T00:00:00Z"}']);
    await c.cancelPost('wks_1', 'pst_1');
    expect([s.requests[2]!.method, s.requests[2]!.url]).toEqual(['DELETE', '/v1/workspaces/wks_1/posts/pst_1']);
  });
});

describe('PostatoClient retries', () => {
  it('waits Retry-After given in seconds, then retries a 429 with the same key and byte-identical body', async () => {
    const s = await script([
      { status: 429, body: { error: 'rate_limited' }, headers: { 'Retry-After': '2' } },
      { status: 201, body: post() },
    ]);
    const { c, waits } = client(s.url);
    await c.createPost('wks_1', body, 'idem-7');
    expect(waits).toEqual([2000]);
    expect(s.requests).toHaveLength(2);
    expect(s.requests[1]!.body).toBe(s.requests[0]!.body);
    expect(s.requests[1]!.headers['idempotency-key']).toBe('idem-7');
  });

  it('waits Retry-After given as an HTTP date, measured on the injected clock', async () => {
    const start = Date.UTC(2025, 0, 1);
    const s = await script([
      { status: 429, headers: { 'Retry-After': new Date(start + 3000).toUTCString() } },
      { status: 201, body: post() },
    ]);
    const { c, waits, clock } = client(s.url);
    expect(clock.now()).toBe(start);
    await c.createPost('wks_1', body, 'k');
    expect(waits).toEqual([3000]);
  });

  it('retries 409 idempotency_key_in_use after its Retry-After with the same key and bytes', async () => {
    const s = await script([
      { status: 409, body: { error: 'idempotency_key_in_use' }, headers: { 'Retry-After': '1' } },
      { status: 201, body: post(), headers: { 'Idempotent-Replayed': 'true' } },
    ]);
    const { c, waits } = client(s.url);
    const res = await c.createPost('wks_1', body, 'idem-9');
    expect([res.replayed, waits]).toEqual([true, [1000]]);
    expect(new Set(s.requests.map((r) => `${r.headers['idempotency-key']}|${r.body}`)).size).toBe(1);
  });

  it('backs off with full jitter on 5xx (exponential ceilings) and succeeds', async () => {
    const s = await script([{ status: 500 }, { status: 502 }, { status: 503 }, { status: 201, body: post() }]);
    const { c, waits } = client(s.url, { random: () => 0.999 });
    await c.createPost('wks_1', body, 'k');
    expect(waits).toEqual([99, 199, 399]);
  });

  it('never retries other 4xx', async () => {
    for (const [status, b] of [
      [400, { error: 'INVALID_REQUEST' }],
      [401, {}],
      [403, { error: 'permission_denied' }],
      [404, { error: 'not_found' }],
      [409, { error: 'not_editable' }],
      [422, { error: 'VALIDATION_FAILED', errors: [] }],
      [422, { error: 'idempotency_key_reused' }],
    ] as const) {
      const s = await script([{ status, body: b }]);
      const e = await caught(client(s.url).c.createPost('wks_1', body, 'k'));
      expect(e.httpStatus).toBe(status);
      expect(s.requests).toHaveLength(1);
      await s.close();
      server = undefined;
    }
  });

  it('does not wait out a 429 when the call turns rate-limit retries off or passes maxAttempts 1', async () => {
    const s = await script(() => ({ status: 429, headers: { 'Retry-After': '5' } }));
    const { c, waits } = client(s.url);
    const e1 = await caught(c.createPost('wks_1', body, 'k', { retry: { retryRateLimited: false } }));
    const e2 = await caught(c.createPost('wks_1', body, 'k', { retry: { maxAttempts: 1 } }));
    expect([e1.code, e1.retryAfterMs, e2.code]).toEqual(['rate_limited', 5000, 'rate_limited']);
    expect([s.requests.length, waits]).toEqual([2, []]);
  });

  it('stops at maxAttempts', async () => {
    const s = await script(() => ({ status: 503 }));
    const e = await caught(client(s.url).c.getPost('wks_1', 'pst_1'));
    expect(e.code).toBe('upstream_unavailable');
    expect(s.requests).toHaveLength(5);
  });

  it('stops when the next wait would pass maxTotalMs, whatever maxAttempts allows', async () => {
    const s = await script(() => ({ status: 503 }));
    const { c, waits } = client(s.url, {
      random: () => 0.999,
      retry: { maxAttempts: 100, baseDelayMs: 100, maxDelayMs: 400, maxTotalMs: 1000 },
    });
    await caught(c.getPost('wks_1', 'pst_1'));
    // 99 + 199 + 399 = 697; the next 399 would end at 1096 > 1000.
    expect(waits).toEqual([99, 199, 399]);
    expect(s.requests).toHaveLength(4);
  });

  it('gives up at once on a Retry-After longer than the remaining total time', async () => {
    const s = await script(() => ({ status: 429, headers: { 'Retry-After': '120' } }));
    const { c, waits } = client(s.url);
    const e = await caught(c.listWorkspaces());
    expect([e.code, e.retryAfterMs, waits.length, s.requests.length]).toEqual(['rate_limited', 120_000, 0, 1]);
  });

  it('times out a hanging request, marks a write outcome-unknown, and retries it with the same bytes', async () => {
    const s = await script([{ hang: true }, { status: 201, body: post(), headers: { 'Idempotent-Replayed': 'true' } }]);
    const { c } = client(s.url, { timeoutMs: 100 });
    const res = await c.createPost('wks_1', body, 'idem-h');
    expect(res.replayed).toBe(true);
    expect(s.requests[1]!.body).toBe(s.requests[0]!.body);
    expect(s.requests[1]!.headers['idempotency-key']).toBe('idem-h');
  });

  it('reports timeout (write: outcome unknown; read: known) once attempts run out', async () => {
    const s = await script(() => ({ hang: true }));
    const { c } = client(s.url, { timeoutMs: 50, retry: { maxAttempts: 2 } });
    const w = await caught(c.createPost('wks_1', body, 'k'));
    expect([w.code, w.outcomeUnknown]).toEqual(['timeout', true]);
    const r = await caught(c.getPost('wks_1', 'p'));
    expect([r.code, r.outcomeUnknown]).toEqual(['timeout', false]);
  });

  it('treats a redirect as a network error, outcome unknown for a write, retried with the same key (never a definite failure)', async () => {
    const s = await script(() => ({ status: 303, headers: { location: '/v1/elsewhere' } }));
    const { c } = client(s.url, { retry: { maxAttempts: 2 } });
    const e = await caught(c.createPost('wks_1', body, 'k'));
    expect([e.code, e.outcomeUnknown, s.requests.length]).toEqual(['network', true, 2]);
    const g = await caught(c.getPost('wks_1', 'pst_1'));
    expect([g.code, g.outcomeUnknown]).toEqual(['network', false]);
  });

  it('treats a dropped connection as a network error with unknown outcome, and a refused one as not applied', async () => {
    const s = await script(() => ({ drop: true }));
    const { c } = client(s.url, { retry: { maxAttempts: 2 } });
    const e = await caught(c.createPost('wks_1', body, 'k'));
    expect([e.code, e.outcomeUnknown, s.requests.length]).toEqual(['network', true, 2]);

    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await caught(
      client(`http://127.0.0.1:${port}`, { retry: { maxAttempts: 1 } }).c.createPost('wks_1', body, 'k'),
    );
    expect([refused.code, refused.outcomeUnknown]).toEqual(['network', false]);
  });

  it('keeps an update outcome-unknown when a retry after a lost answer is refused', async () => {
    const s = await script([{ drop: true }, { status: 409, body: { error: 'not_editable' } }]);
    const e = await caught(client(s.url).c.updatePost('wks_1', 'pst_1', { status: 'publish' }));
    expect([e.code, e.outcomeUnknown]).toEqual(['not_editable', true]);
  });

  it('treats a cancel whose answer was lost as done when the retry finds the post cancelled', async () => {
    const s = await script([
      { drop: true },
      { status: 404, body: { error: 'not_found' } },
      { status: 200, body: post('pst_1', { status: 'cancelled' }) },
    ]);
    await client(s.url).c.cancelPost('wks_1', 'pst_1');
    expect(s.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'GET']);
  });

  it('throws the caller abort reason and stops retrying', async () => {
    const s = await script(() => ({ hang: true }));
    const ac = new AbortController();
    const { c } = client(s.url, { timeoutMs: 5000 });
    const p = c.getPost('wks_1', 'p', { signal: ac.signal });
    // Abort once the server holds the request, so the abort hits a call in flight, not one not yet sent.
    for (let i = 0; i < 250 && s.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    ac.abort(new Error('user cancelled'));
    await expect(p).rejects.toThrow('user cancelled');
    expect(s.requests).toHaveLength(1);
  });
});

describe('listAllPosts', () => {
  const pageOf = (ids: string[], page: number, totalPages?: number) => ({
    status: 200,
    body: { items: ids.map((id) => post(id)), page, pageSize: 100, ...(totalPages ? { totalPages } : {}) },
  });

  it('walks every page with pageSize 100 and returns each post once', async () => {
    const s = await script([pageOf(['a', 'b'], 1, 3), pageOf(['b', 'c'], 2, 3), pageOf(['d'], 3, 3)]);
    const all = await client(s.url).c.listAllPosts('wks_1', { status: 'scheduled' });
    expect(all.map((p) => p.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(s.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('page'))).toEqual(['1', '2', '3']);
    expect(new URL(s.requests[0]!.url, 'http://x').searchParams.get('pageSize')).toBe('100');
  });

  it('stops at a short page when totalPages is absent', async () => {
    const full = Array.from({ length: 100 }, (_, i) => `p${i}`);
    const s = await script([pageOf(full, 1), pageOf(['last'], 2)]);
    expect(await client(s.url).c.listAllPosts('wks_1')).toHaveLength(101);
    expect(s.requests).toHaveLength(2);
  });

  it('throws too_many_pages instead of returning a truncated list past the hard cap', async () => {
    const s = await script((n) => pageOf([`p${n}`], n + 1, 1000));
    const e = await caught(client(s.url).c.listAllPosts('wks_1', {}, { maxPages: 3 }));
    expect(e.code).toBe('too_many_pages');
    expect(s.requests).toHaveLength(3);
  });
});

describe('API key secrecy', () => {
  it('never puts the key in an error, its cause chain or a log line, even when the server echoes it', async () => {
    // Not hex: only the exact-key scrubbing can catch this one.
    const odd = 'smcp_' + 'Zq'.repeat(32);
    for (const key of [apiKey(), odd]) {
      const lines: string[] = [];
      const logger = createLogger({
        level: 'trace',
        destination: new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }),
      });
      const echo = (auth: string) => `you sent ${auth} (${auth.slice(7)})`;
      const s = await startScriptedServer((req, n) => {
        const auth = String(req.headers.authorization);
        const answers: ScriptedAnswer[] = [
          { status: 401, body: { error: 'unauthorized', message: echo(auth) } },
          { status: 400, body: { error: 'INVALID_REQUEST', message: echo(auth), details: { key: [echo(auth)] } } },
          {
            status: 422,
            body: {
              error: 'VALIDATION_FAILED',
              message: echo(auth),
              errors: [{ field: 'x', message: echo(auth), code: auth }],
            },
          },
          { status: 403, body: { error: 'policy_violation', reason: echo(auth), required: auth } },
          { status: 500, body: { error: 'boom', message: echo(auth) } },
          { status: 201, body: { error: echo(auth) } },
          { drop: true },
          { hang: true },
        ];
        return answers[n] ?? { status: 500 };
      });
      server = s;
      const { c } = client(s.url, { apiKey: key, logger, timeoutMs: 2000, retry: { maxAttempts: 1 } });
      const errors: PostatoError[] = [];
      for (let i = 0; i < 8; i++) errors.push(await caught(c.createPost('wks_1', body, 'k')));
      expect(errors.map((e) => e.code)).toEqual([
        'unauthorized',
        'invalid_request',
        'validation_failed',
        'forbidden',
        'upstream_unavailable',
        'unexpected_response',
        'network',
        'timeout',
      ]);
      expect(String(s.requests[0]!.headers.authorization)).toContain(key);
      const dump = (e: unknown, depth = 0): string =>
        e instanceof Error
          ? [
              e.message,
              e.stack,
              JSON.stringify(e),
              (e as PostatoError).userMessage,
              depth < 5 ? dump(e.cause, depth + 1) : '',
            ].join('\n')
          : String(e);
      const text = errors.map((e) => dump(e)).join('\n') + lines.join('\n');
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.slice(5));
      expect(lines.length).toBeGreaterThan(0);
      await s.close();
      server = undefined;
    }
  });
});
