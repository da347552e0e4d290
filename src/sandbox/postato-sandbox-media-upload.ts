/**
 * The presigned-upload target of the Postato sandbox, served on its own loopback port as Postato's storage host would
 * be: `PUT /uploads/{mediaId}?token=…` takes the raw bytes (Content-Type must equal the declared mimeType, size must
 * match when declared), and `GET /files/{mediaId}` serves an uploaded file back. Every PUT is recorded.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock';
import { mediaFaultHits, refreshMediaStatus } from './postato-sandbox-media';
import { sendError } from './postato-sandbox-http';
import type { SandboxSettings } from './postato-sandbox-settings';
import type { SandboxStore, StoredMedia } from './postato-sandbox-store';

/** What the upload target needs from the sandbox. */
export interface MediaUploadDeps {
  settings(): SandboxSettings;
  clock: Clock;
  store: SandboxStore;
  draw(): number;
  wait(ms: number): Promise<void>;
}

/** Reads the body up to `cap` bytes; resolves null when it is larger (the rest is discarded). */
function readBytes(req: IncomingMessage, cap: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sameToken(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Handles one request on the upload port. */
export async function handleMediaUpload(
  deps: MediaUploadDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const match = /^\/(uploads|files)\/([^/]+)$/.exec(url.pathname);
  if (!match) {
    req.resume();
    return sendError(res, 404, 'not_found', `No route ${req.method} ${url.pathname} on the upload host.`);
  }
  const mediaId = decodeURIComponent(match[2] as string);
  const stored = deps.store.media.get(mediaId);
  if (match[1] === 'files') {
    req.resume();
    if (req.method !== 'GET') return sendError(res, 405, 'method_not_allowed', 'Use GET.', {}, { Allow: 'GET' });
    if (!stored || stored.media.status !== 'uploaded' || !stored.bytes) {
      return sendError(res, 404, 'not_found', `No uploaded file ${mediaId}.`);
    }
    res.writeHead(200, { 'Content-Type': stored.media.mimeType, 'Content-Length': stored.bytes.length });
    res.end(stored.bytes);
    return;
  }
  if (req.method !== 'PUT') {
    req.resume();
    return sendError(res, 405, 'method_not_allowed', 'Upload with PUT and the raw bytes.', {}, { Allow: 'PUT' });
  }
  await putUpload(deps, req, res, url, mediaId, stored);
}

async function putUpload(
  deps: MediaUploadDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  mediaId: string,
  stored: StoredMedia | undefined,
): Promise<void> {
  const s = deps.settings();
  const max = s.media.maxSizeBytes;
  const body = await readBytes(req, max);
  if (s.faults.mediaPutLatencyMs > 0) await deps.wait(s.faults.mediaPutLatencyMs);
  const now = deps.clock.now();
  const answer = (
    status: number,
    error: string,
    message: string,
    extra: { sizeBytes?: number; sha256?: string } = {},
  ) => {
    if (stored) {
      deps.store.mediaEvents.push({
        at: now,
        kind: 'put',
        tenantId: stored.tenantId,
        workspaceId: stored.workspaceId,
        mediaId,
        status,
        ...(error ? { error } : {}),
        ...extra,
      });
    }
    if (status === 200) {
      res.writeHead(200, { ETag: `"${stored?.md5 ?? ''}"`, 'Content-Length': 0 });
      res.end();
      return;
    }
    sendError(res, status, error, message);
  };
  if (!stored || !sameToken(stored.uploadToken, url.searchParams.get('token'))) {
    return answer(403, 'invalid_signature', 'This upload URL is not valid; request a new one from Postato.');
  }
  const m = refreshMediaStatus(stored, now);
  const expired = s.faults.mediaUploadUrlsExpired || now > Date.parse(m.expiresAt);
  if (m.status === 'expired') return answer(404, 'media_deleted', `Media ${mediaId} was deleted.`);
  if (m.status === 'uploaded') {
    return answer(409, 'already_confirmed', `Media ${mediaId} is already confirmed; request a new upload URL.`);
  }
  if (expired) {
    if (stored.bytes === null) m.status = 'failed';
    return answer(
      403,
      'upload_url_expired',
      `The upload URL of ${mediaId} expired at ${m.expiresAt}; request a new one.`,
    );
  }
  if (mediaFaultHits(s.faults, 'mediaPutFailNext', s.faults.mediaPutFailShare, deps.draw)) {
    return answer(503, 'simulated_failure', 'The storage host is temporarily unavailable (simulated); retry the PUT.');
  }
  const contentType = (req.headers['content-type'] ?? '').trim().toLowerCase();
  if (contentType !== m.mimeType) {
    return answer(
      400,
      'content_type_mismatch',
      `Content-Type is "${contentType}" but the upload URL was made for "${m.mimeType}"; send exactly that type.`,
    );
  }
  if (body === null) {
    return answer(413, 'too_large', `The file is larger than ${max} bytes, the largest this workspace accepts.`);
  }
  if (body.length === 0) return answer(400, 'empty_body', 'The PUT carried no bytes; send the file as the raw body.');
  if (m.sizeBytes !== null && body.length !== m.sizeBytes) {
    return answer(
      400,
      'size_mismatch',
      `The PUT carried ${body.length} bytes but ${m.sizeBytes} were declared; upload the whole file.`,
    );
  }
  stored.bytes = body;
  stored.sha256 = createHash('sha256').update(body).digest('hex');
  stored.md5 = createHash('md5').update(body).digest('hex');
  m.sizeBytes = body.length;
  answer(200, '', '', { sizeBytes: body.length, sha256: stored.sha256 });
}
