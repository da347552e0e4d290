/**
 * The publish step, one test per outcome of a create: a real SQLite ledger, the real pacer and key vault, and the
 * Postato sandbox over HTTP on 127.0.0.1 (its fault settings produce 5xx, hangs, dropped answers and 429s). Each test
 * checks the row's state, the attempts the ledger recorded and what it remembers about the post.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import { inspectLedgerDb, type RunRowRecord } from '../../src/ledger/run-ledger';
import { PostatoClient } from '../../src/postato/postato-client';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { canonicalJson, idempotencyKeyFor } from '../../src/runs/idempotency-key';
import { KeyVault } from '../../src/runs/key-vault';
import { createPublishStep, type PublishStep } from '../../src/runs/publish-step';
import { createMemoryPacer, type PaceKind, type TenantPacer } from '../../src/pacing/tenant-pacer';
import type { CreatePostBody } from '../../src/post-body';
import { ACCOUNTS, WS, fakeApiKey, tempDbFile } from './publish-test-kit';

const TENANT = 'tnt_step';
const SHEET = 'sheet-step';
const LEASE_MS = 5000;
/** Generous, so a loaded machine never turns an answer into a timeout; the timeout test uses its own short one. */
const CLIENT_TIMEOUT_MS = 5000;
const SHORT_TIMEOUT_MS = 200;
const NO_FAULTS = {
  latencyMs: 0,
  error5xxShare: 0,
  dropAfterStoreShare: 0,
  hangShare: 0,
  hangMs: 0,
  forced429: null,
};

const bodyOf = (content: string, over: Partial<CreatePostBody> = {}): CreatePostBody =>
  ({
    platform: 'twitter',
    accountId: ACCOUNTS[0]!.id,
    status: 'scheduled',
    postType: 'tweet',
    content,
    scheduledAt: '2031-03-01T15:00:00.000Z',
    ...over,
  }) as CreatePostBody;

/** The idempotency key the step derives for a row of the test sheet. */
const keyOf = (rowKey: string, body: CreatePostBody) =>
  idempotencyKeyFor({ workspaceId: WS, spreadsheetId: SHEET, rowKey, body: JSON.parse(canonicalJson(body)) });

describe('publish step, one create per outcome (SQLite ledger, sandbox over HTTP)', () => {
  let sandbox: PostatoSandbox;
  let opened: OpenedLedger;
  let clock: ManualClock;
  let pacer: TenantPacer;
  let step: PublishStep;
  let apiKey: string;
  const vault = new KeyVault(randomBytes(32).toString('base64'));
  const clientFor = (key: string, timeoutMs = CLIENT_TIMEOUT_MS) =>
    new PostatoClient({ baseUrl: sandbox.url, apiKey: key, timeoutMs, retry: { maxAttempts: 1 } });

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      settings: { accounts: ACCOUNTS, limits: { create: 1000, write: 1000, read: 1000, windowMs: 60_000 } },
      tickIntervalMs: 0,
    });
  });
  afterAll(() => sandbox.close());

  beforeEach(async () => {
    sandbox.update({ idempotencyMode: 'lenient', faults: NO_FAULTS });
    clock = new ManualClock(Date.parse('2030-06-01T12:00:00Z'));
    opened = await openLedger(`sqlite:${tempDbFile()}`, clock);
    pacer = createMemoryPacer({
      clock,
      limits: {
        create: { limit: 100, windowMs: 60_000 },
        write: { limit: 100, windowMs: 60_000 },
        safetyMargin: 0.02,
        maxFlightMs: CLIENT_TIMEOUT_MS,
      },
    });
    apiKey = fakeApiKey();
    step = makeStep(3);
  });
  afterEach(async () => {
    await pacer.close();
    await opened.close();
  });

  function makeStep(maxAttempts: number, timeoutMs = CLIENT_TIMEOUT_MS): PublishStep {
    return createPublishStep({
      ledger: opened.ledger,
      pacer,
      vault,
      clock,
      logger: silentLogger,
      clientFor: (key) => clientFor(key, timeoutMs),
      maxAttempts,
      backoffBaseMs: 100,
      backoffCapMs: 1000,
      random: () => 0.5,
    });
  }

  /** Commits a one-row publish run and claims its row, as a dispatcher would. */
  async function claimedRow(
    rowKey: string,
    body: CreatePostBody | null,
    o: { kind?: 'create' | 'update' | 'cancel'; postId?: string } = {},
  ): Promise<{ runId: string; row: RunRowRecord }> {
    const kind = o.kind ?? 'create';
    const { runId } = await opened.ledger.createRun({
      ownerSubject: 'manager',
      mode: kind === 'create' ? 'publish' : kind === 'update' ? 'reschedule' : 'unschedule',
      spreadsheetId: SHEET,
      sheetName: 'Posts',
      sheetId: 0,
      workspaceId: WS,
      tenantId: TENANT,
      apiKeySealed: vault.encrypt(apiKey),
      rows: [
        {
          rowKey,
          rowNumber: 2,
          kind,
          state: 'pending',
          ...(body ? { bodyJson: JSON.stringify(body) } : {}),
          ...(o.postId ? { postId: o.postId } : {}),
          writeBack: true,
        },
      ],
    });
    return { runId, row: await claimAgain() };
  }

  /** Claims the tenant's next due row (after a deferral, move the clock to its due time first). */
  async function claimAgain(): Promise<RunRowRecord> {
    const row = await opened.ledger.claimNext(TENANT, 'owner-1', clock.now(), LEASE_MS);
    if (!row) throw new Error('no row due');
    return row;
  }

  const rowNow = async (id: string) => (await opened.ledger.getRow(id))!;
  const attemptsOf = (runId: string) =>
    inspectLedgerDb(opened.ledger)
      .selectFrom('attempts')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('started_at')
      .execute();
  const knownPost = (rowKey: string) => opened.ledger.knownPost({ tenantId: TENANT, workspaceId: WS }, SHEET, rowKey);
  const sandboxPostsFor = (content: string) =>
    sandbox.inspect().posts.filter((p) => p.content[0]?.text === content && p.status !== 'cancelled');
  /** The sandbox's counters for the test's API key (each key is its own sandbox tenant). */
  const sandboxCounters = () => {
    const tenantId = `tnt_${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
    return sandbox.inspect().tenants.find((t) => t.tenantId === tenantId)?.counters;
  };
  const sandboxCreates = () => sandboxCounters()?.create ?? 0;
  /** The pacer slot an attempt that called Postato hands back: its kind, stamped at the (manual) clock's time. */
  const calledAt = (kind: PaceKind) => ({ slot: { kind, atMs: clock.now() } });
  const finishedAfterCall = (kind: PaceKind) => ({ kind: 'finished', ...calledAt(kind) });

  it('created: a 201 finishes the row created with its post, one ok attempt, and the post remembered for the row', async () => {
    const body = bodyOf('created row');
    const { runId, row } = await claimedRow('k-created', body);
    expect(await step.processRow(row)).toEqual(finishedAfterCall('create'));

    const [post] = sandboxPostsFor('created row');
    expect(post).toBeDefined();
    expect(await rowNow(row.id)).toMatchObject({
      state: 'created',
      sheet_status: 'SCHEDULED',
      post_id: post!.id,
      failures: 0,
      lease_owner: null,
    });
    const attempts = await attemptsOf(runId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      kind: 'create',
      outcome: 'ok',
      http_status: 201,
      idempotency_key: keyOf('k-created', body),
      body: canonicalJson(body),
    });
    expect(await knownPost('k-created')).toMatchObject({ post_id: post!.id, status: 'SCHEDULED' });
  });

  it('replayed: when Postato already holds the key with the same body, the replay is recorded as the same post, never a second one', async () => {
    const body = bodyOf('replayed row');
    const first = await clientFor(apiKey).createPost(WS, body, keyOf('k-replay', body));
    expect(first.replayed).toBe(false);
    const { runId, row } = await claimedRow('k-replay', body);
    expect(await step.processRow(row)).toEqual(finishedAfterCall('create'));

    expect(sandboxCounters()?.replayed).toBe(1);
    expect(sandboxPostsFor('replayed row')).toHaveLength(1);
    expect(await rowNow(row.id)).toMatchObject({ state: 'created', post_id: first.post.id });
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => [a.outcome, a.http_status])).toEqual([['ok', 201]]);
    expect((await knownPost('k-replay'))?.post_id).toBe(first.post.id);
  });

  it('409 in flight: while the same key is still being processed, the row waits (not a failure of the post) and the attempt stays in doubt', async () => {
    const body = bodyOf('in flight row');
    // Another caller's request with this key hangs inside the sandbox.
    sandbox.update({ faults: { hangShare: 1, hangMs: 1500 } });
    const hanging = clientFor(apiKey).createPost(WS, body, keyOf('k-409', body));
    const until = Date.now() + 5000;
    // Counted means admitted, and the sandbox marks the key in flight in the same tick, before it starts to hang.
    while (sandboxCreates() === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(sandboxCreates()).toBe(1);
    sandbox.update({ faults: { hangShare: 0 } });

    const { runId, row } = await claimedRow('k-409', body);
    const result = await step.processRow(row);
    expect(result).toMatchObject({ kind: 'deferred' });
    // Postato asked for Retry-After: 1; the backoff never comes sooner.
    expect(result.kind === 'deferred' && result.retryAtMs).toBeGreaterThanOrEqual(clock.now() + 1000);
    expect(await rowNow(row.id)).toMatchObject({ state: 'pending', failures: 1, post_id: null, lease_owner: null });
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => [a.outcome, a.http_status, a.error_code])).toEqual([
      ['unknown', 409, 'idempotency_key_in_use'],
    ]);
    expect(await knownPost('k-409')).toBeUndefined();

    // Once the other request has finished, the next attempt replays the same key and records the one post.
    const original = await hanging;
    clock.set(Number((await rowNow(row.id)).next_attempt_at));
    expect(await step.processRow(await claimAgain())).toEqual(finishedAfterCall('create'));
    expect(await rowNow(row.id)).toMatchObject({ state: 'created', post_id: original.post.id });
    expect((await attemptsOf(runId)).map((a) => a.outcome)).toEqual(['resolved', 'ok']);
    expect(sandboxPostsFor('in flight row')).toHaveLength(1);
  });

  it('422 validation: a post Postato rejects ends FAILED with the reason, one failed attempt, and nothing remembered', async () => {
    const text = `too long ${'x'.repeat(300)}`;
    const { runId, row } = await claimedRow('k-422', bodyOf(text));
    expect(await step.processRow(row)).toEqual(finishedAfterCall('create'));

    const after = await rowNow(row.id);
    expect(after).toMatchObject({ state: 'failed', sheet_status: 'FAILED', post_id: null, failures: 0 });
    expect(after.error).toMatch(/280|characters|long/i);
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => [a.outcome, a.http_status, a.error_code])).toEqual([
      ['failed', 422, 'validation_failed'],
    ]);
    expect(await knownPost('k-422')).toBeUndefined();
    expect(sandboxPostsFor(text)).toHaveLength(0);
  });

  it('422 key reused (strict Postato): a key already used with another body ends FAILED and never posts the new body', async () => {
    sandbox.update({ idempotencyMode: 'strict' });
    const body = bodyOf('reused key, new body');
    await clientFor(apiKey).createPost(WS, bodyOf('reused key, old body'), keyOf('k-reused', body));
    const { runId, row } = await claimedRow('k-reused', body);
    expect(await step.processRow(row)).toEqual(finishedAfterCall('create'));

    const after = await rowNow(row.id);
    expect(after).toMatchObject({ state: 'failed', sheet_status: 'FAILED', post_id: null });
    expect(after.error).toBeTruthy();
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => [a.outcome, a.http_status, a.error_code])).toEqual([
      ['failed', 422, 'idempotency_key_reused'],
    ]);
    expect(sandboxPostsFor('reused key, new body')).toHaveLength(0);
    expect(await knownPost('k-reused')).toBeUndefined();
  });

  it('5xx: each 503 is a retryable attempt with backoff; after the last allowed try the row ends FAILED saying so', async () => {
    step = makeStep(2);
    sandbox.update({ faults: { error5xxShare: 1 } });
    const { runId, row } = await claimedRow('k-5xx', bodyOf('five hundred row'));
    const first = await step.processRow(row);
    // Backoff: full jitter (0.5 of the 100 ms base) plus half the base.
    expect(first).toEqual({ kind: 'deferred', retryAtMs: clock.now() + 100, ...calledAt('create') });
    expect(await rowNow(row.id)).toMatchObject({ state: 'pending', failures: 1, next_attempt_at: clock.now() + 100 });

    clock.advance(100);
    expect(await step.processRow(await claimAgain())).toEqual(finishedAfterCall('create'));
    const after = await rowNow(row.id);
    expect(after).toMatchObject({ state: 'failed', sheet_status: 'FAILED', post_id: null });
    expect(after.error).toMatch(/Gave up after 2 tries/);
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => [a.outcome, a.http_status, a.error_code])).toEqual([
      ['retryable', 503, 'upstream_unavailable'],
      ['retryable', 503, 'upstream_unavailable'],
    ]);
    expect(sandboxPostsFor('five hundred row')).toHaveLength(0);
  });

  it('timeout: a call with no answer in time leaves its attempt in doubt and the row due again with the same key', async () => {
    step = makeStep(3, SHORT_TIMEOUT_MS);
    sandbox.update({ faults: { hangShare: 1, hangMs: SHORT_TIMEOUT_MS * 3 } });
    const body = bodyOf('timed out row');
    const { runId, row } = await claimedRow('k-timeout', body);
    const result = await step.processRow(row);
    expect(result).toMatchObject({ kind: 'deferred' });
    expect(await rowNow(row.id)).toMatchObject({ state: 'pending', failures: 1, post_id: null });
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => [a.outcome, a.error_code, a.idempotency_key])).toEqual([
      ['unknown', 'timeout', keyOf('k-timeout', body)],
    ]);
    // The sandbox still stores it after the hang: the in-doubt attempt is what the next try must replay.
    const until = Date.now() + 5000;
    while (sandboxPostsFor('timed out row').length === 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect(sandboxPostsFor('timed out row')).toHaveLength(1);
    expect((await opened.ledger.unresolvedCreate({ tenantId: TENANT, workspaceId: WS }, SHEET, 'k-timeout'))?.id).toBe(
      attempts[0]!.id,
    );
  });

  it('dropped answer: the post is stored but the answer lost; the attempt stays in doubt, then the replay records that same post', async () => {
    sandbox.update({ faults: { dropAfterStoreShare: 1 } });
    const body = bodyOf('dropped answer row');
    const { runId, row } = await claimedRow('k-drop', body);
    expect(await step.processRow(row)).toMatchObject({ kind: 'deferred' });
    expect(await rowNow(row.id)).toMatchObject({ state: 'pending', failures: 1, post_id: null });
    expect((await attemptsOf(runId)).map((a) => a.outcome)).toEqual(['unknown']);
    const [stored] = sandboxPostsFor('dropped answer row');
    expect(stored).toBeDefined();
    expect(await knownPost('k-drop')).toBeUndefined();

    sandbox.update({ faults: { dropAfterStoreShare: 0 } });
    clock.set(Number((await rowNow(row.id)).next_attempt_at));
    expect(await step.processRow(await claimAgain())).toEqual(finishedAfterCall('create'));

    expect(await rowNow(row.id)).toMatchObject({ state: 'created', post_id: stored!.id });
    const attempts = await attemptsOf(runId);
    expect(attempts.map((a) => a.outcome)).toEqual(['resolved', 'ok']);
    expect(attempts[1]!.idempotency_key).toBe(attempts[0]!.idempotency_key);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    expect(sandboxCounters()?.replayed).toBe(1);
    expect(sandboxPostsFor('dropped answer row')).toHaveLength(1);
    expect((await knownPost('k-drop'))?.post_id).toBe(stored!.id);
  });

  it('429 with Retry-After: the row waits exactly Retry-After without a failure counted, and the tenant is paused', async () => {
    sandbox.update({ faults: { forced429: { untilMs: sandbox.clock.now() + 60_000, retryAfterSeconds: 2 } } });
    const { runId, row } = await claimedRow('k-429', bodyOf('rate limited row'));
    const at = clock.now() + 2000;
    expect(await step.processRow(row)).toEqual({
      kind: 'deferred',
      retryAtMs: at,
      tenantBlockedUntil: at,
      ...calledAt('create'),
    });
    expect(await rowNow(row.id)).toMatchObject({ state: 'pending', failures: 0, next_attempt_at: at, post_id: null });
    expect((await attemptsOf(runId)).map((a) => [a.outcome, a.http_status, a.error_code])).toEqual([
      ['rate_limited', 429, 'rate_limited'],
    ]);
    expect(await pacer.tryAcquire(TENANT, 'create')).toEqual({ ok: false, retryAtMs: at });
    expect(sandboxPostsFor('rate limited row')).toHaveLength(0);
  });

  it("cancelled run: a row claimed before the cancel sends nothing and keeps the cancel's SKIPPED, saying to publish again", async () => {
    const { runId, row } = await claimedRow('k-cancel', bodyOf('cancelled row'));
    await opened.ledger.cancelRun(runId);
    expect(await step.processRow(row)).toEqual({ kind: 'finished' });

    // The cancel ended the unsent row; the step's later "failed" is written only while the row is still its to send
    // (a row another worker has created meanwhile must never turn FAILED), so the truthful "not sent" stays.
    const after = await rowNow(row.id);
    expect(after).toMatchObject({ state: 'skipped', sheet_status: 'SKIPPED', post_id: null });
    expect(after.error).toBe('Not sent: the run was cancelled. Publish again to send this row.');
    expect(await attemptsOf(runId)).toHaveLength(0);
    expect(sandboxCreates()).toBe(0);
    expect(await knownPost('k-cancel')).toBeUndefined();
  });

  it('cancelled run while the call is in flight: the post Postato created stays created and remembered', async () => {
    sandbox.update({ faults: { hangShare: 1, hangMs: 150 } });
    const { runId, row } = await claimedRow('k-cancel-flight', bodyOf('cancelled in flight row'));
    const processing = step.processRow(row);
    const until = Date.now() + 5000;
    while ((await rowNow(row.id)).state !== 'sending' && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(await opened.ledger.cancelRun(runId)).toBe(true);
    expect(await processing).toEqual(finishedAfterCall('create'));

    const [post] = sandboxPostsFor('cancelled in flight row');
    expect(await rowNow(row.id)).toMatchObject({ state: 'created', post_id: post!.id });
    expect((await attemptsOf(runId)).map((a) => a.outcome)).toEqual(['ok']);
    expect((await knownPost('k-cancel-flight'))?.post_id).toBe(post!.id);
  });
  describe('updates and cancels of an existing post', () => {
    /** A post created directly at Postato, as an earlier run would have. */
    const existing = async (content: string) =>
      (await clientFor(apiKey).createPost(WS, bodyOf(content), `seed-${content}`)).post;

    it('update: a changed row is PATCHed, one ok attempt, and the new body remembered for the row', async () => {
      const post = await existing('before edit');
      const target = bodyOf('after edit', { scheduledAt: '2031-04-01T09:00:00Z' });
      const { runId, row } = await claimedRow('k-update', target, { kind: 'update', postId: post.id });
      expect(await step.processRow(row)).toEqual(finishedAfterCall('write'));

      expect(await rowNow(row.id)).toMatchObject({ state: 'updated', sheet_status: 'SCHEDULED' });
      const stored = sandbox.inspect().posts.find((p) => p.id === post.id)!;
      expect(stored.content[0]!.text).toBe('after edit');
      expect(Date.parse(stored.scheduledAt!)).toBe(Date.parse('2031-04-01T09:00:00Z'));
      expect((await attemptsOf(runId)).map((a) => [a.kind, a.outcome, a.http_status])).toEqual([['update', 'ok', 200]]);
      expect((await knownPost('k-update'))?.post_id).toBe(post.id);
    });

    it('update: when Postato already holds the content and time, nothing is sent and the row is skipped', async () => {
      const post = await existing('unchanged');
      const { runId, row } = await claimedRow('k-same', bodyOf('unchanged'), { kind: 'update', postId: post.id });
      const before = sandbox.inspect().posts.find((p) => p.id === post.id)!.updatedAt;
      expect(await step.processRow(row)).toEqual({ kind: 'finished' });
      expect(await rowNow(row.id)).toMatchObject({ state: 'skipped', post_id: post.id });
      expect(await attemptsOf(runId)).toHaveLength(0);
      expect(sandbox.inspect().posts.find((p) => p.id === post.id)!.updatedAt).toBe(before);
      expect((await knownPost('k-same'))?.post_id).toBe(post.id);
    });

    it('cancel: the post is cancelled, and a second cancel of it (an answer lost before) counts as done', async () => {
      const post = await existing('to cancel');
      const first = await claimedRow('k-cancel-post', null, { kind: 'cancel', postId: post.id });
      expect(await step.processRow(first.row)).toEqual(finishedAfterCall('write'));
      expect(await rowNow(first.row.id)).toMatchObject({ state: 'cancelled', sheet_status: 'CANCELLED' });
      expect(sandbox.inspect().posts.find((p) => p.id === post.id)!.status).toBe('cancelled');
      expect((await attemptsOf(first.runId)).map((a) => [a.kind, a.outcome])).toEqual([['cancel', 'ok']]);
      expect(await knownPost('k-cancel-post')).toMatchObject({ post_id: post.id, status: 'CANCELLED' });

      expect(await opened.ledger.finishRunIfComplete(first.runId)).toBe(true);
      const again = await claimedRow('k-cancel-post', null, { kind: 'cancel', postId: post.id });
      expect(await step.processRow(again.row)).toEqual(finishedAfterCall('write'));
      expect(await rowNow(again.row.id)).toMatchObject({ state: 'cancelled', sheet_status: 'CANCELLED' });
    });

    it('cancel: a row without a Post ID ends FAILED saying there is nothing to unschedule, sending nothing', async () => {
      const { runId, row } = await claimedRow('k-no-post', null, { kind: 'cancel' });
      expect(await step.processRow(row)).toEqual({ kind: 'finished' });
      expect(await rowNow(row.id)).toMatchObject({
        state: 'failed',
        error: expect.stringMatching(/nothing to unschedule/),
      });
      expect(await attemptsOf(runId)).toHaveLength(0);
    });
  });
});
