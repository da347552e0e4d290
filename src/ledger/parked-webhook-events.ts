/**
 * Webhook events parked until their post is recorded. Postato may deliver an event (post.published, post.failed,
 * approval.decided) before the service has recorded the create's answer: the call is still in flight, or its answer
 * was lost and the row is replayed later. Such an event is kept here, per workspace whose secret signed it, and taken
 * when that workspace records the post id, or by the reconcile (every dispatcher instance, every few seconds) when
 * nothing applied them then (a crash right after the commit, a post id recorded by another path). Bounded: at most
 * `maxPerWorkspace` per workspace (the oldest go first) and never older than `maxAgeMs` (not applied after that,
 * deleted by the next park of the workspace or by the purge).
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

/**
 * The event types that can change a row once its post is known (those sheetChangeOfEvent acts on). The others never
 * do: approval.requested (the create's answer says it), post.scheduled and post.queued (sent at every create, racing
 * its answer: parking them would cost every create a drain and fill the workspace's bound, pushing out real events).
 */
const PARKABLE_TYPES: ReadonlySet<string> = new Set(['post.published', 'post.failed', 'approval.decided']);

/** Whether an event for a post not recorded yet is worth keeping until it is. */
export function isParkable(event: Pick<DeliveryEvent, 'type'>): boolean {
  return PARKABLE_TYPES.has(event.type);
}

/** Where a scan of the parked events stopped (their primary key); the next scan goes on after it. */
export interface ParkedCursor {
  workspaceId: string;
  eventId: string;
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

  /**
   * Looks at up to `scan` parked events after `after` (primary-key order) and answers the workspace + post pairs among
   * them, within the age limit, that a row of that workspace now has (recorded by a path that applied nothing parked,
   * or whose apply step never ran), and where the next scan goes on (undefined: from the start again).
   */
  async recordedPosts(
    after: ParkedCursor | undefined,
    scan: number,
    now: number,
  ): Promise<{ posts: Array<{ workspaceId: string; postId: string }>; next: ParkedCursor | undefined }> {
    let q = this.db
      .selectFrom('webhook_parked_events as p')
      .select((eb) => [
        'p.workspace_id',
        'p.event_id',
        'p.post_id',
        'p.parked_at',
        eb
          .exists(
            eb
              .selectFrom('run_rows as r')
              .select('r.id')
              .whereRef('r.workspace_id', '=', 'p.workspace_id')
              .whereRef('r.post_id', '=', 'p.post_id'),
          )
          .as('recorded'),
      ])
      .orderBy('p.workspace_id')
      .orderBy('p.event_id')
      .limit(scan);
    // A row-value comparison: both dialects read it as a range of the primary key's index.
    if (after)
      q = q.where((eb) =>
        eb(eb.refTuple('p.workspace_id', 'p.event_id'), '>', eb.tuple(after.workspaceId, after.eventId)),
      );
    const rows = await q.execute();
    const posts = new Map<string, { workspaceId: string; postId: string }>();
    for (const r of rows)
      if (Boolean(r.recorded) && Number(r.parked_at) >= now - this.limits.maxAgeMs)
        posts.set(`${r.workspace_id}\u0000${r.post_id}`, { workspaceId: r.workspace_id, postId: r.post_id });
    const last = rows.at(-1);
    return {
      posts: [...posts.values()],
      next: rows.length === scan && last ? { workspaceId: last.workspace_id, eventId: last.event_id } : undefined,
    };
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
