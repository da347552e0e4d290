/**
 * The ledger's memory of Google Drive files uploaded to Postato (table drive_media): one row per tenant, workspace,
 * Drive file id and Drive version. A worker claims a file with a lease before moving its bytes, so a file used by
 * many rows (and by rows in flight at the same time) is uploaded once; the media id is remembered as soon as Postato
 * issues it, so an upload cut off by a crash is confirmed (or restarted) by whoever takes the lease over.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { LedgerDatabase } from './ledger-schema';

/** Which file: the tenant (hash of the API key), its workspace, the Drive file and its version. */
export interface DriveFileScope {
  tenantId: string;
  workspaceId: string;
  driveFileId: string;
  driveVersion: string;
}

/** Who asks for an upload lease: the dispatcher instance (for its heartbeat) and a token unique to this attempt. */
export interface UploadLease {
  owner: string;
  token: string;
  leaseMs: number;
  /** A lease whose owner's heartbeat is older than this (or who is not registered) is free. */
  staleBefore: number;
}

/** What a claim found: the file is in Postato already, this worker may upload it, or another worker is at it. */
export type UploadClaim =
  | { kind: 'ready'; mediaId: string }
  | { kind: 'claimed'; pendingMediaId: string | null }
  | { kind: 'busy'; leaseUntil: number };

/** Intent-level methods over drive_media. */
export interface DriveMediaStore {
  /** The Postato media id of a file version already uploaded and confirmed, or null. */
  readyMedia(scope: DriveFileScope): Promise<string | null>;
  /** Claims the upload of a file version unless it is ready or another live worker holds it. */
  claimUpload(
    scope: DriveFileScope,
    lease: UploadLease,
    file: { mimeType: string; sizeBytes: number },
  ): Promise<UploadClaim>;
  /** Remembers the media id Postato issued for this upload (before any byte is sent). */
  notePending(scope: DriveFileScope, token: string, mediaId: string): Promise<void>;
  /** The upload is confirmed: the file version is ready for every row that names it. */
  markReady(scope: DriveFileScope, token: string, mediaId: string): Promise<void>;
  /** Keeps the lease while bytes are still moving. */
  extend(scope: DriveFileScope, token: string, until: number): Promise<void>;
  /** Gives the lease up after a failure; `forgetPending` drops a media id that can no longer be confirmed. */
  release(scope: DriveFileScope, token: string, o?: { forgetPending?: boolean }): Promise<void>;
}

type Eb = ExpressionBuilder<LedgerDatabase, 'drive_media'>;

function inScope(eb: Eb, s: DriveFileScope) {
  return eb.and([
    eb('tenant_id', '=', s.tenantId),
    eb('workspace_id', '=', s.workspaceId),
    eb('drive_file_id', '=', s.driveFileId),
    eb('drive_version', '=', s.driveVersion),
  ]);
}

/** No lease, an expired one, or one whose owner is not alive (stale heartbeat or never registered). */
function uploadLeaseFree(eb: Eb, now: number, staleBefore: number) {
  return eb.or([
    eb('drive_media.lease_until', 'is', null),
    eb('drive_media.lease_until', '<', now),
    eb.not(
      eb.exists(
        eb
          .selectFrom('dispatcher_instances')
          .select('dispatcher_instances.owner_id')
          .whereRef('dispatcher_instances.owner_id', '=', 'drive_media.lease_owner')
          .where('dispatcher_instances.heartbeat_at', '>=', staleBefore),
      ),
    ),
  ]);
}

/** The store over drive_media. */
export function createDriveMediaStore(db: Kysely<LedgerDatabase>, clock: Clock): DriveMediaStore {
  return {
    async readyMedia(scope) {
      const row = await db
        .selectFrom('drive_media')
        .select(['media_id'])
        .where((eb) => inScope(eb, scope))
        .where('state', '=', 'ready')
        .executeTakeFirst();
      return row?.media_id ?? null;
    },

    async claimUpload(scope, lease, file) {
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        await trx
          .insertInto('drive_media')
          .values({
            tenant_id: scope.tenantId,
            workspace_id: scope.workspaceId,
            drive_file_id: scope.driveFileId,
            drive_version: scope.driveVersion,
            state: 'uploading',
            media_id: null,
            mime_type: file.mimeType,
            size_bytes: file.sizeBytes,
            lease_owner: null,
            lease_token: null,
            lease_until: null,
            updated_at: now,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'workspace_id', 'drive_file_id', 'drive_version']).doNothing())
          .execute();
        // One conditional UPDATE takes the lease: atomic on SQLite and PostgreSQL alike.
        const claimed = await trx
          .updateTable('drive_media')
          .set({
            lease_owner: lease.owner,
            lease_token: lease.token,
            lease_until: now + lease.leaseMs,
            updated_at: now,
          })
          .where((eb) => inScope(eb, scope))
          .where('state', '=', 'uploading')
          .where((eb) => uploadLeaseFree(eb, now, lease.staleBefore))
          .executeTakeFirst();
        const row = await trx
          .selectFrom('drive_media')
          .select(['state', 'media_id', 'lease_until', 'lease_token'])
          .where((eb) => inScope(eb, scope))
          .executeTakeFirstOrThrow();
        if (row.state === 'ready' && row.media_id) return { kind: 'ready', mediaId: row.media_id };
        if (Number(claimed.numUpdatedRows) === 1 && row.lease_token === lease.token)
          return { kind: 'claimed', pendingMediaId: row.media_id };
        return { kind: 'busy', leaseUntil: Number(row.lease_until ?? now) };
      });
    },

    async notePending(scope, token, mediaId) {
      await db
        .updateTable('drive_media')
        .set({ media_id: mediaId, updated_at: clock.now() })
        .where((eb) => inScope(eb, scope))
        .where('lease_token', '=', token)
        .execute();
    },

    async markReady(scope, token, mediaId) {
      await db
        .updateTable('drive_media')
        .set({
          state: 'ready',
          media_id: mediaId,
          lease_owner: null,
          lease_token: null,
          lease_until: null,
          updated_at: clock.now(),
        })
        .where((eb) => inScope(eb, scope))
        .where('lease_token', '=', token)
        .execute();
    },

    async extend(scope, token, until) {
      await db
        .updateTable('drive_media')
        .set({ lease_until: until })
        .where((eb) => inScope(eb, scope))
        .where('lease_token', '=', token)
        .execute();
    },

    async release(scope, token, o = {}) {
      await db
        .updateTable('drive_media')
        .set({
          lease_owner: null,
          lease_token: null,
          lease_until: null,
          updated_at: clock.now(),
          ...(o.forgetPending ? { media_id: null } : {}),
        })
        .where((eb) => inScope(eb, scope))
        .where('lease_token', '=', token)
        .execute();
    },
  };
}
