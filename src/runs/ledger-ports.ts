/**
 * The ledger behind the ports other parts depend on: known posts (dry run and publish), the write-back store
 * (sheets flusher), the webhook event sink and the webhook secret store.
 */
import type { KeyVault } from './key-vault';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { KnownPost, KnownPostsPort } from '../plan/dry-run-ports';
import type { OutputColumn, PendingWrite, WriteBackStore } from '../sheets/write-back-store';
import type {
  DeliveryEvent,
  WebhookEventSink,
  WebhookSecretStore,
  WorkspaceSecret,
} from '../webhooks/webhook-event-sink';
import { statusForState, type RunLedger } from './run-ledger';
import type { RowState } from './ledger-schema';
import { sheetChangeOfEvent } from './sheet-status';

/** KnownPostsPort over posts_by_row: the dry run and publish both see posts the ledger knows. */
export function createLedgerKnownPosts(ledger: RunLedger): KnownPostsPort {
  return {
    async knownPosts(scope, spreadsheetId, rowKeys) {
      const map = new Map<string, KnownPost>();
      for (const p of await ledger.knownPostsFor(scope, spreadsheetId, rowKeys)) {
        map.set(p.row_key, {
          rowKey: p.row_key,
          postId: p.post_id,
          ...(p.scheduled_at ? { scheduledAt: p.scheduled_at } : {}),
          ...(p.body_hash ? { bodyHash: p.body_hash } : {}),
          ...(p.status ? { status: p.status } : {}),
        });
      }
      return map;
    },
  };
}

/** WriteBackStore over run_rows: every result change bumped `version`; written_version trails it. */
export function createLedgerWriteBackStore(ledger: RunLedger, clock: Clock): WriteBackStore {
  const db = ledger.db;
  return {
    async spreadsheetsWithPendingWrites() {
      const rows = await db
        .selectFrom('run_rows')
        .select('spreadsheet_id')
        .distinct()
        .whereRef('version', '>', 'written_version')
        .where('removed', '=', 0)
        .execute();
      return rows.map((r) => r.spreadsheet_id);
    },
    async pendingWrites(spreadsheetId, limit) {
      const rows = await db
        .selectFrom('run_rows')
        .innerJoin('runs', 'runs.id', 'run_rows.run_id')
        .selectAll('run_rows')
        .select(['runs.sheet_name', 'runs.sheet_id'])
        .where('run_rows.spreadsheet_id', '=', spreadsheetId)
        .whereRef('run_rows.version', '>', 'run_rows.written_version')
        .where('run_rows.removed', '=', 0)
        .orderBy('run_rows.result_seq')
        .limit(limit)
        .execute();
      return rows.map((r): PendingWrite => {
        const values: Partial<Record<OutputColumn, string>> = {
          Run: r.run_id,
          Updated: new Date(Number(r.updated_at)).toISOString(),
        };
        if (r.sheet_status) values.Status = r.sheet_status;
        if (r.post_id) values['Post ID'] = r.post_id;
        if (r.error !== null) values.Error = r.error;
        if (r.scheduled_at) values['Scheduled (UTC)'] = r.scheduled_at;
        if (r.link) values.Link = r.link;
        return {
          rowId: r.id,
          runId: r.run_id,
          spreadsheetId: r.spreadsheet_id,
          sheetName: r.sheet_name,
          sheetId: r.sheet_id,
          rowKey: r.row_key,
          values,
          version: r.version,
        };
      });
    },
    async markWritten(written) {
      for (const w of written) {
        await db
          .updateTable('run_rows')
          .set({ written_version: w.version })
          .where('id', '=', w.rowId)
          .where('written_version', '<', w.version)
          .execute();
      }
    },
    async markRemoved(removed) {
      for (const w of removed) {
        await db
          .updateTable('run_rows')
          .set({ written_version: w.version, removed: 1 })
          .where('id', '=', w.rowId)
          .execute();
      }
    },
    async markDuplicateKey(duplicates) {
      for (const d of duplicates) {
        await db
          .updateTable('run_rows')
          .set({
            written_version: d.version,
            error: `The key of this row appears on rows ${d.rowNumbers.join(', ')}. Give each row its own key.`,
          })
          .where('id', '=', d.rowId)
          .execute();
      }
    },
    async recordSheetAccess(spreadsheetId, access) {
      const now = clock.now();
      await db
        .insertInto('sheet_access')
        .values({
          spreadsheet_id: spreadsheetId,
          ok: access.ok ? 1 : 0,
          message: access.message ?? null,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .column('spreadsheet_id')
            .doUpdateSet({ ok: access.ok ? 1 : 0, message: access.message ?? null, updated_at: now }),
        )
        .execute();
    },
    async requeueRun(runId) {
      const res = await db
        .updateTable('run_rows')
        .set({ written_version: 0, removed: 0 })
        .where('run_id', '=', runId)
        .where('version', '>', 0)
        .executeTakeFirst();
      return Number(res.numUpdatedRows);
    },
  };
}

/** Reads what the write-back last recorded about a spreadsheet's access, if anything. */
export async function sheetAccessOf(
  ledger: RunLedger,
  spreadsheetId: string,
): Promise<{ ok: boolean; message?: string } | undefined> {
  const r = await ledger.db
    .selectFrom('sheet_access')
    .selectAll()
    .where('spreadsheet_id', '=', spreadsheetId)
    .executeTakeFirst();
  return r ? { ok: r.ok === 1, ...(r.message ? { message: r.message } : {}) } : undefined;
}

/**
 * WebhookEventSink over the ledger: published → PUBLISHED with Link, failed → DELIVERY FAILED with the reason, a
 * reviewer's decision moves a PENDING APPROVAL row on (SCHEDULED/QUEUED, or REJECTED with the reviewer's comment).
 * Only rows of the workspace whose secret signed the event are looked at.
 */
export function createLedgerWebhookSink(ledger: RunLedger, clock: Clock): WebhookEventSink {
  return {
    async applyDeliveryEvent(event: DeliveryEvent) {
      return ledger.db.transaction().execute(async (trx) => {
        const seen = await trx
          .selectFrom('webhook_events')
          .select('event_id')
          .where('workspace_id', '=', event.workspaceId)
          .where('event_id', '=', event.eventId)
          .executeTakeFirst();
        if (seen) return 'duplicate' as const;
        await trx
          .insertInto('webhook_events')
          .values({ workspace_id: event.workspaceId, event_id: event.eventId, received_at: clock.now() })
          .execute();
        const row = await trx
          .selectFrom('run_rows')
          .selectAll()
          .where('workspace_id', '=', event.workspaceId)
          .where('post_id', '=', event.postId)
          .orderBy('result_seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (!row) return 'unknown_post' as const;
        const change = sheetChangeOfEvent(
          event,
          row.sheet_status ?? statusForState(row.state as RowState),
          row.scheduled_at !== null,
        );
        if (!change) return 'applied' as const;
        const { status, error } = change;
        await ledger.setResult(
          row.id,
          {
            state: row.state as never,
            keepLease: true,
            sheetStatus: status,
            ...(error !== undefined ? { error } : {}),
            ...(event.platformUrl ? { link: event.platformUrl } : {}),
          },
          trx,
        );
        await trx
          .updateTable('posts_by_row')
          .set({ status, ...(event.platformUrl ? { link: event.platformUrl } : {}), updated_at: clock.now() })
          .where('workspace_id', '=', event.workspaceId)
          .where('post_id', '=', event.postId)
          .execute();
        return 'applied' as const;
      });
    },
  };
}

/** How a KeyVault-sealed value begins (src/runs/key-vault.ts); webhook secrets from Postato never do. */
const SEALED_PREFIX = 'v1:';

/** WebhookSecretStore over the webhook_secrets table; `vault` seals secrets at rest (pass it only with a durable key). */
export function createLedgerWebhookSecretStore(ledger: RunLedger, clock: Clock, vault?: KeyVault): WebhookSecretStore {
  // With a durable KEY_ENCRYPTION_KEY the secret is sealed at rest; secrets stored unsealed (no key, or before one
  // was configured) still read back as they are.
  const open = (stored: string) => (vault && stored.startsWith(SEALED_PREFIX) ? vault.decrypt(stored) : stored);
  return {
    async secretsFor(workspaceId) {
      let q = ledger.db.selectFrom('webhook_secrets').select(['workspace_id', 'secret']).orderBy('created_at', 'desc');
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
      await ledger.db
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
