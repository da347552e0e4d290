/**
 * Webhook events parked until their post is recorded. Postato may deliver an event (post.published, post.failed,
 * approval.decided) before the service has recorded the create's answer: the call is still in flight, or its answer
 * was lost and the row is replayed later. Such an event is kept here, per workspace whose secret signed it, and taken
 * when that workspace records the post id. Bounded: at most `maxPerWorkspace` per workspace (the oldest go first) and
 * never older than `maxAgeMs` (not applied after that, deleted by the next park of the workspace or by the purge).
 */
import { createHash } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import type { DeliveryEvent } from '../webhooks/webhook-event-sink';
import type { LedgerDatabase } from './ledger-schema';
import { QueryShapes } from './query-shapes';

type Db = Kysely<LedgerDatabase> | Transaction<LedgerDatabase>;

/** How many parked events a workspace keeps, and for how long. */
export interface ParkingLimits {
  maxPerWorkspace: number;
  maxAgeMs: number;
}

/**
 * Defaults: a lost answer is replayed at the row's next attempt, or days later when the campaign manager publishes
 * again (the idempotency key returns the same post); events of posts created outside the sheets park too, and the
 * count bound keeps the newest of them.
 */
export const DEFAULT_PARKING_LIMITS: ParkingLimits = { maxPerWorkspace: 1000, maxAgeMs: 7 * 86_400_000 };

/** Events that can change a row once its post is known; approval.requested never does (the create answer says it). */
export function isParkable(event: Pick<DeliveryEvent, 'type'>): boolean {
  return event.type !== 'approval.requested';
}

/** The parked events of one ledger. */
export class ParkedWebhookEvents {
  private readonly shapes = new QueryShapes<LedgerDatabase>();
  private readonly postgres: boolean;

  constructor(
    private readonly db: Kysely<LedgerDatabase>,
    readonly limits: ParkingLimits = DEFAULT_PARKING_LIMITS,
  ) {
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /**
   * Serialises, until the transaction ends, everything that reads or parks events of one post in one workspace
   * (PostgreSQL: a transaction-scoped advisory lock; SQLite runs one write transaction at a time). An event that finds
   * no row parks under the lock, so the next event of that post, or the drain after its create is recorded, sees it.
   */
  async lockPost(trx: Transaction<LedgerDatabase>, workspaceId: string, postId: string): Promise<void> {
    if (!this.postgres) return;
    const digest = createHash('sha256').update(workspaceId).update('\u0000').update(postId).digest();
    const key = digest.readBigInt64BE(0).toString();
    await sql`select pg_advisory_xact_lock(${key}::bigint)`.execute(trx);
  }

  /** Parks `event` (its post has no row yet) and drops the workspace's parked events beyond the bounds. */
  async park(trx: Db, event: DeliveryEvent, now: number): Promise<void> {
    await trx
      .insertInto('webhook_parked_events')
      .values({
        workspace_id: event.workspaceId,
        event_id: event.eventId,
        post_id: event.postId,
        event_json: JSON.stringify(event),
        parked_at: now,
      })
      .onConflict((oc) => oc.columns(['workspace_id', 'event_id']).doNothing())
      .execute();
    await trx
      .deleteFrom('webhook_parked_events')
      .where('workspace_id', '=', event.workspaceId)
      .where((eb) =>
        eb.or([
          eb('parked_at', '<', now - this.limits.maxAgeMs),
          eb(
            'event_id',
            'in',
            eb
              .selectFrom('webhook_parked_events')
              .select('event_id')
              .where('workspace_id', '=', event.workspaceId)
              .orderBy('parked_at', 'desc')
              .orderBy('event_id', 'desc')
              // SQLite needs a LIMIT before an OFFSET.
              .limit(Number.MAX_SAFE_INTEGER)
              .offset(this.limits.maxPerWorkspace),
          ),
        ]),
      )
      .execute();
  }

  /** Whether the workspace has an event parked for `postId`; one indexed read, asked after every recorded create. */
  async any(db: Db, workspaceId: string, postId: string): Promise<boolean> {
    const { rows } = await this.shapes.execute(
      db as Kysely<LedgerDatabase>,
      'parkedFor',
      { workspaceId, postId },
      (d, p) =>
        d
          .selectFrom('webhook_parked_events')
          .select('event_id')
          .where('workspace_id', '=', p<string>('workspaceId'))
          .where('post_id', '=', p<string>('postId'))
          .limit(1),
    );
    return rows.length > 0;
  }

  /**
   * Removes the workspace's events parked for `postId` and answers those still within the age limit, in the order
   * Postato created them (then the order they arrived in).
   */
  async take(trx: Db, workspaceId: string, postId: string, now: number): Promise<DeliveryEvent[]> {
    const rows = await trx
      .deleteFrom('webhook_parked_events')
      .where('workspace_id', '=', workspaceId)
      .where('post_id', '=', postId)
      .returning(['event_json', 'parked_at'])
      .execute();
    return rows
      .filter((r) => Number(r.parked_at) >= now - this.limits.maxAgeMs)
      .map((r) => ({ event: JSON.parse(r.event_json) as DeliveryEvent, parkedAt: Number(r.parked_at) }))
      .sort((a, b) => createdMs(a.event) - createdMs(b.event) || a.parkedAt - b.parkedAt)
      .map((r) => r.event);
  }

  /** Deletes the events parked longer than the age limit, in every workspace; answers how many went. */
  async purgeExpired(now: number): Promise<number> {
    const res = await this.db
      .deleteFrom('webhook_parked_events')
      .where('parked_at', '<', now - this.limits.maxAgeMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** Postato's creation time of an event; an unreadable one sorts first, then by arrival. */
function createdMs(event: DeliveryEvent): number {
  const ms = Date.parse(event.createdAt);
  return Number.isNaN(ms) ? 0 : ms;
}
