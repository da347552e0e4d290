import { randomBytes } from 'node:crypto';
import { KeyVault } from '../../src/runs/key-vault';
import { ManualClock } from '../../src/clock';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger } from '../../src/ledger/run-ledger';
import { tempDbFile } from './publish-test-kit';
import { newRunOf } from '../ledger/ledger-fixtures';

const SCOPE = { tenantId: 'tnt_a', workspaceId: 'wks_1' };

const run = newRunOf;

describe('RunLedger (SQLite file, WAL)', () => {
  let db: LedgerDb;
  let ledger: RunLedger;
  let file: string;
  const clock = new ManualClock(1_000_000);
  beforeEach(async () => {
    file = tempDbFile();
    db = await openLedgerDb(`sqlite:${file}`);
    ledger = new RunLedger(db.db, clock);
  });
  afterEach(() => db.close());

  it('when opened, then the file is in WAL mode and migrations are idempotent', async () => {
    expect(db.sqlite!.pragma('journal_mode', { simple: true })).toBe('wal');
    const { runId } = await ledger.createRun(run());
    await db.close();
    db = await openLedgerDb(file);
    ledger = new RunLedger(db.db, clock);
    expect((await ledger.counts(runId)).total).toBe(3);
  });

  it('when a 5,000-row run is committed, then every row is stored pending in sheet order', async () => {
    const { runId } = await ledger.createRun(run({}, 5000));
    expect((await ledger.counts(runId)).pending).toBe(5000);
    const first = await ledger.claimNext('tnt_a', 'w1', clock.now(), 1000);
    expect(first?.row_key).toBe('k0');
  });

  it('when a row is claimed, then others cannot claim it until its lease expires, and rows left sending come first', async () => {
    const { runId } = await ledger.createRun(run());
    const a = await ledger.claimNext('tnt_a', 'w1', clock.now(), 1000);
    await ledger.beginAttempt(a!, { kind: 'create', idempotencyKey: 'ps1-x', body: a!.body_json });
    const b = await ledger.claimNext('tnt_a', 'w2', clock.now(), 1000);
    expect(b!.id).not.toBe(a!.id);
    clock.advance(1001);
    // w1 "crashed": its sending row is replayed before the next pending one.
    const c = await ledger.claimNext('tnt_a', 'w3', clock.now(), 1000);
    expect(c!.id).toBe(a!.id);
    expect(c!.state).toBe('sending');
    expect((await ledger.unresolvedCreate(SCOPE, 'sheet-1', 'k0'))?.idempotency_key).toBe('ps1-x');
    // Another tenant naming the same spreadsheet and key never sees it.
    expect(await ledger.unresolvedCreate({ ...SCOPE, tenantId: 'tnt_b' }, 'sheet-1', 'k0')).toBeUndefined();
    expect((await ledger.counts(runId)).sent).toBe(1);
  });

  it('when the same user starts the same mode twice, then it joins; another user is refused with a clear message', async () => {
    const first = await ledger.createRun(run());
    expect(await ledger.createRun(run())).toEqual({ runId: first.runId, joined: true });
    // The same user asking for a row the running run does not hold is refused, not silently joined.
    const extra = run({}, 4);
    await expect(ledger.createRun(extra)).rejects.toThrow(/does not include row k3/);
    await expect(ledger.createRun(run({ ownerSubject: 'u2' }))).rejects.toThrow(
      /already has a publish run in progress/,
    );
    await ledger.cancelRun(first.runId);
    const again = await ledger.createRun(run({ ownerSubject: 'u2' }));
    expect(again.joined).toBe(false);
  });

  it('when results change, then the write-back store sees each version once and a newer version stays pending', async () => {
    const store = ledger.writeBack;
    const { runId } = await ledger.createRun(run());
    const [row] = await db.db
      .selectFrom('run_rows')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('ordinal')
      .execute();
    await ledger.setResult(row!.id, {
      state: 'created',
      sheetStatus: 'SCHEDULED',
      postId: 'pst_1',
      scheduledAt: '2030-01-01T10:00:00.000Z',
    });
    expect(await store.spreadsheetsWithPendingWrites()).toEqual(['sheet-1']);
    const [w] = await store.pendingWrites('sheet-1', 10);
    expect(w!.values).toMatchObject({
      Status: 'SCHEDULED',
      'Post ID': 'pst_1',
      'Scheduled (UTC)': '2030-01-01T10:00:00.000Z',
      Run: runId,
    });
    await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'PUBLISHED' });
    await store.markWritten([{ rowId: w!.rowId, version: w!.version }]);
    const [w2] = await store.pendingWrites('sheet-1', 10);
    expect(w2!.values.Status).toBe('PUBLISHED');
    await store.markWritten([{ rowId: w2!.rowId, version: w2!.version }]);
    expect(await store.pendingWrites('sheet-1', 10)).toHaveLength(0);
    expect(await store.requeueRun(runId)).toBe(1);
    expect(await store.pendingWrites('sheet-1', 10)).toHaveLength(1);
  });

  it('when webhook events arrive, then the row says PUBLISHED or DELIVERY FAILED once, and duplicates and unknown posts are ignored', async () => {
    const sink = ledger.webhookSink;
    const { runId } = await ledger.createRun(run());
    const rows = await db.db
      .selectFrom('run_rows')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('ordinal')
      .execute();
    await ledger.setResult(rows[0]!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_1' });
    await ledger.setResult(rows[1]!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_2' });
    const ev = {
      workspaceId: 'wks_1',
      eventId: 'evt_1',
      type: 'post.published',
      postId: 'pst_1',
      status: 'published',
      platformUrl: 'https://x.com/p/1',
      createdAt: 'now',
    };
    expect(await sink.applyDeliveryEvent(ev)).toBe('applied');
    expect(await sink.applyDeliveryEvent(ev)).toBe('duplicate');
    expect(
      await sink.applyDeliveryEvent({
        ...ev,
        eventId: 'evt_2',
        postId: 'pst_2',
        status: 'failed',
        error: 'token expired',
      }),
    ).toBe('applied');
    expect(await sink.applyDeliveryEvent({ ...ev, eventId: 'evt_3', postId: 'pst_nope' })).toBe('parked');
    const { results } = await ledger.resultsSince(runId, 0, 10);
    const byKey = new Map(results.map((r) => [r.key, r]));
    expect(byKey.get('k0')).toMatchObject({ status: 'PUBLISHED', link: 'https://x.com/p/1' });
    expect(byKey.get('k1')).toMatchObject({ status: 'DELIVERY FAILED', error: expect.stringMatching(/token expired/) });
  });

  it('when a delivery event arrives while a worker holds the row, then the lease stays with that worker', async () => {
    const sink = ledger.webhookSink;
    const { runId } = await ledger.createRun(run());
    const rows = await db.db
      .selectFrom('run_rows')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('ordinal')
      .execute();
    await ledger.setResult(rows[0]!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_1' });
    await db.db
      .updateTable('run_rows')
      .set({ state: 'sending', lease_owner: 'worker-a', lease_until: clock.now() + 60_000 })
      .where('id', '=', rows[0]!.id)
      .execute();
    await sink.applyDeliveryEvent({
      workspaceId: 'wks_1',
      eventId: 'evt_l',
      type: 'post.published',
      postId: 'pst_1',
      status: 'published',
      createdAt: 'now',
    });
    const after = await ledger.getRow(rows[0]!.id);
    expect(after).toMatchObject({ state: 'sending', lease_owner: 'worker-a', sheet_status: 'PUBLISHED' });
  });

  it('when a post is remembered, then known posts and webhook secrets read back', async () => {
    await ledger.rememberPost({
      tenantId: 'tnt_a',
      spreadsheetId: 'sheet-1',
      rowKey: 'k9',
      postId: 'pst_9',
      workspaceId: 'wks_1',
      bodyHash: 'h',
      scheduledAt: '2030-01-01T00:00:00Z',
    });
    const known = await ledger.knownPostsPort().knownPosts(SCOPE, 'sheet-1', ['k9', 'k8']);
    expect([...known.keys()]).toEqual(['k9']);
    expect(known.get('k9')).toMatchObject({ postId: 'pst_9', bodyHash: 'h' });
    expect((await ledger.knownPostsPort().knownPosts({ ...SCOPE, tenantId: 'tnt_b' }, 'sheet-1', ['k9'])).size).toBe(0);
    expect((await ledger.knownPostsPort().knownPosts({ ...SCOPE, workspaceId: 'wks_2' }, 'sheet-1', ['k9'])).size).toBe(
      0,
    );
    const secrets = ledger.webhookSecrets();
    await secrets.saveSecret('wks_1', 'whsec_a');
    expect(await secrets.secretsFor('wks_1')).toEqual([{ workspaceId: 'wks_1', secret: 'whsec_a' }]);
    expect(await secrets.secretsFor('wks_2')).toEqual([]);
  });

  it('when a durable key is configured, then webhook secrets are sealed at rest and still verify', async () => {
    const vault = new KeyVault(randomBytes(32).toString('base64'));
    const secrets = ledger.webhookSecrets(vault);
    await secrets.saveSecret('wks_1', 'whsec_sealed');
    const stored = await db.db.selectFrom('webhook_secrets').select('secret').execute();
    expect(stored.map((r) => r.secret).join()).not.toContain('whsec_sealed');
    expect((await secrets.secretsFor('wks_1')).map((s) => s.secret)).toEqual(['whsec_sealed']);
    // A secret stored before the key was configured still reads back; one sealed with another key is left out.
    await ledger.webhookSecrets().saveSecret('wks_1', 'whsec_plain');
    await ledger.webhookSecrets(new KeyVault(randomBytes(32).toString('base64'))).saveSecret('wks_1', 'whsec_other');
    expect((await secrets.secretsFor('wks_1')).map((s) => s.secret).sort()).toEqual(['whsec_plain', 'whsec_sealed']);
  });
});
