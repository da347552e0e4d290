/**
 * Webhook events that arrive before the create's answer is recorded (the call still in flight, or its answer lost and
 * the row replayed later), on SQLite and PostgreSQL: they are parked for the workspace that signed them and land on the
 * row when its post id is recorded, in order, once; another workspace's post never takes them; retries stay
 * duplicates; the bounds in count and age hold. Before, such an event was acknowledged as an unknown post and lost.
 */
import { sql } from 'kysely';
import { ManualClock } from '../../src/clock';
import { inspectLedgerDb, RunLedger, type RunRowRecord } from '../../src/ledger/run-ledger';
import type { DeliveryEvent } from '../../src/webhooks/webhook-event-sink';
import { ledgerPerTest, newRunOf, type LedgerDialect } from './ledger-fixtures';

const SCOPE = { tenantId: 'tnt_a', workspaceId: 'wks_1' };
const POST_ID = 'post-early';
const T0 = Date.parse('2030-03-01T12:00:00.000Z');

function eventOf(over: Partial<DeliveryEvent>): DeliveryEvent {
  return {
    workspaceId: SCOPE.workspaceId,
    eventId: 'evt_pub',
    type: 'post.published',
    postId: POST_ID,
    status: 'published',
    platformUrl: 'https://example.com/p/early',
    createdAt: new Date(T0 + 60_000).toISOString(),
    ...over,
  };
}

const approved = (over: Partial<DeliveryEvent> = {}) =>
  eventOf({
    eventId: 'evt_ok',
    type: 'approval.decided',
    status: '',
    decision: 'approved',
    platformUrl: undefined,
    createdAt: new Date(T0 + 30_000).toISOString(),
    ...over,
  });

describe.each<LedgerDialect>(['sqlite', 'postgres'])(
  'webhook events parked until their post is recorded (%s)',
  (dialect) => {
    const clock = new ManualClock(T0);
    const opened = ledgerPerTest(dialect, clock);
    beforeEach(() => clock.set(T0));

    /** A claimed create row of tenant `tenantId` in workspace `workspaceId`, its call in flight. */
    async function rowInFlight(ledger: RunLedger, over: { tenantId?: string; workspaceId?: string } = {}) {
      const tenantId = over.tenantId ?? SCOPE.tenantId;
      await ledger.createRun(
        newRunOf(
          { tenantId, workspaceId: over.workspaceId ?? SCOPE.workspaceId, spreadsheetId: `sheet-${tenantId}` },
          1,
        ),
      );
      const row = (await ledger.claimNext(tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;
      const attemptId = (await ledger.beginAttempt(row, { kind: 'create', idempotencyKey: 'k', body: '{}' })) as string;
      return { row, attemptId };
    }

    /** Records the create's answer: the post, waiting for approval or queued. */
    function recordCreate(ledger: RunLedger, claim: { row: RunRowRecord; attemptId: string }, status = 'QUEUED') {
      return ledger.recordSuccess(claim.row, {
        attempt: { id: claim.attemptId, httpStatus: 201 },
        post: { postId: POST_ID, status },
        result: { state: 'created', sheetStatus: status as 'QUEUED', postId: POST_ID, error: '' },
      });
    }

    const parkedIds = async (ledger: RunLedger) =>
      (
        await inspectLedgerDb(ledger)
          .selectFrom('webhook_parked_events')
          .select(['workspace_id', 'event_id'])
          .orderBy('event_id')
          .execute()
      ).map((e) => `${e.workspace_id}/${e.event_id}`);

    it('when post.published arrives before the create answer is recorded, then the row is PUBLISHED with its Link once it is', async () => {
      const { ledger } = opened();
      const claim = await rowInFlight(ledger);
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');
      // Postato's retry of the parked event is still a duplicate.
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('duplicate');

      await recordCreate(ledger, claim);

      const row = await ledger.getRow(claim.row.id);
      expect({ status: row?.sheet_status, link: row?.link, state: row?.state, postId: row?.post_id }).toEqual({
        status: 'PUBLISHED',
        link: 'https://example.com/p/early',
        state: 'created',
        postId: POST_ID,
      });
      expect((await ledger.knownPost(SCOPE, claim.row.spreadsheet_id, claim.row.row_key))?.status).toBe('PUBLISHED');
      expect(await parkedIds(ledger)).toEqual([]);
      // Applied once: a retry after that is a duplicate too.
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('duplicate');
    });

    it('when a failure and a reviewer decision arrive out of order before the answer, then they apply in Postato’s order after it', async () => {
      const { ledger } = opened();
      const claim = await rowInFlight(ledger);
      // Delivered in reverse: the failure (created later) first, the approval (created earlier) second.
      const failed = eventOf({ eventId: 'evt_fail', type: 'post.failed', status: 'failed', error: 'token expired' });
      expect(await ledger.webhookSink.applyDeliveryEvent(failed)).toBe('parked');
      expect(await ledger.webhookSink.applyDeliveryEvent(approved())).toBe('parked');

      // The create's answer said the post waits for approval: the events move it on from there, not the other way round.
      await recordCreate(ledger, claim, 'PENDING APPROVAL');

      const row = await ledger.getRow(claim.row.id);
      expect({ status: row?.sheet_status, error: row?.error }).toEqual({
        status: 'DELIVERY FAILED',
        error: 'Postato could not deliver the post: token expired.',
      });
    });

    it('when a later event arrives after the post is recorded but before the parked ones were applied, then the later one wins', async () => {
      const { ledger } = opened();
      const claim = await rowInFlight(ledger);
      const failed = eventOf({
        eventId: 'evt_fail',
        type: 'post.failed',
        status: 'failed',
        error: 'first try',
        createdAt: new Date(T0 + 10_000).toISOString(),
      });
      expect(await ledger.webhookSink.applyDeliveryEvent(failed)).toBe('parked');
      // The post id lands on the row by a write that applies nothing parked (as between commit and drain on PostgreSQL).
      await ledger.setResult(claim.row.id, { state: 'created', sheetStatus: 'QUEUED', postId: POST_ID, error: '' });

      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('applied');
      await ledger.recordSuccess(claim.row, {
        post: { postId: POST_ID },
        result: { state: 'created', postId: POST_ID, keepLease: true },
      });

      const row = await ledger.getRow(claim.row.id);
      expect({ status: row?.sheet_status, link: row?.link }).toEqual({
        status: 'PUBLISHED',
        link: 'https://example.com/p/early',
      });
      expect(await parkedIds(ledger)).toEqual([]);
    });

    it('when another workspace’s event names the post, then it never applies to this tenant’s row', async () => {
      const { ledger } = opened();
      const claim = await rowInFlight(ledger);
      // Signed with workspace wks_other's secret, naming this tenant's post id.
      const foreign = eventOf({ workspaceId: 'wks_other', eventId: 'evt_foreign' });
      expect(await ledger.webhookSink.applyDeliveryEvent(foreign)).toBe('parked');

      await recordCreate(ledger, claim);

      const row = await ledger.getRow(claim.row.id);
      expect({ status: row?.sheet_status, link: row?.link }).toEqual({ status: 'QUEUED', link: null });
      expect(await parkedIds(ledger)).toEqual(['wks_other/evt_foreign']);

      // The other workspace's own row with that post id takes it, and only that one.
      const theirs = await rowInFlight(ledger, { tenantId: 'tnt_b', workspaceId: 'wks_other' });
      await recordCreate(ledger, theirs);
      expect((await ledger.getRow(theirs.row.id))?.sheet_status).toBe('PUBLISHED');
      expect((await ledger.getRow(claim.row.id))?.sheet_status).toBe('QUEUED');
    });

    it('when approval.requested arrives for an unknown post, then nothing is parked (it never changes a row)', async () => {
      const { ledger } = opened();
      const requested = eventOf({ eventId: 'evt_req', type: 'approval.requested', status: 'pending_approval' });
      expect(await ledger.webhookSink.applyDeliveryEvent(requested)).toBe('unknown_post');
      expect(await parkedIds(ledger)).toEqual([]);
    });

    it('when post.scheduled or post.queued arrives for an unknown post, then nothing is parked (it never changes a row); post.published is', async () => {
      const { ledger } = opened();
      for (const type of ['post.scheduled', 'post.queued'])
        expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({ eventId: `evt_${type}`, type, status: '' }))).toBe(
          'unknown_post',
        );
      expect(await parkedIds(ledger)).toEqual([]);
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');
      expect(await parkedIds(ledger)).toEqual(['wks_1/evt_pub']);
    });

    it('when the post id is recorded by a path that applies nothing parked (the known-post write), then the reconcile applies the event once, in its workspace only', async () => {
      const { ledger } = opened();
      const claim = await rowInFlight(ledger);
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');
      const foreign = eventOf({ workspaceId: 'wks_other', eventId: 'evt_foreign' });
      expect(await ledger.webhookSink.applyDeliveryEvent(foreign)).toBe('parked');
      await ledger.setResult(claim.row.id, { state: 'created', sheetStatus: 'QUEUED', postId: POST_ID, error: '' });
      expect((await ledger.getRow(claim.row.id))?.sheet_status).toBe('QUEUED');

      expect(await ledger.applyParkedWebhookEvents()).toBe(1);

      const row = await ledger.getRow(claim.row.id);
      expect({ status: row?.sheet_status, link: row?.link }).toEqual({
        status: 'PUBLISHED',
        link: 'https://example.com/p/early',
      });
      // The other workspace's event names the same post id: no row of its workspace has it, so it stays parked.
      expect(await parkedIds(ledger)).toEqual(['wks_other/evt_foreign']);
      expect(await ledger.applyParkedWebhookEvents()).toBe(0);
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('duplicate');
      expect((await ledger.getRow(claim.row.id))?.sheet_status).toBe('PUBLISHED');
    });

    it('when the reconcile looks at one parked event per call, then its calls go on through the rest and reach the recorded post', async () => {
      const { ledger } = opened();
      const claim = await rowInFlight(ledger);
      for (const id of ['evt_a', 'evt_b'])
        expect(
          await ledger.webhookSink.applyDeliveryEvent(eventOf({ eventId: id, postId: `post-elsewhere-${id}` })),
        ).toBe('parked');
      expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');
      await ledger.setResult(claim.row.id, { state: 'created', sheetStatus: 'QUEUED', postId: POST_ID, error: '' });

      const applied: number[] = [];
      for (let i = 0; i < 3; i++) applied.push(await ledger.applyParkedWebhookEvents(1));

      // evt_a, then evt_b (their posts unknown), then evt_pub.
      expect(applied).toEqual([0, 0, 1]);
      expect((await ledger.getRow(claim.row.id))?.sheet_status).toBe('PUBLISHED');
      expect(await parkedIds(ledger)).toEqual(['wks_1/evt_a', 'wks_1/evt_b']);
    });

    it('when a workspace parks more than its bound, or an event outlives the age limit, then the oldest go and an expired one never applies', async () => {
      const limited = new RunLedger(inspectLedgerDb(opened().ledger), clock, {
        parkedWebhookEvents: { maxPerWorkspace: 2, maxAgeMs: 60_000 },
      });
      for (const n of [1, 2, 3]) {
        expect(
          await limited.webhookSink.applyDeliveryEvent(eventOf({ eventId: `evt_${n}`, postId: `post-elsewhere-${n}` })),
        ).toBe('parked');
        clock.advance(1_000);
      }
      expect(await parkedIds(limited)).toEqual(['wks_1/evt_2', 'wks_1/evt_3']);

      const claim = await rowInFlight(limited);
      expect(await limited.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');
      expect(await parkedIds(limited)).toEqual(['wks_1/evt_3', 'wks_1/evt_pub']);
      clock.advance(61_000);
      await recordCreate(limited, claim);
      expect((await limited.getRow(claim.row.id))?.sheet_status).toBe('QUEUED');
      // The purge drops what outlived the limit in every workspace.
      expect(await limited.purgeExpiredWebhookEvents(clock.now())).toBe(1);
      expect(await parkedIds(limited)).toEqual([]);
    });
  },
);

describe('an event parked while the create answer is being recorded on PostgreSQL', () => {
  const clock = new ManualClock(T0);
  const opened = ledgerPerTest('postgres', clock);

  it('when the event finds no row because the answer is not committed yet, then it still lands once the answer is', async () => {
    const { ledger } = opened();
    await ledger.createRun(newRunOf({}, 1));
    const row = (await ledger.claimNext(SCOPE.tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;
    const attemptId = (await ledger.beginAttempt(row, { kind: 'create', idempotencyKey: 'k', body: '{}' })) as string;

    // Hold the result counter: recordSuccess's one statement (its snapshot already taken) waits on it.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = inspectLedgerDb(ledger)
      .transaction()
      .execute(async (trx) => {
        await sql`select value from counters where name = 'result_seq' for update`.execute(trx);
        locked();
        await released;
      });
    await isLocked;
    const recorded = ledger.recordSuccess(row, {
      attempt: { id: attemptId, httpStatus: 201 },
      post: { postId: POST_ID, status: 'QUEUED' },
      result: { state: 'created', sheetStatus: 'QUEUED', postId: POST_ID, error: '' },
    });
    for (let i = 0; ; i++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(inspectLedgerDb(ledger));
      if (rows[0]!.n >= 1) break;
      if (i > 2000) throw new Error('recordSuccess never waited for the counter');
      await new Promise((r) => setTimeout(r, 5));
    }

    // The event commits its park before the answer does.
    expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');
    release();
    await holder;
    await recorded;

    expect((await ledger.getRow(row.id))?.sheet_status).toBe('PUBLISHED');
  });

  it('when applying the parked events fails after the answer committed, then recordSuccess still succeeds and the reconcile applies them once', async () => {
    const db = inspectLedgerDb(opened().ledger);
    const warnings: string[] = [];
    const ledger = new RunLedger(db, clock, { onWarning: (_err, message) => warnings.push(message) });
    await ledger.createRun(newRunOf({}, 1));
    const row = (await ledger.claimNext(SCOPE.tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;
    const attemptId = (await ledger.beginAttempt(row, { kind: 'create', idempotencyKey: 'k', body: '{}' })) as string;
    expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('parked');

    // The apply step after the commit fails (the table out of reach, as a lost connection would be).
    await sql`alter table webhook_parked_events rename to webhook_parked_events_away`.execute(db);
    try {
      await ledger.recordSuccess(row, {
        attempt: { id: attemptId, httpStatus: 201 },
        post: { postId: POST_ID, status: 'QUEUED' },
        result: { state: 'created', sheetStatus: 'QUEUED', postId: POST_ID, error: '' },
      });
    } finally {
      await sql`alter table webhook_parked_events_away rename to webhook_parked_events`.execute(db);
    }
    expect(warnings).toHaveLength(1);
    expect((await ledger.getRow(row.id))?.sheet_status).toBe('QUEUED');

    expect(await ledger.applyParkedWebhookEvents()).toBe(1);
    expect(await ledger.applyParkedWebhookEvents()).toBe(0);
    expect((await ledger.getRow(row.id))?.sheet_status).toBe('PUBLISHED');
    expect(await ledger.webhookSink.applyDeliveryEvent(eventOf({}))).toBe('duplicate');
  });
});
