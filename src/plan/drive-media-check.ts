/**
 * The dry run's check of a row's Google Drive files against what Drive reports about them (MIME type, size, video
 * length): files the caller cannot read are named with what to do, and each file is held to the platform's rules and
 * to the largest file the service moves. Pure: the metadata is read before planning (runs/dry-run-service.ts).
 */
import type { RowMessage } from '../../appsscript/shared/contract';
import type { DriveFileInfo } from './dry-run-ports';
import { checkMediaFile, kindOfMime } from './media-file-rules';
import { checkMedia, PLATFORM_RULES, type MediaKind } from './platform-rules';
import { mediaFileMessages } from './plan-messages';
import type { ValidatedRow } from './row-validator';

/** What the planner knows about Drive files: their metadata by id, or null when the request carried no Drive access. */
export interface DriveKnowledge {
  files: Map<string, DriveFileInfo> | null;
  maxBytes: number;
}

const mediaError = (message: string): RowMessage => ({ level: 'error', column: 'Media', message: `Media: ${message}` });

/** Messages about the Drive files of one validated row (none when it names no Drive file). */
export function checkDriveMedia(v: ValidatedRow, drive: DriveKnowledge): RowMessage[] {
  const ids = v.media.map((m) => m.driveFileId);
  if (!ids.some(Boolean)) return [];
  if (!drive.files) return [mediaError(mediaFileMessages.noDriveAccess)];
  if (!v.platform || !v.postType) return [];
  const rule = PLATFORM_RULES[v.platform];
  const out: RowMessage[] = [];
  const kinds: MediaKind[] = [...v.mediaKinds];
  ids.forEach((id, i) => {
    if (!id) return;
    const info = drive.files!.get(id);
    if (!info) return;
    if (!info.ok) {
      out.push(mediaError(info.problem));
      return;
    }
    const label = `"${info.name}"`;
    kinds[i] = kindOfMime(info.mimeType);
    for (const p of checkMediaFile(v.platform!, rule.label, v.postType!, { ...info, label }, drive.maxBytes))
      out.push(mediaError(p));
  });
  // The count rules ran on "unknown" kinds; with the real ones (a TikTok video that is a picture) they say more.
  const before = new Set(checkMedia(v.platform, v.postType, v.mediaKinds));
  for (const p of checkMedia(v.platform, v.postType, kinds)) if (!before.has(p)) out.push(mediaError(p));
  return out;
}
