/**
 * Media endpoints of the Postato sandbox (postato-api.md §3.7, §9): upload URL, confirm, list, get and delete under
 * /v1/workspaces/{ws}/media, and the check of `{id}` media references when a post is created or edited. The PUT
 * target itself is served on the sandbox's second port (postato-sandbox-media-upload.ts).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { issuesToFieldDetails, invalid, notFound, parseBody, type Call } from './postato-sandbox-call';
import { sendError, sendJson } from './postato-sandbox-http';
import type { SandboxMedia, SandboxStore, StoredMedia } from './postato-sandbox-store';
import type { PlatformRuleError, SandboxContentItem } from './postato-sandbox-validation';

const MIME_PATTERN = /^(image\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+|application\/pdf)$/;

/** The media type Postato derives from a MIME type. */
export function mediaTypeOf(mimeType: string): SandboxMedia['type'] {
  if (mimeType.startsWith('image/')) return 'image';
  if (mimeType.startsWith('video/')) return 'video';
  return 'document';
}

/** An upload URL that passed its validity without bytes is `failed` (checked lazily, on the sandbox clock). */
export function refreshMediaStatus(stored: StoredMedia, now: number): SandboxMedia {
  const m = stored.media;
  if (m.status === 'pending' && stored.bytes === null && now > Date.parse(m.expiresAt)) m.status = 'failed';
  return m;
}

/** Draws "fail the next N, then a share of the rest" for one media fault. */
export function mediaFaultHits(
  faults: Record<string, unknown>,
  nextKey: 'mediaPutFailNext' | 'mediaConfirmFailNext',
  share: number,
  draw: () => number,
): boolean {
  const next = faults[nextKey] as number;
  if (next > 0) {
    faults[nextKey] = next - 1;
    return true;
  }
  return share > 0 && draw() < share;
}

function record(
  call: Call,
  stored: StoredMedia,
  kind: 'upload_url' | 'confirm' | 'delete',
  status: number,
  error?: string,
) {
  call.ctx.store.mediaEvents.push({
    at: call.ctx.clock.now(),
    kind,
    tenantId: call.caller.tenantId,
    workspaceId: call.workspaceId,
    mediaId: stored.media.id,
    status,
    ...(error ? { error } : {}),
  });
}

const uploadUrlSchema = z.object({
  mimeType: z
    .string({ error: 'is required, e.g. "image/jpeg"' })
    .transform((s) => s.trim().toLowerCase())
    .refine((s) => MIME_PATTERN.test(s), 'must be an image/*, video/* or application/pdf MIME type'),
  filename: z.string().min(1).max(255).optional(),
  sizeBytes: z.number().int().min(1, 'must be at least 1 byte').optional(),
});

/** POST /media/upload-url `{mimeType, filename?, sizeBytes?}` → 201 `{mediaId, uploadUrl, expiresAt}`. */
export function createUploadUrl(call: Call): void {
  const { ctx } = call;
  const parsed = parseBody(call);
  if (!parsed.ok) return;
  const checked = uploadUrlSchema.safeParse(parsed.value ?? {});
  if (!checked.success) return invalid(call, issuesToFieldDetails(checked.error.issues));
  const { mimeType, filename, sizeBytes } = checked.data;
  const max = ctx.settings().media.maxSizeBytes;
  if (sizeBytes !== undefined && sizeBytes > max) {
    return invalid(call, {
      sizeBytes: [`is ${sizeBytes} bytes; the largest file this workspace accepts is ${max} bytes`],
    });
  }
  const now = ctx.clock.now();
  const id = ctx.newId('med');
  const token = randomBytes(24).toString('hex');
  const expiresAt = new Date(now + ctx.settings().media.uploadUrlTtlMs).toISOString();
  const stored = ctx.store.addMedia({
    media: {
      id,
      type: mediaTypeOf(mimeType),
      mimeType,
      filename: filename ?? null,
      sizeBytes: sizeBytes ?? null,
      status: 'pending',
      url: null,
      createdAt: new Date(now).toISOString(),
      expiresAt,
      uploadedAt: null,
    },
    tenantId: call.caller.tenantId,
    workspaceId: call.workspaceId,
    uploadToken: token,
    bytes: null,
    sha256: null,
    md5: null,
    usedInPublishedPost: false,
  });
  record(call, stored, 'upload_url', 201);
  const uploadUrl = `${ctx.uploadBaseUrl()}/uploads/${encodeURIComponent(id)}?token=${token}`;
  sendJson(call.res, 201, { mediaId: id, uploadUrl, expiresAt }, call.headers);
}

/** POST /media/{id}/confirm: pending (bytes received) → uploaded; confirming again answers the same media. */
export function confirmMedia(call: Call, mediaId: string): void {
  const { ctx } = call;
  const stored = ctx.store.findMedia(call.caller.tenantId, call.workspaceId, mediaId);
  if (!stored) return notFound(call, `Media ${mediaId}`);
  const faults = ctx.settings().faults;
  if (mediaFaultHits(faults, 'mediaConfirmFailNext', faults.mediaConfirmFailShare, () => ctx.random().next())) {
    record(call, stored, 'confirm', 503, 'simulated_failure');
    return sendError(
      call.res,
      503,
      'service_unavailable',
      'Postato could not confirm the upload right now (simulated); retry the confirm.',
      {},
      call.headers,
    );
  }
  const now = ctx.clock.now();
  const m = refreshMediaStatus(stored, now);
  const conflict = (error: string, message: string) => {
    record(call, stored, 'confirm', 409, error);
    sendError(call.res, 409, error, message, {}, call.headers);
  };
  if (m.status === 'expired') return conflict('media_deleted', `Media ${mediaId} was deleted; upload the file again.`);
  if (m.status === 'failed') {
    return conflict(
      'upload_expired',
      `The upload URL of media ${mediaId} expired before the file arrived; request a new upload URL.`,
    );
  }
  if (m.status === 'pending') {
    if (stored.bytes === null) {
      return conflict('upload_incomplete', `Media ${mediaId} has no file yet; PUT the bytes to its uploadUrl first.`);
    }
    markUploaded(stored, now, ctx.uploadBaseUrl());
  }
  record(call, stored, 'confirm', 200);
  sendJson(call.res, 200, m, call.headers);
}

/** pending → uploaded, with the URL the sandbox serves the bytes at. */
export function markUploaded(stored: StoredMedia, now: number, uploadBase: string): void {
  stored.media.status = 'uploaded';
  stored.media.uploadedAt = new Date(now).toISOString();
  stored.media.url = `${uploadBase}/files/${encodeURIComponent(stored.media.id)}`;
}

const listQuerySchema = z.object({
  status: z.enum(['pending', 'uploaded', 'ready', 'failed', 'expired']).optional(),
  type: z.enum(['image', 'video', 'document']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** GET /media?status=&type=&limit=&offset=: newest first; deleted media only when `status=expired` is asked for. */
export function listMedia(call: Call): void {
  const parsed = listQuerySchema.safeParse(Object.fromEntries(call.query));
  if (!parsed.success) {
    return invalid(call, issuesToFieldDetails(parsed.error.issues, '_query'), 'The query parameters are invalid.');
  }
  const q = parsed.data;
  const status = q.status === 'ready' ? 'uploaded' : q.status;
  const now = call.ctx.clock.now();
  const all = call.ctx.store
    .mediaOf(call.caller.tenantId, call.workspaceId)
    .map((s) => refreshMediaStatus(s, now))
    .filter((m) => (status ? m.status === status : m.status !== 'expired'))
    .filter((m) => !q.type || m.type === q.type);
  sendJson(
    call.res,
    200,
    { items: all.slice(q.offset, q.offset + q.limit), limit: q.limit, offset: q.offset, total: all.length },
    call.headers,
  );
}

/** GET /media/{id}. */
export function getMedia(call: Call, mediaId: string): void {
  const stored = call.ctx.store.findMedia(call.caller.tenantId, call.workspaceId, mediaId);
  if (!stored) return notFound(call, `Media ${mediaId}`);
  sendJson(call.res, 200, refreshMediaStatus(stored, call.ctx.clock.now()), call.headers);
}

/** DELETE /media/{id}: soft delete (status `expired`, bytes gone); refused once a published post used it. */
export function deleteMedia(call: Call, mediaId: string): void {
  const stored = call.ctx.store.findMedia(call.caller.tenantId, call.workspaceId, mediaId);
  if (!stored || stored.media.status === 'expired') return notFound(call, `Media ${mediaId}`);
  if (stored.usedInPublishedPost) {
    record(call, stored, 'delete', 409, 'media_in_use');
    return sendError(
      call.res,
      409,
      'media_in_use',
      `Media ${mediaId} is attached to a published post and cannot be deleted.`,
      {},
      call.headers,
    );
  }
  stored.media.status = 'expired';
  stored.media.url = null;
  stored.bytes = null;
  record(call, stored, 'delete', 200);
  sendJson(call.res, 200, { success: true }, call.headers);
}

/**
 * Checks every `{id}` media reference of a post: unknown or deleted media is `media_not_found`, media without a
 * confirmed upload is `media_not_ready` (unless `media.confirmOnUse` and its bytes arrived). Returns the errors, the
 * media to confirm when the post is stored, and the content with each reference's `type` filled in for the rules.
 */
export function checkMediaRefs(
  call: Call,
  platform: string,
  content: SandboxContentItem[],
): { errors: PlatformRuleError[]; toConfirm: StoredMedia[]; typed: SandboxContentItem[] } {
  const { ctx } = call;
  const errors: PlatformRuleError[] = [];
  const toConfirm: StoredMedia[] = [];
  const now = ctx.clock.now();
  const { confirmOnUse, unknownRefs } = ctx.settings().media;
  const typed = content.map((item, i) => {
    if (!item.media) return item;
    const media = item.media.map((ref, j) => {
      if (!ref.id) return ref;
      const field = `content[${i}].media[${j}].id`;
      const stored = ctx.store.findMedia(call.caller.tenantId, call.workspaceId, ref.id);
      const m = stored ? refreshMediaStatus(stored, now) : undefined;
      const add = (code: string, message: string) => errors.push({ field, code, platform, message });
      if (!stored && unknownRefs === 'accept' && !ctx.store.media.has(ref.id)) return ref;
      if (!stored || !m || m.status === 'expired') {
        add('media_not_found', `media ${ref.id} does not exist in workspace ${call.workspaceId}; upload it first`);
      } else if (m.status === 'failed') {
        add('media_not_ready', `media ${ref.id} never arrived before its upload URL expired; upload it again`);
      } else if (m.status === 'pending') {
        if (confirmOnUse && stored.bytes !== null) toConfirm.push(stored);
        else add('media_not_ready', `media ${ref.id} is not confirmed; PUT the file to its uploadUrl, then confirm it`);
      }
      return m && ref.type === undefined ? { ...ref, type: m.type } : ref;
    });
    return { ...item, media };
  });
  return { errors, toConfirm, typed };
}

/** Confirms media a post used while `confirmOnUse` is on. */
export function confirmOnUse(call: Call, media: StoredMedia[]): void {
  for (const stored of media) markUploaded(stored, call.ctx.clock.now(), call.ctx.uploadBaseUrl());
}

/** The first `{id}` media of a post that no longer exists (deleted before delivery), or null. */
export function missingMediaOf(
  store: SandboxStore,
  tenantId: string,
  workspaceId: string,
  content: SandboxContentItem[],
  unknownRefs: 'reject' | 'accept',
): string | null {
  for (const item of content) {
    for (const ref of item.media ?? []) {
      if (!ref.id) continue;
      if (unknownRefs === 'accept' && !store.media.has(ref.id)) continue;
      const stored = store.findMedia(tenantId, workspaceId, ref.id);
      if (!stored || stored.media.status === 'expired') return ref.id;
    }
  }
  return null;
}

/** Marks a published post's media as in use, so it can no longer be deleted. */
export function markMediaPublished(
  store: SandboxStore,
  tenantId: string,
  workspaceId: string,
  content: SandboxContentItem[],
): void {
  for (const item of content) {
    for (const ref of item.media ?? []) {
      const stored = ref.id ? store.findMedia(tenantId, workspaceId, ref.id) : undefined;
      if (stored) stored.usedInPublishedPost = true;
    }
  }
}
