/**
 * The writes around one Postato call, on both ledger dialects (PostgreSQL writes each in one statement): an attempt
 * is recorded only while the row is still the claim's to send; a success finishes the attempt, resolves the row's
 * earlier in-doubt creates, remembers the post and gives the row its result with the next result number; a success
 * without a call resolves nothing; a late "skipped" from a worker that took the row over leaves its result alone; the
 * run ends only once no row is left to send.
 */
import { ManualClock } from '../../src/clock';
import { inspectLedgerDb, RunLedger, type NewRun, type RunRowRecord } from '../../src/ledger/run-ledger';
import type { LedgerDb } from '../../src/ledger/ledger-db';
import type { TierName } from '../contract/tier-kit';
import { openLedgerDbOn } from './ledger-fixtures';

const SCOPE = { tenantId: 'tnt_a', workspaceId: 'wks_1' };

const twoRows: NewRun = {
  ownerSubject: 'u1',
  mode: 'publish',
  spreadsheetId: 'sheet-1',
  sheetName: 'Posts',
  sheetId: 0,
  workspaceId: SCOPE.workspaceId,
  tenantId: SCOPE.tenantId,
  apiKeySealed: 'sealed',
  rows: ['k0', 'k1'].map((rowKey, i) => ({
    rowKey,
    rowNumber: i + 2,
    kind: 'create' as const,
    state: 'pending' as const,
    bodyJson: `{"content":"${i}"}`,
    writeBack: false,
  })),
};

describe.each<TierName>(['embedded', 'scale-out'])('the writes of a call on the %s tier', (tier) => {
  const clock = new ManualClock(1_900_000_000_000);
  let handle: LedgerDb;
  let ledger: RunLedger;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ handle, drop } = await openLedgerDbOn(tier === 'scale-out' ? 'postgres' : 'sqlite'));
    ledger = new RunLedger(handle.db, clock);
  });
  afterAll(async () => {
    await handle.close();
    await drop();
  });

  const attemptsOf = (rowId: string) =>
    inspectLedgerDb(ledger)
      .selectFrom('attempts')
      .select(['id', 'outcome', 'http_status'])
      .where('row_id', '=', rowId)
      .orderBy('started_at')
      .execute();

  it('when a row is sent, fails in doubt and then succeeds, then the run ends with one result per row', async () => {
    const { runId } = await ledger.createRun(twoRows);
    const row = (await ledger.claimNext(SCOPE.tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;

    // Someone else's claim records nothing and gets no attempt id.
    expect(await ledger.beginAttempt({ ...row, lease_owner: 'w2' }, attemptBody)).toBeNull();
    expect(await attemptsOf(row.id)).toEqual([]);

    const first = await ledger.beginAttempt(row, attemptBody);
    expect(first).not.toBeNull();
    await ledger.finishAttempt(first!, row, 'unknown', { definite: false });
    clock.advance(10);
    const second = await ledger.beginAttempt(row, attemptBody);
    const seqBefore = (await ledger.resultsSince(runId, 0, 10)).cursor;
    await ledger.recordSuccess(row, {
      attempt: { id: second!, httpStatus: 201 },
      post: { postId: 'post-1', status: 'SCHEDULED' },
      result: { state: 'created', sheetStatus: 'SCHEDULED', postId: 'post-1', error: '' },
    });

    expect(await attemptsOf(row.id)).toEqual([
      { id: first, outcome: 'resolved', http_status: null },
      { id: second, outcome: 'ok', http_status: 201 },
    ]);
    expect((await ledger.knownPost(SCOPE, 'sheet-1', row.row_key))?.post_id).toBe('post-1');
    const after = await ledger.getRow(row.id);
    expect(after).toMatchObject({ state: 'created', post_id: 'post-1', lease_owner: null, version: 1 });
    expect(Number(after!.result_seq)).toBeGreaterThan(seqBefore);
    expect((await ledger.resultsSince(runId, seqBefore, 10)).results.map((r) => r.key)).toEqual(['k0']);
    expect(await ledger.finishRunIfComplete(runId)).toBe(false);

    // A worker that took the row over meanwhile finds the post just recorded: its "skipped" changes nothing.
    await ledger.setResult(row.id, {
      state: 'skipped',
      sheetStatus: 'SCHEDULED',
      postId: 'post-1',
      error: '',
      onlyWhileToSend: true,
    });
    expect(await ledger.getRow(row.id)).toMatchObject({ state: 'created', version: 1 });

    // The other row: found already as wanted, no call made; its in-doubt attempt stays in doubt.
    const other = (await ledger.claimNext(SCOPE.tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;
    const doubt = await ledger.beginAttempt(other, attemptBody);
    await ledger.finishAttempt(doubt!, other, 'unknown', { definite: false });
    await ledger.recordSuccess(other, {
      post: { postId: 'post-2' },
      result: { state: 'skipped', sheetStatus: 'SCHEDULED', postId: 'post-2', error: '' },
    });
    expect((await attemptsOf(other.id)).map((a) => a.outcome)).toEqual(['unknown']);
    expect(Number((await ledger.getRow(other.id))!.result_seq)).toBeGreaterThan(Number(after!.result_seq));

    expect(await ledger.finishRunIfComplete(runId)).toBe(true);
    expect(await ledger.finishRunIfComplete(runId)).toBe(false);
    expect((await ledger.getRun(runId))?.state).toBe('done');
  });
});

const attemptBody = { kind: 'create' as const, idempotencyKey: 'ps1-k', body: '{"content":"0"}' };
