/**
 * Webhook state in the ledger: applying a delivery event to the rows of the workspace whose secret signed it (once
 * per event id and workspace; parked until its post is recorded), and the registered webhook secrets, sealed at rest when a durable key is configured.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock';
import { sheetChangeOfEvent } from '../sheet-status';
import type {
  DeliveryEvent,
  WebhookEventSink,
  WebhookSecretStore,
  WorkspaceSecret,
} from '../webhooks/webhook-event-sink';
import type { LedgerDatabase, RunRowsTable } from './ledger-schema';
import { changeCurrentRow, type SetResultIn } from './row-change';
import { isParkable, ParkedWebhookEvents, type ParkedCursor, type ParkingLimits } from './parked-webhook-events';
import { statusForState, type ResultChange } from './run-ledger';

/** The sink, plus what the ledger asks of it when a post id is recorded (parked events) and when it purges. */
export interface WebhookLedgerSink extends WebhookEventSink {
  /**
   * Inside the transaction that records `postId` on a row of the workspace (SQLite): applies the events parked for it,
   * after the recorded result, in the order Postato created them.
   */
  applyParkedIn(trx: Transaction<LedgerDatabase>, workspaceId: string, postId: string): Promise<number>;
  /** After the transaction that recorded `postId` committed (PostgreSQL): the same, when anything is parked for it. */
  applyParkedAfter(workspaceId: string, postId: string): Promise<number>;
  /**
   * The reconcile: applies the events parked for posts that a row of their workspace has by now, though nothing
   * applied them (a crash, a lost connection or a failure between the commit and the apply step; a post id recorded
   * by a path that applies nothing parked). Looks at up to `scan` parked events per call, going on from where the
   * last call stopped; answers how many events it applied.
   */
  applyParkedOfRecordedPosts(scan: number): Promise<number>;
  /** Deletes events parked longer than the age limit; answers how many went. */
  purgeExpiredParked(now: number): Promise<number>;
}

/**
 * WebhookEventSink: published → PUBLISHED with Link, failed → DELIVERY FAILED with the reason, a reviewer's decision
 * moves a PENDING APPROVAL row on (SCHEDULED/QUEUED, or REJECTED with the reviewer's comment). Events of one post may be
 * applied concurrently (PostgreSQL): the change is decided on the row as it is when the change lands (changeCurrentRow),
 * and a delivery retried while the first is being applied is a duplicate, not an error. An event whose post no row of
 * its workspace has yet is parked (parked-webhook-events.ts) and applied when that post id is recorded: acknowledging
 * it as unknown lost it for good, since Postato's retry of it would be a duplicate.
 */
export function createWebhookSink(
  db: Kysely<LedgerDatabase>,
  clock: Clock,
  setResultIn: SetResultIn,
  limits?: ParkingLimits,
  /** Told of a failure after the event was committed (it stays parked for the reconcile). */
  warn: (err: unknown, message: string) => void = () => undefined,
): WebhookLedgerSink {
  const parked = new ParkedWebhookEvents(db, limits);
  // Where the reconcile's next scan of the parked events starts (this process's own; any start point is correct).
  let reconcileFrom: ParkedCursor | undefined;

  /**
   * Applies the events parked for the post, once a row of the workspace has it; later events come after them.
   * Answers how many it took.
   */
  async function applyParkedIn(trx: Transaction<LedgerDatabase>, workspaceId: string, postId: string) {
    if (!(await parked.any(trx, workspaceId, postId))) return 0;
    if (!(await latestRowOf(trx, workspaceId, postId))) return 0;
    const events = await parked.take(trx, workspaceId, postId, clock.now());
    for (const event of events) await applyToRow(trx, event);
    return events.length;
  }

  /** Applies `event` to the latest row of its workspace with its post id; false when there is no such row. */
  async function applyToRow(trx: Transaction<LedgerDatabase>, event: DeliveryEvent): Promise<boolean> {
    const applied = await changeCurrentRow(
      trx,
      setResultIn,
      () => latestRowOf(trx, event.workspaceId, event.postId),
      (row) => resultOfEvent(event, row),
    );
    if (!applied) return false;
    const status = applied.change?.sheetStatus;
    if (status) {
      await trx
        .updateTable('posts_by_row')
        .set({ status, ...(event.platformUrl ? { link: event.platformUrl } : {}), updated_at: clock.now() })
        .where('workspace_id', '=', event.workspaceId)
        .where('post_id', '=', event.postId)
        .execute();
    }
    return true;
  }

  async function applyParkedAfter(workspaceId: string, postId: string) {
    // Unlocked first: almost always nothing is parked. An event parked after this read finds the row when it
    // looks again after its own commit (applyDeliveryEvent), so one of the two always applies it.
    if (!(await parked.any(db, workspaceId, postId))) return 0;
    return db.transaction().execute(async (trx) => {
      await parked.lockPost(trx, workspaceId, postId);
      return applyParkedIn(trx, workspaceId, postId);
    });
  }

  async function lookAgain(event: DeliveryEvent) {
    if (await latestRowOf(db, event.workspaceId, event.postId)) await applyParkedAfter(event.workspaceId, event.postId);
  }

  async function applyParkedOfRecordedPosts(scan: number) {
    const { posts, next } = await parked.recordedPosts(reconcileFrom, scan, clock.now());
    reconcileFrom = next;
    let applied = 0;
    // Under the post's lock, as every apply: another instance's reconcile or a new event takes none of them twice.
    for (const { workspaceId, postId } of posts) applied += await applyParkedAfter(workspaceId, postId);
    return applied;
  }

  return {
    async applyDeliveryEvent(event: DeliveryEvent) {
      const result = await db.transaction().execute(async (trx) => {
        // On PostgreSQL a second insert of the same event waits for the first transaction, then does nothing. A parked
        // event keeps its id here, so its retries stay duplicates while it waits and after it is applied.
        const fresh = await trx
          .insertInto('webhook_events')
          .values({ workspace_id: event.workspaceId, event_id: event.eventId, received_at: clock.now() })
          .onConflict((oc) => oc.columns(['workspace_id', 'event_id']).doNothing())
          .returning('event_id')
          .executeTakeFirst();
        if (!fresh) return 'duplicate' as const;
        await parked.lockPost(trx, event.workspaceId, event.postId);
        // Events parked before the row was recorded go first: a later event is never overwritten by an earlier one.
        await applyParkedIn(trx, event.workspaceId, event.postId);
        if (await applyToRow(trx, event)) return 'applied' as const;
        if (!isParkable(event)) return 'unknown_post' as const;
        await parked.park(trx, event, clock.now());
        return 'parked' as const;
      });
      // The create's answer may have been recorded while this event parked (PostgreSQL runs both at once): look again.
      // The park is committed: a failure here must not fail the delivery (its retry would be a duplicate anyway).
      if (result === 'parked')
        await lookAgain(event).catch((err: unknown) =>
          warn(err, 'parked webhook event not applied yet; the reconcile will'),
        );
      return result;
    },
    applyParkedIn,
    applyParkedAfter,
    applyParkedOfRecordedPosts,
    purgeExpiredParked: (now) => parked.purgeExpired(now),
  };
}

/** The row of the workspace that last took a result for `postId` (later runs of the same sheet row come later). */
function latestRowOf(db: Kysely<LedgerDatabase> | Transaction<LedgerDatabase>, workspaceId: string, postId: string) {
  return db
    .selectFrom('run_rows')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('post_id', '=', postId)
    .orderBy('result_seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The result an event gives the row it names, decided from the row's current status; undefined for none. */
function resultOfEvent(event: DeliveryEvent, row: RunRowsTable): ResultChange | undefined {
  const change = sheetChangeOfEvent(event, row.sheet_status ?? statusForState(row.state), row.scheduled_at !== null);
  if (!change) return undefined;
  return {
    state: row.state,
    keepLease: true,
    sheetStatus: change.status,
    ...(change.error !== undefined ? { error: change.error } : {}),
    ...(event.platformUrl ? { link: event.platformUrl } : {}),
  };
}

/** Seals secrets at rest (the service's KeyVault); the ledger needs only these two operations. */
export interface SecretSealer {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}

/** How a KeyVault-sealed value begins (src/runs/key-vault.ts); webhook secrets from Postato never do. */
const SEALED_PREFIX = 'v1:';

/** WebhookSecretStore over webhook_secrets; `vault` seals secrets at rest (pass it only with a durable key). */
export function createWebhookSecretQueries(
  db: Kysely<LedgerDatabase>,
  clock: Clock,
  vault?: SecretSealer,
): WebhookSecretStore {
  // With a durable KEY_ENCRYPTION_KEY the secret is sealed at rest; secrets stored unsealed (no key, or before one
  // was configured) still read back as they are.
  const open = (stored: string) => (vault && stored.startsWith(SEALED_PREFIX) ? vault.decrypt(stored) : stored);
  return {
    async secretsFor(workspaceId) {
      let q = db.selectFrom('webhook_secrets').select(['workspace_id', 'secret']).orderBy('created_at', 'desc');
      if (workspaceId !== undefined) q = q.where('workspace_id', '=', workspaceId);
      const out: WorkspaceSecret[] = [];
      for (const r of await q.execute()) {
        try {
          out.push({ workspaceId: r.workspace_id, secret: open(r.secret) });
        } catch {
          // Sealed with another key: it cannot verify anything; the registration command stores a fresh one.
        }
      }
      return out;
    },
    async saveSecret(workspaceId, secret, webhookId) {
      await db
        .insertInto('webhook_secrets')
        .values({
          id: randomBytes(12).toString('hex'),
          workspace_id: workspaceId,
          secret: vault ? vault.encrypt(secret) : secret,
          webhook_id: webhookId ?? null,
          created_at: clock.now(),
        })
        .execute();
    },
  };
}
