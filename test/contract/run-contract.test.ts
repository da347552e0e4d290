/**
 * The run, dispatcher and write-back contract, run against both tiers: embedded (SQLite + in-process dispatcher) and
 * scale-out (PostgreSQL ledger + BullMQ dispatcher + Redis pacer), each with the real service and the Postato sandbox
 * over HTTP on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { PostatoClient } from '../../src/postato/postato-client';
import { canonicalJson, idempotencyKeyFor } from '../../src/runs/idempotency-key';
import { silentLogger } from '../../src/logger';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import {
  ACCOUNTS,
  FAST_LIMITS,
  WS,
  fakeApiKey,
  goodRows,
  postsPerKey,
  startKit,
  type Kit,
  type KitRow,
} from '../runs/publish-test-kit';
import { Redis } from 'ioredis';
import type { RunReport } from '../../appsscript/shared/contract';
import { REDIS_TEST_URL, TIERS, openTestTier, type TestTier } from './tier-kit';
import { SHEETS_BUDGET, SHEET_NAME, startWriteBackKit, type WriteBackKit } from './write-back-kit';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';

jest.setTimeout(90_000);

describe.each(TIERS)('run contract on the %s tier', (tierName) => {
  let tier: TestTier;
  let kit: Kit;
  beforeAll(async () => {
    tier = await openTestTier(tierName);
    kit = await startKit({ env: tier.env });
  });
  afterAll(async () => {
    await kit?.close();
    await tier?.cleanup();
  });

  it('when good and invalid rows are published, then each good row gets exactly one post and the invalid ones their error', async () => {
    const rows = [...goodRows(40, 'a'), { key: 'bad1', content: 'y'.repeat(400) }];
    const res = await kit.run('publish', rows, { spreadsheetId: 'sheet-a' });
    expect(res.status).toBe(202);
    const done = await kit.waitDone(res.body.runId);
    expect(done.state).toBe('done');
    expect(done.counts).toMatchObject({ total: 41, pending: 0, created: 40, failed: 1, skipped: 0 });
    const per = postsPerKey(kit.sandbox);
    for (let i = 0; i < 40; i++) expect(per.get(`a${i}`)).toBe(1);
    const results = await kit.results(res.body.runId);
    expect(results.get('a0')).toMatchObject({ status: 'SCHEDULED', postId: expect.stringMatching(/^pst_/) });
    expect(results.get('bad1')?.status).toBe('INVALID');
    expect((await kit.service.ledger.getRun(res.body.runId))?.api_key_sealed).toBeNull();
  });

  it('when the fixed sheet is published again, then only the fixed row is sent and nothing is created twice', async () => {
    const run1 = await kit.run('publish', [...goodRows(4, 'r'), { key: 'rbad', content: 'z'.repeat(400) }], {
      spreadsheetId: 'sheet-r',
    });
    await kit.waitDone(run1.body.runId);
    const ids = await kit.results(run1.body.runId);
    const before = kit.sandbox.inspect().posts.length;
    const second: KitRow[] = [
      ...goodRows(3, 'r').map((r) => ({ ...r, postId: ids.get(r.key)!.postId! })),
      { key: 'r3' },
      { key: 'rbad', content: 'Post for rbad, now short' },
    ];
    const run2 = await kit.run('publish', second, { spreadsheetId: 'sheet-r' });
    const done = await kit.waitDone(run2.body.runId);
    expect(done.counts).toMatchObject({ created: 1, skipped: 4, failed: 0 });
    expect(kit.sandbox.inspect().posts.length).toBe(before + 1);
    const results = await kit.results(run2.body.runId);
    expect(results.get('r3')?.postId).toBe(ids.get('r3')!.postId);
    expect(results.get('rbad')).toMatchObject({ status: 'SCHEDULED', postId: expect.stringMatching(/^pst_/) });
  });

  it('when reschedule runs after some rows changed, then exactly those posts are PATCHed; unschedule cancels the given rows', async () => {
    const rows: KitRow[] = goodRows(6, 's').map((r, i) => ({ ...r, scheduledAt: `2030-01-0${i + 1} 10:00` }));
    const run1 = await kit.run('publish', rows, { spreadsheetId: 'sheet-s' });
    await kit.waitDone(run1.body.runId);
    const ids = await kit.results(run1.body.runId);
    const withIds = rows.map((r) => ({ ...r, postId: ids.get(r.key)!.postId! }));
    const snapshot = new Map(kit.sandbox.inspect().posts.map((p) => [p.id, p.updatedAt]));
    withIds[1] = { ...withIds[1]!, scheduledAt: '2030-02-01 09:00' };
    withIds[4] = { ...withIds[4]!, content: 'Post for s4 with new words' };
    const res = await kit.run('reschedule', withIds, { spreadsheetId: 'sheet-s' });
    expect(res.status).toBe(202);
    const done = await kit.waitDone(res.body.runId);
    expect(done.counts).toMatchObject({ total: 2, created: 2, failed: 0 });
    const changed = kit.sandbox
      .inspect()
      .posts.filter((p) => snapshot.has(p.id) && snapshot.get(p.id) !== p.updatedAt)
      .map((p) => p.id);
    expect(changed.sort()).toEqual([ids.get('s1')!.postId, ids.get('s4')!.postId].sort());
    const s1 = kit.sandbox.inspect().posts.find((p) => p.id === ids.get('s1')!.postId)!;
    expect(s1.scheduledAt!.startsWith('2030-02-01T14:0')).toBe(true);
    expect(kit.sandbox.inspect().posts.find((p) => p.id === ids.get('s4')!.postId)!.content[0]!.text).toBe(
      'Post for s4 with new words',
    );

    const un = await kit.run('unschedule', withIds, { spreadsheetId: 'sheet-s', onlyKeys: ['s0', 's2'] });
    const undone = await kit.waitDone(un.body.runId);
    expect(undone.counts).toMatchObject({ total: 2, created: 2 });
    const statuses = new Map(kit.sandbox.inspect().posts.map((p) => [p.id, p.status]));
    expect(statuses.get(ids.get('s0')!.postId!)).toBe('cancelled');
    expect(statuses.get(ids.get('s2')!.postId!)).toBe('cancelled');
    expect(statuses.get(ids.get('s3')!.postId!)).toBe('scheduled');
    const results = await kit.results(un.body.runId);
    expect(results.get('s0')?.status).toBe('CANCELLED');
  });

  it('when a run is cancelled, then nothing more is sent and what was created stays created', async () => {
    const res = await kit.run('publish', goodRows(150, 'c'), { spreadsheetId: 'sheet-c' });
    // Cancel once the first posts exist (not after a fixed sleep, which a loaded machine may outlast or undershoot).
    for (let i = 0; i < 500 && (await kit.status(res.body.runId)).counts.created === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const cancel = await request(kit.service.app)
      .post(`/v1/runs/${res.body.runId}/cancel`)
      .set('X-Shared-Secret', kit.secret)
      .set('X-User-Id', 'manager');
    expect(cancel.status).toBe(200);
    const done = await kit.waitDone(res.body.runId);
    expect(done.state).toBe('cancelled');
    // Rows whose call was in flight at the cancel still count as pending until their outcome is recorded: count only
    // once none is left, so a call that lands late cannot slip past the assertions below.
    let after = await kit.status(res.body.runId);
    for (let i = 0; i < 500 && after.counts.pending > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await kit.status(res.body.runId);
    }
    expect(after.counts.pending).toBe(0);
    const created = [...postsPerKey(kit.sandbox).entries()].filter(([k]) => /^c\d+$/.test(k));
    expect(created.length).toBeGreaterThanOrEqual(after.counts.created);
    expect(created.length).toBeGreaterThan(0);
    expect(created.length).toBeLessThan(150);
    expect(after.counts.skipped).toBe(150 - after.counts.created - after.counts.failed);
    const results = await kit.results(res.body.runId);
    // A row in flight at the cancel finishes (created, or failed with "may have been created"); nothing else is sent.
    // The one exception is a call whose answer was lost before the cancel (a timeout on a loaded machine): its row is
    // skipped with the attempt kept in doubt, which the next publish replays under the same key, never a second post.
    const inDoubt = new Set(
      (
        await inspectLedgerDb(kit.service.ledger)
          .selectFrom('attempts')
          .select('row_key')
          .where('run_id', '=', res.body.runId)
          .where('outcome', 'in', ['unknown', 'pending'])
          .execute()
      ).map((a) => a.row_key),
    );
    for (const [key] of created) {
      const status = results.get(key)?.status;
      expect([key, status === 'SKIPPED' ? inDoubt.has(key) : status]).toEqual([
        key,
        status === 'SKIPPED' ? true : expect.stringMatching(/^(SCHEDULED|QUEUED|PUBLISHED|FAILED)$/),
      ]);
    }
    expect(
      [...results.values()].filter((r) => r.status === 'SKIPPED').every((r) => /cancelled/.test(r.error ?? '')),
    ).toBe(true);
  });

  it('when three tenants publish at once, then each stays within its own limit and is never rate limited', async () => {
    const before = new Set(kit.sandbox.inspect().tenants.map((t) => t.tenantId));
    const keys = [fakeApiKey(), fakeApiKey(), fakeApiKey()];
    const runs = await Promise.all(
      keys.map((apiKey, i) => kit.run('publish', goodRows(70, `t${i}x`), { apiKey, spreadsheetId: `sheet-t${i}` })),
    );
    const done = await Promise.all(runs.map((r) => kit.waitDone(r.body.runId, 60_000)));
    for (const d of done) expect(d.counts).toMatchObject({ created: 70, failed: 0 });
    const byKey = postsPerKey(kit.sandbox);
    for (let t = 0; t < 3; t++) for (let i = 0; i < 70; i++) expect(byKey.get(`t${t}x${i}`)).toBe(1);
    const tenants = kit.sandbox.inspect().tenants.filter((t) => !before.has(t.tenantId));
    expect(tenants).toHaveLength(3);
    for (const t of tenants) {
      expect(t.maxCreatesInAnyWindow).toBeLessThanOrEqual(FAST_LIMITS.create);
      // The pacer counts each send from its answer, so however late a request arrives it never makes a window hold
      // more than the sandbox allows (unpaced sending of 70 rows at 30 per window draws dozens of 429s).
      expect(t.counters.rateLimited).toBe(0);
      // A call that timed out on a loaded machine is replayed under its key, which the sandbox also counts.
      expect(t.counters.create).toBeGreaterThanOrEqual(70);
    }
  });
});

describe.each(TIERS)('faults and crash replay on the %s tier', (tierName) => {
  let tier: TestTier;
  let sandbox: PostatoSandbox;
  beforeAll(async () => {
    tier = await openTestTier(tierName);
    sandbox = await startPostatoSandbox({
      settings: {
        accounts: ACCOUNTS,
        limits: FAST_LIMITS,
        idempotencyMode: 'strict',
        seed: 11,
        faults: { latencyMs: 0, error5xxShare: 0, dropAfterStoreShare: 0, hangShare: 0, hangMs: 0, forced429: null },
      },
      tickIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await sandbox?.close();
    await tier?.cleanup();
  });

  it('when 5xx, dropped connections, hangs and a forced 429 hit a publish, then no row is posted twice and every row ends created or with a reason', async () => {
    const kit = await startKit({ env: tier.env, existingSandbox: sandbox });
    try {
      sandbox.update({ faults: { error5xxShare: 0.1, dropAfterStoreShare: 0.05, hangShare: 0.03, hangMs: 1500 } });
      const res = await kit.run('publish', goodRows(80, 'f'), { spreadsheetId: 'sheet-f' });
      expect(res.status).toBe(202);
      sandbox.update({ faults: { forced429: { untilMs: sandbox.clock.now() + 800, retryAfterSeconds: 1 } } });
      const done = await kit.waitDone(res.body.runId, 60_000);
      expect(done.counts.pending).toBe(0);
      expect(done.counts.created + done.counts.failed).toBe(80);
      for (const [key, n] of postsPerKey(sandbox)) expect([key, n]).toEqual([key, 1]);
      const attempts = await inspectLedgerDb(kit.service.ledger)
        .selectFrom('attempts')
        .select(['outcome', 'error_code'])
        .where('run_id', '=', res.body.runId)
        .execute();
      expect(attempts.some((a) => a.error_code === 'upstream_unavailable')).toBe(true);
      expect(attempts.some((a) => a.outcome === 'rate_limited')).toBe(true);
      expect(attempts.some((a) => a.error_code === 'idempotency_key_reused')).toBe(false);
    } finally {
      sandbox.update({
        faults: { error5xxShare: 0, dropAfterStoreShare: 0, hangShare: 0, hangMs: 0, forced429: null },
      });
      await kit.close();
    }
  });

  it('when an instance died mid-call with rows left sending, then a new instance replays them with the same key and body and posts each row once', async () => {
    const env = { ...tier.env, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const apiKey = fakeApiKey();
    // The first instance commits the run but never dispatches: we play its crash by hand.
    const dead = await startKit({ env, existingSandbox: sandbox, overrides: { startDispatcher: false } });
    const res = await dead.run('publish', goodRows(12, 'z'), { spreadsheetId: 'sheet-z', apiKey });
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;
    const ledger = dead.service.ledger;
    const client = new PostatoClient({ baseUrl: sandbox.url, apiKey, retry: { maxAttempts: 1 }, logger: silentLogger });
    const lostAnswers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const row = (await ledger.getRow(`${runId}:${i}`))!;
      const body = canonicalJson(JSON.parse(row.body_json!));
      const key = idempotencyKeyFor({
        workspaceId: WS,
        spreadsheetId: 'sheet-z',
        rowKey: row.row_key,
        body: JSON.parse(body),
      });
      await ledger.beginAttempt(row, { kind: 'create', idempotencyKey: key, body });
      // A lease of the dead instance that still runs for a minute: no heartbeat vouches for its owner, so it is taken over.
      await inspectLedgerDb(ledger)
        .updateTable('run_rows')
        .set({ lease_owner: 'dead-instance', lease_until: Date.now() + 60_000 })
        .where('id', '=', row.id)
        .execute();
      // Rows 0 and 1 reached Postato (the answer was lost); row 2's call never left.
      if (i < 2) {
        const { post } = await client.createPost(WS, JSON.parse(body), key);
        lostAnswers.push(post.id);
      }
    }
    await dead.close();

    const replayedBefore = sandbox.inspect().tenants.reduce((n, t) => n + t.counters.replayed, 0);
    const live = await startKit({ env, existingSandbox: sandbox });
    try {
      const done = await live.waitDone(runId, 30_000);
      expect(done.state).toBe('done');
      expect(done.counts).toMatchObject({ total: 12, created: 12, failed: 0 });
      const per = postsPerKey(sandbox);
      for (let i = 0; i < 12; i++) expect(per.get(`z${i}`)).toBe(1);
      const results = await live.results(runId);
      expect(results.get('z0')?.postId).toBe(lostAnswers[0]);
      expect(results.get('z1')?.postId).toBe(lostAnswers[1]);
      const replayedAfter = sandbox.inspect().tenants.reduce((n, t) => n + t.counters.replayed, 0);
      expect(replayedAfter - replayedBefore).toBeGreaterThanOrEqual(2);
      const unresolved = await inspectLedgerDb(live.service.ledger)
        .selectFrom('attempts')
        .select('id')
        .where('run_id', '=', runId)
        .where('outcome', 'in', ['pending', 'unknown'])
        .execute();
      expect(unresolved).toHaveLength(0);
    } finally {
      await live.close();
    }
  });
});

describe.each(TIERS)('write-back contract on the %s tier', (tierName) => {
  let tier: TestTier;
  let wb: WriteBackKit;
  beforeAll(async () => {
    tier = await openTestTier(tierName);
    // One result per flush: many small writes, so the budget of scenario 3 is really pressed.
    wb = await startWriteBackKit(tier, { flushRows: 1 });
  });
  afterAll(async () => {
    wb?.fake.beforeEachCall(null);
    await wb?.close();
    await tier?.cleanup();
  });

  const report = async (runId: string): Promise<RunReport> => {
    const res = await request(wb.kit.service.app)
      .get(`/v1/runs/${runId}/report`)
      .set('X-Shared-Secret', wb.kit.secret)
      .set('X-User-Id', 'manager');
    expect(res.status).toBe(200);
    return res.body as RunReport;
  };

  it('when a sheet is published, then every row ends with its own Status, Post ID, Scheduled (UTC) and Run', async () => {
    const rows: KitRow[] = [...goodRows(8, 'w'), { key: 'wbad', content: 'y'.repeat(400) }];
    await wb.loadSheet('sheet-w1', rows);
    const res = await wb.kit.run('publish', rows, { spreadsheetId: 'sheet-w1' });
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;
    await wb.settle(runId, 'sheet-w1');
    const results = await wb.kit.results(runId);
    const sheet = wb.rowsByKey('sheet-w1');
    expect([...sheet.keys()]).toEqual(rows.map((r) => r.key));
    for (const { key } of goodRows(8, 'w')) {
      const r = results.get(key)!;
      expect(r.postId).toMatch(/^pst_/);
      expect(sheet.get(key)).toMatchObject({
        Status: 'SCHEDULED',
        'Post ID': r.postId,
        'Scheduled (UTC)': r.scheduledAtUtc,
        Run: runId,
        Error: '',
      });
      expect(sheet.get(key)!['Scheduled (UTC)']).toMatch(/Z$/);
    }
    expect(new Set([...sheet.values()].map((v) => v['Post ID']).filter(Boolean)).size).toBe(8);
    expect(sheet.get('wbad')).toMatchObject({ Status: 'INVALID', 'Post ID': '', Run: runId });
    expect(sheet.get('wbad')!.Error).toBe(results.get('wbad')!.error);
    expect(sheet.get('wbad')!.Error).toMatch(/\S/);
    expect((await report(runId)).removed).toEqual([]);
  });

  it('when the sheet is sorted and a row deleted while the run goes, then results follow their keys and the deleted row is recorded as removed', async () => {
    await wb.kit.service.runsTab?.idle();
    const rows = goodRows(24, 'm');
    await wb.loadSheet('sheet-w2', rows);
    const res = await wb.kit.run('publish', rows, { spreadsheetId: 'sheet-w2' });
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;
    const edit = wb.fake.mutate('sheet-w2', SHEET_NAME);
    let calls = 0;
    let deletedKey: string | undefined;
    // Between the reads and writes of the first flushes: sort the sheet, delete a row whose result is not written
    // yet, then sort it back, so writes planned from an earlier read would land on the wrong rows.
    wb.fake.beforeEachCall(() => {
      const n = calls++;
      if (n === 1) {
        edit.sortBy('Key', true);
        const [header = [], ...data] = wb.fake.getValues('sheet-w2', SHEET_NAME);
        const k = header.indexOf('Key');
        const s = header.indexOf('Status');
        const at = data.findIndex((r) => /^m\d+$/.test(r[k] ?? '') && (r[s] ?? '') === '');
        if (at >= 0) {
          deletedKey = data[at]![k];
          edit.deleteRow(at + 2);
        }
      }
      if (n === 4) edit.sortBy('Key');
      if (n === 7) edit.moveRow(2, 10);
    });
    try {
      await wb.settle(runId, 'sheet-w2');
    } finally {
      wb.fake.beforeEachCall(null);
    }
    expect(calls).toBeGreaterThan(7);
    expect(deletedKey).toBeDefined();
    const results = await wb.kit.results(runId);
    const sheet = wb.rowsByKey('sheet-w2');
    expect(sheet.size).toBe(23);
    expect(sheet.has(deletedKey!)).toBe(false);
    for (const [key, cells] of sheet) {
      expect([key, cells]).toEqual([
        key,
        expect.objectContaining({
          Status: 'SCHEDULED',
          'Post ID': results.get(key)!.postId,
          'Scheduled (UTC)': results.get(key)!.scheduledAtUtc,
          Run: runId,
        }),
      ]);
    }
    // The deleted row was posted (only its sheet row went away); its post ID was written nowhere.
    const deletedPostId = results.get(deletedKey!)!.postId!;
    expect(deletedPostId).toMatch(/^pst_/);
    expect([...sheet.values()].some((c) => c['Post ID'] === deletedPostId)).toBe(false);
    const rep = await report(runId);
    expect(rep.removed.map((r) => r.key)).toEqual([deletedKey]);
    const ledgerRow = await inspectLedgerDb(wb.kit.service.ledger)
      .selectFrom('run_rows')
      .select(['removed'])
      .where('run_id', '=', runId)
      .where('row_key', '=', deletedKey!)
      .executeTakeFirstOrThrow();
    expect(Number(ledgerRow.removed)).toBe(1);
  });

  it('when many results arrive at once, then Sheets writes stay within SHEETS_WRITES_PER_MINUTE per window', async () => {
    const rows = goodRows(50, 'b');
    await wb.loadSheet('sheet-w3', rows);
    const writesBefore = wb.fake.stats(wb.serviceAccountEmail).writes;
    const res = await wb.kit.run('publish', rows, { spreadsheetId: 'sheet-w3' });
    expect(res.status).toBe(202);
    await wb.settle(res.body.runId, 'sheet-w3');
    const sheet = wb.rowsByKey('sheet-w3');
    for (const { key } of rows) expect([key, sheet.get(key)?.Status]).toEqual([key, 'SCHEDULED']);
    const stats = wb.fake.stats(wb.serviceAccountEmail);
    // More writes than one window allows were needed, so the budget, not the demand, kept the peak down.
    expect(stats.writes - writesBefore).toBeGreaterThan(SHEETS_BUDGET.writesPerWindow);
    expect(stats.maxWritesInAnyMinute).toBeLessThanOrEqual(SHEETS_BUDGET.writesPerWindow);
    expect(wb.fake.requestLog.filter((e) => e.kind === 'write' && e.status === 429)).toEqual([]);
    if (tierName === 'scale-out') {
      // The budget the service used is the shared one in Redis (what every instance of the tier takes slots from).
      const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        expect(await redis.zcard(`${tier.env.REDIS_PREFIX}:sheets:write-budget`)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    }
  });
});

/** Only the scale-out tier runs several instances on one ledger: their flushers share one budget and one sheet. */
describe('write-back across instances on the scale-out tier', () => {
  let tier: TestTier;
  let wb: WriteBackKit;
  beforeAll(async () => {
    tier = await openTestTier('scale-out');
    wb = await startWriteBackKit(tier, { flushRows: 1 });
  });
  afterAll(async () => {
    await wb?.close();
    await tier?.cleanup();
  });

  it('when two instances write back at once, then together they stay within the one Redis budget and every row holds its own result', async () => {
    // A second instance on the same PostgreSQL ledger, Redis and Sheets fake: its flusher takes from the same budget.
    const second = await startKit({
      env: {
        ...tier.env,
        SHEETS_API_URL: wb.kit.config.SHEETS_API_URL!,
        GOOGLE_SERVICE_ACCOUNT_JSON: wb.kit.config.GOOGLE_SERVICE_ACCOUNT_JSON!,
        WRITEBACK_FLUSH_MS: '100',
        WRITEBACK_FLUSH_ROWS: '1',
        SHEETS_WRITES_PER_MINUTE: String(SHEETS_BUDGET.writesPerWindow),
        SHEETS_WRITE_WINDOW_MS: String(SHEETS_BUDGET.windowMs),
        // Instances of one deployment share the key that seals Postato keys, or one could not send the other's rows.
        KEY_ENCRYPTION_KEY: wb.kit.config.KEY_ENCRYPTION_KEY!,
        AUTH_SHARED_SECRET: wb.kit.config.AUTH_SHARED_SECRET!,
      },
      existingSandbox: wb.kit.sandbox,
    });
    try {
      const rows = goodRows(24, 'd');
      await wb.loadSheet('sheet-w4', rows);
      const writesBefore = wb.fake.stats(wb.serviceAccountEmail).writes;
      const res = await wb.kit.run('publish', rows, { spreadsheetId: 'sheet-w4' });
      expect(res.status).toBe(202);
      await wb.settle(res.body.runId, 'sheet-w4');
      await second.service.flusher!.drain('sheet-w4');
      const stats = wb.fake.stats(wb.serviceAccountEmail);
      expect(stats.writes - writesBefore).toBeGreaterThan(SHEETS_BUDGET.writesPerWindow);
      expect(stats.maxWritesInAnyMinute).toBeLessThanOrEqual(SHEETS_BUDGET.writesPerWindow);
      // One flusher at a time per spreadsheet (a Redis lock): neither instance undoes the other's writes.
      const results = await wb.kit.results(res.body.runId);
      const sheet = wb.rowsByKey('sheet-w4');
      for (const { key } of rows)
        expect(sheet.get(key)).toMatchObject({
          Status: 'SCHEDULED',
          'Post ID': results.get(key)!.postId,
          Run: res.body.runId,
        });
    } finally {
      await second.close();
    }
  });
});
