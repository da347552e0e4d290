/**
 * The client against the Postato sandbox (an independent reading of the same docs): error mapping of real answers,
 * idempotent replays in both modes, paging, and the fault drill of issue 2 (5xx, stored-then-dropped, hangs and
 * forced 429 periods while creating 200 distinct posts must leave exactly 200 posts).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { PostatoClient, type PostatoClientOptions } from '../../src/postato/postato-client';
import { PostatoError } from '../../src/postato/postato-errors';
import { createPostatoAgent } from '../../src/postato/postato-agent';
import type { CreatePostBody } from '../../src/post-body';
import { startPostatoSandbox, type PostatoSandbox, type SandboxSettingsPatch } from '../../src/sandbox/postato-sandbox';

const newKey = () => 'smcp_' + randomBytes(32).toString('hex');
const WS = 'wks_01TEST';
let sandbox: PostatoSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(settings: SandboxSettingsPatch = {}) {
  sandbox = await startPostatoSandbox({
    settings: { limits: { create: 10_000, write: 10_000, read: 10_000, windowMs: 60_000 }, ...settings },
    tickIntervalMs: 0,
  });
  return sandbox;
}

function clientFor(sb: PostatoSandbox, over: Partial<PostatoClientOptions> = {}) {
  return new PostatoClient({
    baseUrl: sb.url,
    apiKey: over.apiKey ?? newKey(),
    timeoutMs: 2000,
    retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 20_000 },
    ...over,
  });
}

const future = (sb: PostatoSandbox, ms = 86_400_000) =>
  new Date(sb.clock.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const tweet = (sb: PostatoSandbox, text: string, extra: Partial<CreatePostBody> = {}): CreatePostBody => ({
  platform: 'twitter',
  accountId: 'acc_main',
  status: 'scheduled',
  postType: 'tweet',
  content: text,
  scheduledAt: future(sb),
  ...extra,
});

async function caught(p: Promise<unknown>): Promise<PostatoError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PostatoError) return e;
    throw e;
  }
  throw new Error('expected a PostatoError');
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

describe('PostatoClient against the sandbox: endpoints and error mapping', () => {
  it('creates, reads, lists, reschedules and cancels a post', async () => {
    const sb = await start();
    const c = clientFor(sb);
    expect(Array.isArray(await c.listWorkspaces())).toBe(true);
    const { post, replayed } = await c.createPost(WS, tweet(sb, 'hello sandbox'), 'k-1');
    expect(replayed).toBe(false);
    expect(post.id).toMatch(/^pst_/);
    expect(post.status).toBe('scheduled');
    expect((await c.getPost(WS, post.id)).id).toBe(post.id);
    const later = future(sb, 2 * 86_400_000);
    expect(Date.parse((await c.updatePost(WS, post.id, { scheduledAt: later })).scheduledAt ?? '')).toBe(
      Date.parse(later),
    );
    const page = await c.listPosts(WS, { status: 'scheduled' });
    expect(page.items.map((p) => p.id)).toContain(post.id);
    await c.cancelPost(WS, post.id);
    expect((await c.getPost(WS, post.id)).status).toBe('cancelled');
    expect((await caught(c.cancelPost(WS, post.id))).code).toBe('not_found');
  });

  it('when given a pool, then its calls keep-alive over it, and once the pool is closed a call is refused unsent', async () => {
    const sb = await start();
    const agent = createPostatoAgent({ connections: 4 });
    const c = clientFor(sb, { dispatcher: agent, retry: { maxAttempts: 1 } });
    for (let i = 0; i < 10; i++) await c.createPost(WS, tweet(sb, `pooled ${i}`), `pool-${i}`);
    // Ten calls one after the other reuse their socket rather than open one each; eight at once stay within the pool.
    const sequential = sb.inspect().connections;
    expect(sequential).toBeLessThanOrEqual(2);
    await Promise.all(Array.from({ length: 8 }, (_, i) => c.createPost(WS, tweet(sb, `burst ${i}`), `burst-${i}`)));
    expect(sb.inspect().connections - sequential).toBeLessThanOrEqual(4);
    await agent.close();
    const e = await caught(c.createPost(WS, tweet(sb, 'after close'), 'closed-1'));
    expect(e.code).toBe('network');
    expect(sb.inspect().posts.filter((p) => p.content[0]?.text === 'after close')).toHaveLength(0);
  });

  it('replays the same key and body with Idempotent-Replayed, returning the same post', async () => {
    const sb = await start();
    const c = clientFor(sb);
    const a = await c.createPost(WS, tweet(sb, 'once'), 'same-key');
    const b = await c.createPost(WS, tweet(sb, 'once', { scheduledAt: a.post.scheduledAt }), 'same-key');
    expect([b.replayed, b.post.id]).toEqual([true, a.post.id]);
    expect(sb.inspect().posts).toHaveLength(1);
  });

  it('maps a bad key to unauthorized, bad fields to invalid_request, platform rules to validation_failed', async () => {
    const sb = await start();
    const bad = await caught(clientFor(sb, { apiKey: 'smcp_nothex' }).listWorkspaces());
    expect(bad.code).toBe('unauthorized');
    const c = clientFor(sb);
    const invalid = await caught(c.createPost(WS, { ...tweet(sb, 'x'), scheduledAt: '2030-01-01T10:00:00' }, 'k-bad'));
    expect(invalid.code).toBe('invalid_request');
    expect(Object.keys(invalid.fieldErrors ?? {})).toContain('scheduledAt');
    const long = await caught(c.createPost(WS, tweet(sb, 'a'.repeat(281)), 'k-long'));
    expect(long.code).toBe('validation_failed');
    expect(long.platformErrors?.length).toBeGreaterThan(0);
    expect(long.userMessage).toMatch(/^Postato rejected the post: /);
    expect(sb.inspect().posts).toHaveLength(0);
  });

  it('maps an unknown account to validation_failed with postatoCode account_not_found', async () => {
    const sb = await start({
      accounts: [{ id: 'acc_known', workspaceId: WS, platform: 'twitter', username: 'known', status: 'connected' }],
    });
    const e = await caught(clientFor(sb).createPost(WS, tweet(sb, 'hi', { accountId: 'acc_missing' }), 'k-acc'));
    expect([e.code, e.postatoCode]).toEqual(['validation_failed', 'account_not_found']);
  });

  it('lists accounts, and returns null when the accounts endpoint answers 404', async () => {
    const sb = await start({
      accounts: [{ id: 'acc_known', workspaceId: WS, platform: 'twitter', username: 'known', status: 'connected' }],
    });
    const c = clientFor(sb);
    expect((await c.listAccounts(WS))?.map((a) => a.id)).toEqual(['acc_known']);
    sb.update({ accountsEndpoint: false });
    expect(await c.listAccounts(WS)).toBeNull();
  });

  it('maps 404 for an unknown post and 409 not_editable for a queued one', async () => {
    const sb = await start();
    const c = clientFor(sb);
    expect((await caught(c.getPost(WS, 'pst_01NOPE'))).code).toBe('not_found');
    const { post } = await c.createPost(WS, tweet(sb, 'now', { status: 'publish', scheduledAt: undefined }), 'k-now');
    expect(['queued', 'pending']).toContain(post.status);
    const e = await caught(c.updatePost(WS, post.id, { content: 'changed' }));
    expect(e.code).toBe('not_editable');
  });

  it('in strict mode, a different body under a used key is idempotency_key_reused and is not retried', async () => {
    const sb = await start({ idempotencyMode: 'strict' });
    const c = clientFor(sb);
    await c.createPost(WS, tweet(sb, 'first'), 'k-strict');
    const e = await caught(c.createPost(WS, tweet(sb, 'second'), 'k-strict'));
    expect([e.code, e.retryable]).toEqual(['idempotency_key_reused', false]);
    expect(sb.inspect().posts).toHaveLength(1);
  });

  it('surfaces 429 with its Retry-After when the caller paces itself', async () => {
    const sb = await start({ limits: { create: 2, windowMs: 60_000 } });
    const c = clientFor(sb);
    await c.createPost(WS, tweet(sb, '1'), 'r1');
    await c.createPost(WS, tweet(sb, '2'), 'r2');
    const e = await caught(c.createPost(WS, tweet(sb, '3'), 'r3', { retry: { retryRateLimited: false } }));
    expect(e.code).toBe('rate_limited');
    expect(e.retryAfterMs).toBeGreaterThan(0);
    expect((e.retryAfterMs ?? 0) % 1000).toBe(0);
  });

  it('walks all pages of the post list', async () => {
    const sb = await start();
    const c = clientFor(sb);
    await pool(
      Array.from({ length: 230 }, (_, i) => i),
      10,
      (i) => c.createPost(WS, tweet(sb, `page post ${i}`), `pg-${i}`),
    );
    const all = await c.listAllPosts(WS, { status: 'scheduled' });
    expect(new Set(all.map((p) => p.id)).size).toBe(230);
    expect((await caught(c.listAllPosts(WS, { status: 'scheduled' }, { maxPages: 2 }))).code).toBe('too_many_pages');
  });
});

describe.each(['lenient', 'strict'] as const)('fault drill in %s idempotency mode', (mode) => {
  it('creates 200 distinct posts through 5xx, stored-then-dropped, hangs and forced 429 periods: exactly 200 posts, none twice', async () => {
    const sb = await start({
      idempotencyMode: mode,
      limits: { create: 60, write: 1000, read: 1000, windowMs: 1000 },
      seed: mode === 'strict' ? 7 : 11,
    });
    sb.update({
      faults: {
        error5xxShare: 0.1,
        dropAfterStoreShare: 0.05,
        hangShare: 0.03,
        // Longer than a 429 wait (1 s) plus the timeout, so the retry of a hung create lands inside the hang (409 in use).
        hangMs: 2500,
        forced429: { untilMs: sb.clock.now() + 1500, retryAfterSeconds: 1 },
      },
    });
    const key = newKey();
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }),
    });
    const c = clientFor(sb, {
      apiKey: key,
      logger,
      timeoutMs: 300,
      retry: { maxAttempts: 40, baseDelayMs: 10, maxDelayMs: 100, maxTotalMs: 25_000 },
    });
    const scheduledAt = future(sb);
    const jobs = Array.from({ length: 200 }, (_, i) => ({
      key: `drill-${mode}-${i}`,
      body: tweet(sb, `drill post ${i}`, { scheduledAt }),
    }));
    const results = await pool(jobs, 20, (j) =>
      c.createPost(WS, j.body, j.key).catch((e: unknown) => {
        // Say which key gave up, after how many attempts and through which answers, to make a failure readable.
        const trail = lines.filter((l) => l.includes(`"${j.key}"`)).join('');
        throw new Error(
          `${j.key} failed after ${(e as PostatoError).attempts} attempts: ${(e as Error).message}\n${trail}`,
        );
      }),
    );

    const seen = sb.inspect();
    const posts = seen.posts;
    expect(posts).toHaveLength(200);
    expect(new Set(posts.map((p) => p.idempotencyKey)).size).toBe(200);
    expect(new Set(results.map((r) => r.post.id)).size).toBe(200);
    expect(new Set(posts.map((p) => p.id))).toEqual(new Set(results.map((r) => r.post.id)));
    // Each key holds exactly the content sent under it.
    const byKey = new Map(posts.map((p) => [p.idempotencyKey, JSON.stringify(p.content)]));
    for (const [i, j] of jobs.entries()) expect(byKey.get(j.key)).toContain(`drill post ${i}`);
    // The faults really happened: some answers were replays and some creates were rate limited.
    const t = seen.tenants[0]!;
    expect(t.counters.replayed).toBeGreaterThan(0);
    expect(t.counters.rateLimited).toBeGreaterThan(0);
    const retried = lines.filter((l) => l.includes('will be retried')).join('');
    for (const code of ['upstream_unavailable', 'network', 'timeout', 'idempotency_key_in_use', 'rate_limited'])
      expect(retried).toContain(`"code":"${code}"`);
    expect(lines.join('\n')).not.toContain(key.slice(5));
  }, 40_000);
});
