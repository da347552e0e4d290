/**
 * An attempt's outcome only moves forward, on both ledger dialects: in flight → final or in doubt, in doubt →
 * resolved. A finish that arrives after the attempt was settled (its call timed out after a takeover's replay
 * succeeded, or the attempt is finished twice) keeps the settled outcome, so a resolved create is never replayed again.
 */
import { ManualClock } from '../../src/clock';
import { inspectLedgerDb, type RunLedger, type RunRowRecord } from '../../src/ledger/run-ledger';
import type { AttemptOutcome } from '../../src/ledger/ledger-schema';
import { ledgerPerTest, newRunOf, type LedgerDialect } from './ledger-fixtures';

const SCOPE = { tenantId: 'tnt_a', workspaceId: 'wks_1' };
const LEASE_MS = 60_000;
const CREATE = { kind: 'create' as const, idempotencyKey: 'key-k0', body: '{"content":"0"}' };

describe.each<LedgerDialect>(['sqlite', 'postgres'])('the outcome of an attempt (%s)', (dialect) => {
  const clock = new ManualClock(1_900_000_000_000);
  const opened = ledgerPerTest(dialect, clock);

  const outcomeOf = async (ledger: RunLedger, attemptId: string) =>
    (
      await inspectLedgerDb(ledger)
        .selectFrom('attempts')
        .select('outcome')
        .where('id', '=', attemptId)
        .executeTakeFirstOrThrow()
    ).outcome;

  /** A run of one create row, claimed by `owner`, and its first attempt (in flight). */
  async function firstAttempt(ledger: RunLedger, owner: string) {
    await ledger.createRun(newRunOf({}, 1));
    const row = (await ledger.claimNext(SCOPE.tenantId, owner, clock.now(), LEASE_MS)) as RunRowRecord;
    const attemptId = (await ledger.beginAttempt(row, CREATE)) as string;
    expect(attemptId).toEqual(expect.any(String));
    return { row, attemptId };
  }

  /** Another worker takes the row over (the lease ran out), replays the attempt with the same key and succeeds. */
  async function takeoverSucceeds(ledger: RunLedger) {
    clock.advance(LEASE_MS + 1);
    const row = (await ledger.claimNext(SCOPE.tenantId, 'worker-b', clock.now(), LEASE_MS)) as RunRowRecord;
    const replay = (await ledger.beginAttempt(row, CREATE)) as string;
    await ledger.recordSuccess(row, {
      attempt: { id: replay, httpStatus: 201 },
      post: { postId: 'post-1', status: 'SCHEDULED' },
      result: { state: 'created', sheetStatus: 'SCHEDULED', postId: 'post-1', error: '' },
    });
    return replay;
  }

  it.each<[string, AttemptOutcome]>([
    ['times out', 'unknown'],
    ['gets a 5xx', 'retryable'],
    ['gets a 429', 'rate_limited'],
  ])(
    'when the first call %s after a takeover’s replay resolved it, then its attempt stays resolved',
    async (_case, late) => {
      const { ledger } = opened();
      const { row, attemptId } = await firstAttempt(ledger, 'worker-a');
      const replay = await takeoverSucceeds(ledger);
      expect(await outcomeOf(ledger, attemptId)).toBe('resolved');

      await ledger.finishAttempt(attemptId, row, late, { errorCode: 'late', definite: false });

      expect(await outcomeOf(ledger, attemptId)).toBe('resolved');
      expect(await outcomeOf(ledger, replay)).toBe('ok');
      expect(await ledger.unresolvedCreate(SCOPE, row.spreadsheet_id, row.row_key)).toBeUndefined();
    },
  );

  it('when the first call also succeeds after the takeover’s replay resolved it, then its attempt stays resolved', async () => {
    const { ledger } = opened();
    const { row, attemptId } = await firstAttempt(ledger, 'worker-a');
    const replay = await takeoverSucceeds(ledger);

    await ledger.recordSuccess(row, {
      attempt: { id: attemptId, httpStatus: 201 },
      post: { postId: 'post-1', status: 'SCHEDULED' },
      result: { state: 'created', sheetStatus: 'SCHEDULED', postId: 'post-1', error: '' },
    });

    expect(await outcomeOf(ledger, attemptId)).toBe('resolved');
    expect(await outcomeOf(ledger, replay)).toBe('ok');
  });

  it('when an attempt is finished twice, then the first outcome stands', async () => {
    const { ledger } = opened();
    const { row, attemptId } = await firstAttempt(ledger, 'worker-a');

    await ledger.finishAttempt(attemptId, row, 'failed', { httpStatus: 422, definite: true });
    await ledger.finishAttempt(attemptId, row, 'unknown', { definite: false });

    expect(await outcomeOf(ledger, attemptId)).toBe('failed');
    expect(await ledger.unresolvedCreate(SCOPE, row.spreadsheet_id, row.row_key)).toBeUndefined();
  });

  it('when an attempt in doubt is replayed and the replay succeeds, then the attempt in doubt is resolved', async () => {
    const { ledger } = opened();
    const { row, attemptId } = await firstAttempt(ledger, 'worker-a');
    await ledger.finishAttempt(attemptId, row, 'unknown', { errorCode: 'timeout', definite: false });
    expect((await ledger.unresolvedCreate(SCOPE, row.spreadsheet_id, row.row_key))?.id).toBe(attemptId);

    const replay = await takeoverSucceeds(ledger);

    expect(await outcomeOf(ledger, attemptId)).toBe('resolved');
    expect(await outcomeOf(ledger, replay)).toBe('ok');
  });
});
