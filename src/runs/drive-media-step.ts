/**
 * Media preparation for one row: every Google Drive file its post names is put into Postato (read from Drive with the
 * caller's token, uploaded through Postato's presigned upload, confirmed) unless the ledger already holds a media id
 * for that file version, and the body comes back with `{ id: "med_…" }` in place of each Drive reference. A file is
 * moved by one worker at a time under a ledger lease, so rows sharing it wait for it instead of uploading it again;
 * the pending media id is recorded before any byte moves, so an upload cut off by a crash is confirmed (if its bytes
 * arrived) or started afresh by whoever takes it over.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { CreatePostBody, MediaRef, UpdatePostBody } from '../post-body';
import { DriveError } from '../drive/drive-errors';
import type { DriveFileMeta, DriveFiles } from '../drive/drive-client';
import type { DriveMetadataMemo } from '../drive/drive-metadata-memo';
import { PostatoError } from '../postato/postato-errors';
import type { DriveFileScope, RunLedger, RunRecord, RunRowRecord } from '../ledger/run-ledger';

/** The Postato calls media preparation makes (PostatoClient satisfies it). */
export interface MediaWriter {
  createUploadUrl(
    ws: string,
    file: { mimeType: string; filename?: string; sizeBytes?: number },
    o?: { retry?: { maxAttempts?: number } },
  ): Promise<{ mediaId: string; uploadUrl: string }>;
  confirmMedia(ws: string, mediaId: string, o?: { retry?: { maxAttempts?: number } }): Promise<{ id: string }>;
}

/** Streams bytes to an upload URL (postato/media-put.ts in production). */
export type PutBytes = (put: {
  uploadUrl: string;
  mimeType: string;
  sizeBytes: number;
  body: Readable;
  idleTimeoutMs: number;
}) => Promise<void>;

export interface DriveMediaDeps {
  ledger: Pick<RunLedger, 'driveMedia' | 'extendLease'>;
  clock: Clock;
  logger: Logger;
  /** A Drive client for the caller's access token. */
  driveFor(accessToken: string): DriveFiles;
  /** Each file's metadata read once per run (absent: read for every row). */
  metadataMemo?: DriveMetadataMemo;
  mediaClientFor(apiKey: string): MediaWriter;
  putBytes: PutBytes;
  /** DRIVE_MEDIA_MAX_BYTES: the largest file the service moves. */
  maxBytes: number;
  /** Lease of an upload, renewed while bytes move (DISPATCH_LEASE_MS). */
  leaseMs: number;
  /** DISPATCH_STALE_MS: a lease whose owner's heartbeat is this old is free. */
  staleMs: number;
  /** Idle timeout of the PUT (POSTATO_TIMEOUT_MS). */
  idleTimeoutMs: number;
}

/** What preparing a row's media came to. */
export type MediaOutcome<B> =
  | { kind: 'ready'; body: B }
  /** Another worker is uploading a file this row needs: try again at `retryAtMs` (not a failed attempt). */
  | { kind: 'wait'; retryAtMs: number }
  /** `retryable`: Drive or Postato may answer later (counts as an attempt); otherwise the user must act. */
  | { kind: 'failed'; message: string; retryable: boolean };

const ONE_TRY = { retry: { maxAttempts: 1 } };
const MEDIA_MIME = /^(image\/|video\/|application\/pdf$)/;

/** The Drive file ids a body names, in order, once each. */
export function driveFilesOf(body: Pick<CreatePostBody, 'content' | 'media'> | UpdatePostBody): string[] {
  const refs: MediaRef[] = [...(body.media ?? [])];
  if (Array.isArray(body.content)) for (const item of body.content) refs.push(...(item.media ?? []));
  return [...new Set(refs.map((r) => r.driveFileId).filter((id): id is string => !!id))];
}

/** A copy of the body with each Drive reference replaced by its Postato media id. */
function withMediaIds<B extends Pick<CreatePostBody, 'content' | 'media'> | UpdatePostBody>(
  body: B,
  ids: Map<string, string>,
): B {
  const swap = (refs?: MediaRef[]) =>
    refs?.map((r) => {
      if (!r.driveFileId) return r;
      const { driveFileId, ...rest } = r;
      return { ...rest, id: ids.get(driveFileId)! };
    });
  const out = { ...body };
  if (body.media) out.media = swap(body.media);
  if (Array.isArray(body.content))
    out.content = body.content.map((item) => (item.media ? { ...item, media: swap(item.media) } : item));
  return out;
}

type FileOutcome = { kind: 'ready'; mediaId: string } | Exclude<MediaOutcome<never>, { kind: 'ready' }>;

/** Creates the step; `prepare` resolves a body's Drive files, `lookup` only reads what the ledger already holds. */
export function createDriveMediaStep(deps: DriveMediaDeps) {
  const log = deps.logger.child({ component: 'drive-media' });

  function failure(err: unknown, label: string): FileOutcome {
    if (err instanceof DriveError) return { kind: 'failed', message: err.userMessage, retryable: err.retryable };
    if (err instanceof PostatoError && err.code === 'rate_limited')
      return { kind: 'wait', retryAtMs: deps.clock.now() + Math.max(err.retryAfterMs ?? 1000, 100) };
    const retryable = !(err instanceof PostatoError) || err.retryable || err.outcomeUnknown;
    const why = err instanceof PostatoError ? err.message.replace(/\s*\(\w+\)/, '') : 'an unexpected error';
    return {
      kind: 'failed',
      retryable,
      message: retryable
        ? `Uploading the Drive file ${label} to Postato failed for now (${why}).`
        : `Postato refused the Drive file ${label} (${why}). Replace the file in the Media cell, then publish again.`,
    };
  }

  function checkFile(meta: DriveFileMeta, label: string): FileOutcome | null {
    if (!MEDIA_MIME.test(meta.mimeType))
      return {
        kind: 'failed',
        retryable: false,
        message: `The Drive file ${label} is ${meta.mimeType}, not a picture, a video or a PDF: pick another file.`,
      };
    if (meta.sizeBytes <= 0)
      return { kind: 'failed', retryable: false, message: `The Drive file ${label} is empty: pick another file.` };
    if (meta.sizeBytes > deps.maxBytes)
      return {
        kind: 'failed',
        retryable: false,
        message: `The Drive file ${label} is ${mb(meta.sizeBytes)}; this service moves files of at most ${mb(deps.maxBytes)}. Upload it to Postato yourself and put its med_… id in the Media cell.`,
      };
    return null;
  }

  /** Uploads one claimed file version; the lease is given up on failure. */
  async function upload(
    row: RunRowRecord,
    run: RunRecord,
    drive: DriveFiles,
    postato: MediaWriter,
    scope: DriveFileScope,
    meta: DriveFileMeta,
    token: string,
    pendingMediaId: string | null,
  ): Promise<FileOutcome> {
    const label = `"${meta.name}"`;
    const owner = row.lease_owner ?? 'unleased';
    let forgetPending = false;
    const keepAlive = setInterval(
      () => {
        const until = deps.clock.now() + deps.leaseMs;
        void deps.ledger.driveMedia.extend(scope, token, until).catch(() => undefined);
        void deps.ledger.extendLease(row.id, owner, until).catch(() => undefined);
      },
      Math.max(100, Math.floor(deps.leaseMs / 3)),
    );
    try {
      if (pendingMediaId) {
        // A worker that died mid-upload left this id: if its bytes arrived, confirming it is all that is left.
        try {
          await postato.confirmMedia(run.workspace_id, pendingMediaId, ONE_TRY);
          await deps.ledger.driveMedia.markReady(scope, token, pendingMediaId);
          log.info({ runId: row.run_id, mediaId: pendingMediaId }, 'interrupted Drive upload confirmed');
          return { kind: 'ready', mediaId: pendingMediaId };
        } catch (err) {
          const definite = err instanceof PostatoError && !err.retryable && !err.outcomeUnknown;
          if (!definite) throw err;
          // Never uploaded, expired or deleted: start again with a new upload URL.
          await deps.ledger.driveMedia.notePending(scope, token, '');
        }
      }
      const target = await postato.createUploadUrl(
        run.workspace_id,
        { mimeType: meta.mimeType, filename: meta.name, sizeBytes: meta.sizeBytes },
        ONE_TRY,
      );
      await deps.ledger.driveMedia.notePending(scope, token, target.mediaId);
      const download = await drive.download(meta.id, label);
      try {
        await deps.putBytes({
          uploadUrl: target.uploadUrl,
          mimeType: meta.mimeType,
          sizeBytes: meta.sizeBytes,
          body: download.stream,
          idleTimeoutMs: deps.idleTimeoutMs,
        });
      } catch (err) {
        // A refused PUT leaves a media id that will never be confirmed; an unknown one is confirmed next time.
        forgetPending = err instanceof PostatoError && !err.retryable && !err.outcomeUnknown;
        throw err;
      }
      await postato.confirmMedia(run.workspace_id, target.mediaId, ONE_TRY);
      await deps.ledger.driveMedia.markReady(scope, token, target.mediaId);
      log.info(
        { runId: row.run_id, tenant: row.tenant_id, mediaId: target.mediaId, bytes: meta.sizeBytes },
        'Drive file uploaded',
      );
      return { kind: 'ready', mediaId: target.mediaId };
    } catch (err) {
      await deps.ledger.driveMedia.release(scope, token, { forgetPending });
      return failure(err, label);
    } finally {
      clearInterval(keepAlive);
    }
  }

  async function oneFile(
    row: RunRowRecord,
    run: RunRecord,
    drive: DriveFiles,
    postato: MediaWriter,
    fileId: string,
    upload_: boolean,
  ): Promise<FileOutcome> {
    let meta: DriveFileMeta;
    try {
      meta = await (deps.metadataMemo
        ? deps.metadataMemo.read({ runId: run.id, grant: run.drive_token_sealed ?? '' }, fileId, drive)
        : drive.metadata(fileId));
    } catch (err) {
      return failure(err, fileId);
    }
    const label = `"${meta.name}"`;
    const bad = checkFile(meta, label);
    if (bad) return bad;
    const scope: DriveFileScope = {
      tenantId: row.tenant_id,
      workspaceId: run.workspace_id,
      driveFileId: fileId,
      driveVersion: meta.version,
    };
    const ready = await deps.ledger.driveMedia.readyMedia(scope);
    if (ready) return { kind: 'ready', mediaId: ready };
    if (!upload_) return { kind: 'wait', retryAtMs: deps.clock.now() };
    const now = deps.clock.now();
    const token = randomBytes(12).toString('hex');
    const claim = await deps.ledger.driveMedia.claimUpload(
      scope,
      { owner: row.lease_owner ?? 'unleased', token, leaseMs: deps.leaseMs, staleBefore: now - deps.staleMs },
      { mimeType: meta.mimeType, sizeBytes: meta.sizeBytes },
    );
    if (claim.kind === 'ready') return { kind: 'ready', mediaId: claim.mediaId };
    if (claim.kind === 'busy') return { kind: 'wait', retryAtMs: Math.min(claim.leaseUntil, now + 250) };
    return upload(row, run, drive, postato, scope, meta, token, claim.pendingMediaId || null);
  }

  /**
   * Puts every Drive file of `body` into Postato (or finds it there) and returns the body with media ids. With
   * `uploadMissing: false` nothing is uploaded: a file not in the ledger yet makes the outcome `wait`.
   */
  async function prepare<B extends Pick<CreatePostBody, 'content' | 'media'> | UpdatePostBody>(
    row: RunRowRecord,
    run: RunRecord,
    body: B,
    access: { driveToken: string; apiKey: string },
    o: { uploadMissing?: boolean } = {},
  ): Promise<MediaOutcome<B>> {
    const files = driveFilesOf(body);
    if (files.length === 0) return { kind: 'ready', body };
    const drive = deps.driveFor(access.driveToken);
    const postato = deps.mediaClientFor(access.apiKey);
    const ids = new Map<string, string>();
    // One file after the other: a row's files are few, and a shared file's lease must not be held while waiting.
    for (const fileId of files) {
      const outcome = await oneFile(row, run, drive, postato, fileId, o.uploadMissing ?? true);
      if (outcome.kind !== 'ready') return outcome;
      ids.set(fileId, outcome.mediaId);
    }
    return { kind: 'ready', body: withMediaIds(body, ids) };
  }

  return { prepare };
}

/** The step's public shape. */
export type DriveMediaStep = ReturnType<typeof createDriveMediaStep>;

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
