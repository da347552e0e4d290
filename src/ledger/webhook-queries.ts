/**
 * Webhook state in the ledger: applying a delivery event to the rows of the workspace whose secret signed it (once
 * per event id and workspace), and the registered webhook secrets, sealed at rest when a durable key is configured.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
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
import { statusForState, type ResultChange } from './run-ledger';

/**
 * WebhookEventSink: published → PUBLISHED with Link, failed → DELIVERY FAILED with the reason, a reviewer's decision
 * moves a PENDING APPROVAL row on (SCHEDULED/QUEUED, or REJECTED with the reviewer's comment). Events of one post may be
 * applied concurrently (PostgreSQL): the change is decided on the row as it is when the change lands (changeCurrentRow),
 * and a delivery retried while the first is being applied is a duplicate, not an error.
 */
export function createWebhookSink(
  db: Kysely<LedgerDatabase>,
  clock: Clock,
  setResultIn: SetResultIn,
): WebhookEventSink {
  return {
    async applyDeliveryEvent(event: DeliveryEvent) {
      return db.transaction().execute(async (trx) => {
        // On PostgreSQL a second insert of the same event waits for the first transaction, then does nothing.
        const fresh = await trx
          .insertInto('webhook_events')
          .values({ workspace_id: event.workspaceId, event_id: event.eventId, received_at: clock.now() })
          .onConflict((oc) => oc.columns(['workspace_id', 'event_id']).doNothing())
          .returning('event_id')
          .executeTakeFirst();
        if (!fresh) return 'duplicate' as const;
        const applied = await changeCurrentRow(
          trx,
          setResultIn,
          () =>
            trx
              .selectFrom('run_rows')
              .selectAll()
              .where('workspace_id', '=', event.workspaceId)
              .where('post_id', '=', event.postId)
              .orderBy('result_seq', 'desc')
              .limit(1)
              .executeTakeFirst(),
          (row) => resultOfEvent(event, row),
        );
        if (!applied) return 'unknown_post' as const;
        const status = applied.change?.sheetStatus;
        if (status) {
          await trx
            .updateTable('posts_by_row')
            .set({ status, ...(event.platformUrl ? { link: event.platformUrl } : {}), updated_at: clock.now() })
            .where('workspace_id', '=', event.workspaceId)
            .where('post_id', '=', event.postId)
            .execute();
        }
        return 'applied' as const;
      });
    },
  };
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
