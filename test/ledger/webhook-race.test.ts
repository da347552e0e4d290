/**
 * Webhook events (and a status refresh) applied concurrently on PostgreSQL (a real pool; SQLite runs one transaction at a time). Each event
 * reads its row, decides the change from the row's current status and writes it: an event must decide on the row as
 * it is when its change lands, not as it was when read, or a later commit overwrites a newer result with stale data.
 * The interleaving is made deterministic by holding the result counter's row lock (every result write takes it)
 * until both sides have read their row and wait for it; waiters on a row lock are served in arrival order.
 */
import { sql } from 'kysely';
import { ManualClock } from '../../src/clock';
import { inspectLedgerDb, type RunLedger, type RunRowRecord } from '../../src/ledger/run-ledger';
import type { DeliveryEvent } from '../../src/webhooks/webhook-event-sink';
import { ledgerPerTest, newRunOf } from './ledger-fixtures';

const SCOPE = { tenantId: 'tnt_a', workspaceId: 'wks_1' };
const POST_ID = 'post-1';

function eventOf(over: Partial<DeliveryEvent>): DeliveryEvent {
  return {
    workspaceId: SCOPE.workspaceId,
    eventId: 'evt_1',
    type: 'post.published',
    postId: POST_ID,
    status: 'published',
    platformUrl: 'https://example.com/p/1',
    createdAt: '2030-03-01T12:00:00.000Z',
    ...over,
  };
}

describe('webhook events applied concurrently on PostgreSQL', () => {
  const clock = new ManualClock(1_900_000_000_000);
  const opened = ledgerPerTest('postgres', clock);

  /** Holds the result counter's row lock until `release` is called: every result write waits for it meanwhile. */
  async function holdResultCounter(ledger: RunLedger): Promise<{ release(): Promise<void> }> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const done = inspectLedgerDb(ledger)
      .transaction()
      .execute(async (trx) => {
        await sql`select value from counters where name = 'result_seq' for update`.execute(trx);
        locked();
        await released;
      });
    await isLocked;
    return {
      release: async () => {
        release();
        await done;
      },
    };
  }

  /** Waits until `n` sessions of the test database wait for a lock (the held counter, or a row another holds). */
  async function untilWaiting(ledger: RunLedger, n: number): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(inspectLedgerDb(ledger));
      if (rows[0]!.n >= n) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`fewer than ${n} sessions ever waited for a lock`);
  }

  /** A row whose create was answered with a post waiting for approval. */
  async function rowPendingApproval(ledger: RunLedger): Promise<RunRowRecord> {
    await ledger.createRun(newRunOf({}, 1));
    const row = (await ledger.claimNext(SCOPE.tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;
    const attempt = (await ledger.beginAttempt(row, { kind: 'create', idempotencyKey: 'k', body: '{}' })) as string;
    await ledger.recordSuccess(row, {
      attempt: { id: attempt, httpStatus: 201 },
      post: { postId: POST_ID, status: 'PENDING APPROVAL', scheduledAt: '2030-03-02T09:00:00.000Z' },
      result: {
        state: 'created',
        sheetStatus: 'PENDING APPROVAL',
        postId: POST_ID,
        scheduledAt: '2030-03-02T09:00:00.000Z',
        error: '',
      },
    });
    return row;
  }

  it('when a late approval is applied beside the publication, then the row stays PUBLISHED', async () => {
    const { ledger } = opened();
    const row = await rowPendingApproval(ledger);
    const counter = await holdResultCounter(ledger);

    // Both events read the row PENDING APPROVAL; the publication's write goes first, then the approval's.
    const published = ledger.webhookSink.applyDeliveryEvent(eventOf({ eventId: 'evt_pub' }));
    await untilWaiting(ledger, 1);
    const approved = ledger.webhookSink.applyDeliveryEvent(
      eventOf({
        eventId: 'evt_ok',
        type: 'approval.decided',
        status: '',
        decision: 'approved',
        platformUrl: undefined,
      }),
    );
    await untilWaiting(ledger, 2);
    await counter.release();

    expect(await Promise.all([published, approved])).toEqual(['applied', 'applied']);
    const after = await ledger.getRow(row.id);
    expect({ sheetStatus: after?.sheet_status, link: after?.link, state: after?.state }).toEqual({
      sheetStatus: 'PUBLISHED',
      link: 'https://example.com/p/1',
      state: 'created',
    });
    expect((await ledger.knownPost(SCOPE, row.spreadsheet_id, row.row_key))?.status).toBe('PUBLISHED');
  });

  it('when a publication is applied beside a PATCH’s result, then the row keeps the result’s state', async () => {
    const { ledger } = opened();
    await ledger.createRun(
      newRunOf({
        rows: [
          {
            rowKey: 'k0',
            rowNumber: 2,
            kind: 'update',
            state: 'pending',
            postId: POST_ID,
            sheetStatus: 'SCHEDULED',
            bodyJson: '{"scheduledAt":"2030-03-03T09:00:00.000Z"}',
            writeBack: false,
          },
        ],
      }),
    );
    const row = (await ledger.claimNext(SCOPE.tenantId, 'w1', clock.now(), 60_000)) as RunRowRecord;
    const attempt = (await ledger.beginAttempt(row, { kind: 'update', idempotencyKey: null, body: '{}' })) as string;
    const counter = await holdResultCounter(ledger);

    // The PATCH's result is recorded first; the event read the row while it was still sending.
    const patched = ledger.recordSuccess(row, {
      attempt: { id: attempt, httpStatus: 200 },
      post: { postId: POST_ID, status: 'SCHEDULED', scheduledAt: '2030-03-03T09:00:00.000Z' },
      result: { state: 'updated', sheetStatus: 'SCHEDULED', scheduledAt: '2030-03-03T09:00:00.000Z', error: '' },
    });
    await untilWaiting(ledger, 1);
    const published = ledger.webhookSink.applyDeliveryEvent(eventOf({ eventId: 'evt_pub' }));
    await untilWaiting(ledger, 2);
    await counter.release();
    await patched;

    expect(await published).toBe('applied');
    const after = await ledger.getRow(row.id);
    // A row put back to 'sending' would be claimed and PATCHed again.
    expect({ state: after?.state, sheetStatus: after?.sheet_status }).toEqual({
      state: 'updated',
      sheetStatus: 'PUBLISHED',
    });
    expect(await ledger.claimNext(SCOPE.tenantId, 'w2', clock.now() + 120_000, 60_000)).toBeNull();
  });

  it('when a status refresh read before the publication is applied beside it, then the row stays PUBLISHED', async () => {
    const { ledger } = opened();
    const row = await rowPendingApproval(ledger);
    const counter = await holdResultCounter(ledger);

    // The refresh read the post at Postato just after its approval; the publication's event lands first.
    const published = ledger.webhookSink.applyDeliveryEvent(eventOf({ eventId: 'evt_pub' }));
    await untilWaiting(ledger, 1);
    const refreshed = ledger.statusRefresh.applyPostStatus(SCOPE, row.spreadsheet_id, POST_ID, {
      status: 'scheduled',
      approval: { status: 'approved' },
    });
    await untilWaiting(ledger, 2);
    await counter.release();

    expect(await Promise.all([published, refreshed])).toEqual(['applied', 'unchanged']);
    expect((await ledger.getRow(row.id))?.sheet_status).toBe('PUBLISHED');
    expect((await ledger.knownPost(SCOPE, row.spreadsheet_id, row.row_key))?.status).toBe('PUBLISHED');
  });

  it('when Postato delivers the same event twice at once, then one is applied and the other is a duplicate', async () => {
    const { ledger } = opened();
    await rowPendingApproval(ledger);
    const counter = await holdResultCounter(ledger);

    const first = ledger.webhookSink.applyDeliveryEvent(eventOf({}));
    await untilWaiting(ledger, 1);
    const second = ledger.webhookSink.applyDeliveryEvent(eventOf({}));
    await untilWaiting(ledger, 2);
    await counter.release();

    expect(await Promise.allSettled([first, second])).toEqual([
      { status: 'fulfilled', value: 'applied' },
      { status: 'fulfilled', value: 'duplicate' },
    ]);
  });
});
