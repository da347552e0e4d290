/**
 * Rules for one media file whose metadata is known (a Drive file): which MIME types and sizes each platform takes
 * (postato-api.md §10) and, for videos, how long. Pure; the dry run runs it on what Drive reports, so a wrong file
 * is found before anything is sent.
 */
import type { Platform } from '../post-body';
import type { MediaKind } from './platform-rules';
import { mediaFileMessages as M } from './plan-messages';

/** A file as its metadata describes it. */
export interface MediaFile {
  label: string;
  mimeType: string;
  sizeBytes: number;
  durationMs?: number;
}

const MB = 1024 * 1024;
const GB = 1024 * MB;

interface KindRule {
  types: readonly string[];
  maxBytes: number;
  maxDurationMs?: number;
  minDurationMs?: number;
}

const X_IMAGE: KindRule = { types: ['image/jpeg', 'image/png', 'image/webp', 'image/gif'], maxBytes: 5 * MB };
const X_VIDEO: KindRule = { types: ['video/mp4', 'video/quicktime'], maxBytes: 500 * MB, maxDurationMs: 140_000 };
const IG_IMAGE: KindRule = { types: ['image/jpeg', 'image/png', 'image/heic', 'image/heif'], maxBytes: 30 * MB };
const IG_FEED_VIDEO: KindRule = {
  types: ['video/mp4', 'video/quicktime'],
  maxBytes: 100 * MB,
  minDurationMs: 3_000,
  maxDurationMs: 60_000,
};
const IG_REEL: KindRule = { types: ['video/mp4', 'video/quicktime'], maxBytes: GB, maxDurationMs: 90_000 };
const LI_IMAGE: KindRule = { types: ['image/jpeg', 'image/png'], maxBytes: 5 * MB };
const LI_VIDEO: KindRule = { types: ['video/mp4'], maxBytes: 200 * MB, maxDurationMs: 600_000 };
const LI_PDF: KindRule = { types: ['application/pdf'], maxBytes: 100 * MB };
const TT_VIDEO: KindRule = {
  types: ['video/mp4', 'video/quicktime', 'video/mpeg'],
  maxBytes: 4 * GB,
  maxDurationMs: 600_000,
};
const TT_IMAGE: KindRule = { types: ['image/jpeg', 'image/png', 'image/webp'], maxBytes: 20 * MB };
const YT_VIDEO: KindRule = { types: ['video/'], maxBytes: 256 * GB, maxDurationMs: 12 * 3_600_000 };
const YT_SHORT: KindRule = { types: ['video/'], maxBytes: 256 * GB, maxDurationMs: 60_000 };

/** What a MIME type is to the rules. */
export function kindOfMime(mimeType: string): MediaKind {
  if (mimeType === 'image/gif') return 'gif';
  if (mimeType.startsWith('image/')) return 'image';
  if (mimeType.startsWith('video/')) return 'video';
  if (mimeType === 'application/pdf') return 'document';
  return 'unknown';
}

function ruleFor(platform: Platform, postType: string, kind: MediaKind): KindRule | null {
  const image = kind === 'image' || kind === 'gif';
  switch (platform) {
    case 'twitter':
      return image ? X_IMAGE : kind === 'video' ? X_VIDEO : null;
    case 'instagram':
      return image ? IG_IMAGE : kind === 'video' ? (postType === 'reel' ? IG_REEL : IG_FEED_VIDEO) : null;
    case 'linkedin':
      return kind === 'document' ? LI_PDF : image ? LI_IMAGE : kind === 'video' ? LI_VIDEO : null;
    case 'tiktok':
      return kind === 'video' ? TT_VIDEO : image ? TT_IMAGE : null;
    case 'youtube':
      return kind === 'video' ? (postType === 'short' ? YT_SHORT : YT_VIDEO) : null;
  }
}

/** Problems of one file for a post of `platform`/`postType`, as sentences; `maxBytes` is what the service moves. */
export function checkMediaFile(
  platform: Platform,
  label: string,
  postType: string,
  file: MediaFile,
  maxBytes: number,
): string[] {
  const kind = kindOfMime(file.mimeType);
  if (kind === 'unknown') return [M.notMedia(file.label, file.mimeType)];
  const problems: string[] = [];
  if (file.sizeBytes > maxBytes) problems.push(M.overServiceLimit(file.label, file.sizeBytes, maxBytes));
  const rule = ruleFor(platform, postType, kind);
  if (!rule) return problems; // the count rules (checkMedia) say what this platform and post type take instead
  if (!rule.types.some((t) => (t.endsWith('/') ? file.mimeType.startsWith(t) : file.mimeType === t)))
    problems.push(M.wrongType(file.label, file.mimeType, label, postType, rule.types));
  if (file.sizeBytes > rule.maxBytes)
    problems.push(M.tooLarge(file.label, file.sizeBytes, label, postType, rule.maxBytes));
  if (file.durationMs !== undefined) {
    if (rule.maxDurationMs !== undefined && file.durationMs > rule.maxDurationMs)
      problems.push(M.tooLong(file.label, file.durationMs, label, postType, rule.maxDurationMs));
    if (rule.minDurationMs !== undefined && file.durationMs < rule.minDurationMs)
      problems.push(M.tooShort(file.label, file.durationMs, label, postType, rule.minDurationMs));
  }
  return problems;
}
