/**
 * Reads the Media cell: https URLs, Postato media ids or Google Drive files (a share link, or `drive:<file id>` as the
 * add-on's Picker writes it), separated by commas or new lines. Refuses anything Postato could not fetch or that would
 * point it at a private network. A Drive file becomes a `{ driveFileId }` reference: the publish step uploads it.
 */
import { isIP } from 'node:net';
import type { MediaRef } from '../post-body';
import type { MediaKind } from './platform-rules';
import { mediaEntryMessages } from './plan-messages';

/** One parsed media entry, or the reason it was refused. */
export type MediaEntry = { ok: true; ref: MediaRef; kind: MediaKind } | { ok: false; problem: string };

const MEDIA_ID = /^med_[A-Za-z0-9]+$/;
const VIDEO_EXT = /\.(mp4|mov|m4v|mpeg|mpg|webm)$/i;
const IMAGE_EXT = /\.(jpe?g|png|webp|heic)$/i;

/** Splits a Media cell into its entries. */
export function splitMedia(cell: string): string[] {
  // Most cells hold one entry; a regex split costs far more than this scan.
  if (!/[,\n\r]/.test(cell)) {
    const one = cell.trim();
    return one ? [one] : [];
  }
  return cell
    .split(/[,\n\r]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function ipv4Private(ip: string): boolean {
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    a >= 224
  );
}

/** True for loopback, private, link-local, CGNAT and other non-public hosts (names and literal IPs). */
export function isNonPublicHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal'))
    return true;
  const family = isIP(host);
  if (family === 4) return ipv4Private(host);
  if (family === 6) {
    if (host === '::' || host === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped?.[1]) return ipv4Private(mapped[1]);
    if (host.startsWith('::ffff:')) return true; // hex-written mapped IPv4: refuse rather than decode
    return /^f[cd]/.test(host) || /^fe[89ab]/.test(host);
  }
  return !host.includes('.');
}

/** True for Google Drive / Docs / Photos links, which open a viewer page rather than the file. */
export function isDriveShareLink(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return (
    host === 'drive.google.com' ||
    host === 'docs.google.com' ||
    host === 'drive.usercontent.google.com' ||
    host === 'photos.app.goo.gl' ||
    host === 'photos.google.com'
  );
}

const DRIVE_ID = /^[A-Za-z0-9_-]{10,200}$/;
/** The form the add-on writes and users may type: `drive:<file id>`. */
const DRIVE_PREFIX = /^drive:\s*(.*)$/i;

/** What a Google link names: a Drive file id, or why it cannot be used. */
type GoogleLink = { fileId: string } | { problem: 'photos' | 'no-file' | 'editor-file' };

/** Reads a Drive file id out of the link forms Drive hands out (Share › Copy link, open?id=, uc?id=, download). */
export function driveFileIdOf(url: URL): GoogleLink {
  const host = url.hostname.toLowerCase();
  if (host === 'photos.google.com' || host === 'photos.app.goo.gl') return { problem: 'photos' };
  if (host === 'docs.google.com' && /^\/(document|spreadsheets|presentation|forms|drawings)\//.test(url.pathname))
    return { problem: 'editor-file' };
  const inPath = /^\/file\/d\/([^/]+)/.exec(url.pathname)?.[1];
  const id = inPath ?? url.searchParams.get('id') ?? '';
  return DRIVE_ID.test(id) ? { fileId: id } : { problem: 'no-file' };
}

/** Guesses what a URL points at from its extension. */
export function mediaKindOf(url: URL): MediaKind {
  const path = url.pathname;
  if (VIDEO_EXT.test(path)) return 'video';
  if (/\.gif$/i.test(path)) return 'gif';
  if (/\.pdf$/i.test(path)) return 'document';
  if (IMAGE_EXT.test(path)) return 'image';
  return 'image';
}

const parsedEntries = new Map<string, MediaEntry>();
const ENTRY_CACHE_LIMIT = 10_000;

/** Parses one Media entry. Campaign sheets repeat the same URLs, so results are remembered (URL parsing is costly). */
export function parseMediaEntry(entry: string): MediaEntry {
  let parsed = parsedEntries.get(entry);
  if (!parsed) {
    if (parsedEntries.size >= ENTRY_CACHE_LIMIT) parsedEntries.clear();
    parsedEntries.set(entry, (parsed = parseMediaEntryUncached(entry)));
  }
  // A fresh ref per row: bodies are handed to other code, which must not see another row's object.
  return parsed.ok ? { ok: true, ref: { ...parsed.ref }, kind: parsed.kind } : parsed;
}

function parseMediaEntryUncached(entry: string): MediaEntry {
  if (MEDIA_ID.test(entry)) return { ok: true, ref: { id: entry }, kind: 'unknown' };
  const prefixed = DRIVE_PREFIX.exec(entry)?.[1];
  if (prefixed !== undefined) {
    if (!DRIVE_ID.test(prefixed)) return { ok: false, problem: mediaEntryMessages.notUrlOrId(short(entry)) };
    return { ok: true, ref: { driveFileId: prefixed }, kind: 'unknown' };
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return { ok: false, problem: mediaEntryMessages.notUrlOrId(short(entry)) };
  }
  if (url.protocol !== 'https:') return { ok: false, problem: mediaEntryMessages.notHttps(short(entry)) };
  if (url.username || url.password) return { ok: false, problem: mediaEntryMessages.credentials(short(entry)) };
  if (isNonPublicHost(url.hostname)) {
    return { ok: false, problem: mediaEntryMessages.nonPublicHost(short(entry)) };
  }
  if (isDriveShareLink(url)) {
    const link = driveFileIdOf(url);
    if ('fileId' in link) return { ok: true, ref: { driveFileId: link.fileId }, kind: 'unknown' };
    const why =
      link.problem === 'photos'
        ? mediaEntryMessages.photosShareLink
        : link.problem === 'editor-file'
          ? mediaEntryMessages.googleEditorFile
          : mediaEntryMessages.driveLinkWithoutFile;
    return { ok: false, problem: why(short(entry)) };
  }
  const kind = mediaKindOf(url);
  const type = kind === 'video' ? 'video' : kind === 'document' ? 'document' : 'image';
  return { ok: true, ref: { url: url.toString(), type }, kind };
}

function short(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}
