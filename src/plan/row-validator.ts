/**
 * Validates one sheet row on its own (no other rows, no Postato): required fields, platform and post type, text
 * limits, media, time zone, Scheduled at and Options. Every problem is one message naming its column and the fix.
 */
import { z } from 'zod';
import type { CellValue, RowMessage } from '../../appsscript/shared/contract';
import type { MediaRef, Platform } from '../post-body';
import { cellRaw, cellText, type ColumnMap, type ColumnName, withoutAt } from './sheet-contract';
import {
  checkMedia,
  defaultPostType,
  overTextLimit,
  MAX_THREAD_PARTS,
  type MediaKind,
  parsePlatform,
  PLATFORM_RULES,
  textLength,
  YOUTUBE_TITLE_LIMIT,
} from './platform-rules';
import { parseMediaEntry, splitMedia } from './media-refs';
import { isValidZone, parseScheduledAt, type ParsedTime } from './cell-time-parser';

/** A row after validation, with everything the planner needs. */
export interface ValidatedRow {
  rowNumber: number;
  key: string | null;
  messages: RowMessage[];
  /** True when the row's input cells are all blank (such rows are skipped). */
  blank: boolean;
  platform?: Platform;
  /** The Account cell as written (an id or a @username). */
  account: string;
  postType?: string;
  /** Content split into thread parts (one part for a single post). */
  parts: string[];
  media: MediaRef[];
  mediaKinds: MediaKind[];
  options?: Record<string, unknown>;
  zone: string;
  time: ParsedTime;
  postId?: string;
  sheetStatus?: string;
  /** The Scheduled (UTC) cell, when it holds a readable instant. */
  scheduledUtcMs?: number;
}

/** A line holding only `---` separates the parts of a thread. */
export const THREAD_SEPARATOR = /\r?\n[ \t]*---[ \t]*(?:\r?\n|$)/;

const optionsSchema = z.record(z.string(), z.unknown(), {
  error: 'must be a JSON object such as {"privacy":"public"}.',
});

/** zod schema of the cells every row needs; issues carry the column as their path. */
const requiredCells = z.object({
  Platform: z
    .string()
    .min(1, 'is empty: write instagram, x, linkedin, tiktok or youtube.')
    .refine((v) => parsePlatform(v) !== null, {
      error: (iss) =>
        `"${String(iss.input)}" is not a platform we publish to: use instagram, x (twitter), linkedin, tiktok or youtube.`,
    }),
  Account: z.string().min(1, "is empty: write the Postato account id (acc_…) or the account's @username."),
});

const INPUT_COLUMNS_FOR_BLANK: ColumnName[] = [
  'Platform',
  'Account',
  'Post type',
  'Content',
  'Media',
  'Scheduled at',
  'Title',
  'Options',
];

function err(column: string, message: string): RowMessage {
  return { level: 'error', column, message: `${column}: ${message}` };
}

/** Validates one row in isolation. `defaultZone` is the settings' or the spreadsheet's zone. */
export function validateRow(rowNumber: number, values: CellValue[], map: ColumnMap, defaultZone: string): ValidatedRow {
  const messages: RowMessage[] = [];
  const keyText = cellText(values, map, 'Key');
  const row: ValidatedRow = {
    rowNumber,
    key: keyText === '' ? null : keyText,
    messages,
    blank: INPUT_COLUMNS_FOR_BLANK.every((c) => cellText(values, map, c) === ''),
    account: withoutAt(cellText(values, map, 'Account')),
    parts: [],
    media: [],
    mediaKinds: [],
    zone: defaultZone,
    time: { kind: 'blank' },
  };
  const postId = cellText(values, map, 'Post ID');
  if (postId) row.postId = postId;
  const status = cellText(values, map, 'Status');
  if (status) row.sheetStatus = status.toUpperCase();
  const utcCell = cellText(values, map, 'Scheduled (UTC)');
  if (utcCell) {
    const ms = Date.parse(utcCell);
    if (Number.isFinite(ms)) row.scheduledUtcMs = ms;
  }
  if (row.blank) return row;

  if (row.key === null) {
    messages.push(
      err(
        'Key',
        'is empty: this row needs a key before it can be published. Run Dry run from the add-on (it fills missing keys) or type a value used by no other row.',
      ),
    );
  }

  const required = requiredCells.safeParse({ Platform: cellText(values, map, 'Platform'), Account: row.account });
  if (!required.success) {
    for (const issue of required.error.issues) messages.push(err(String(issue.path[0]), issue.message));
  }
  const platform = parsePlatform(cellText(values, map, 'Platform'));
  if (platform) row.platform = platform;

  // Time zone first: Scheduled at is read in it.
  const zoneText = cellText(values, map, 'Time zone');
  if (zoneText) {
    if (isValidZone(zoneText)) row.zone = zoneText;
    else
      messages.push(
        err(
          'Time zone',
          `"${zoneText}" is not an IANA time zone: write e.g. America/New_York, Europe/London or Asia/Kathmandu, or leave it blank to use the sheet's zone.`,
        ),
      );
  }
  row.time = parseScheduledAt(cellRaw(values, map, 'Scheduled at'), row.zone);
  if (row.time.kind === 'error') messages.push(err('Scheduled at', row.time.message));
  else if (row.time.kind === 'time')
    for (const note of row.time.notes)
      messages.push({ level: 'info', column: 'Scheduled at', message: `Scheduled at: ${note}` });

  // Content and thread parts.
  const content = String(cellRaw(values, map, 'Content') ?? '');
  // A regex split costs far more than a scan; a separator needs both a line break and ---.
  row.parts =
    content.includes('\n') && content.includes('---')
      ? content.split(THREAD_SEPARATOR).map((p) => p.trim())
      : [content.trim()];
  if (row.parts.length === 1 && row.parts[0] === '') row.parts = [];

  // Media.
  for (const entry of splitMedia(cellText(values, map, 'Media'))) {
    const parsed = parseMediaEntry(entry);
    if (parsed.ok) {
      row.media.push(parsed.ref);
      row.mediaKinds.push(parsed.kind);
    } else messages.push(err('Media', parsed.problem));
  }

  // Options.
  const optionsText = cellText(values, map, 'Options');
  if (optionsText) {
    let json: unknown;
    try {
      json = JSON.parse(optionsText);
    } catch (e) {
      messages.push(
        err(
          'Options',
          `is not valid JSON (${(e as Error).message}): write an object such as {"privacy":"public"}, or leave it blank.`,
        ),
      );
    }
    if (json !== undefined) {
      const parsed = optionsSchema.safeParse(json);
      if (parsed.success) row.options = parsed.data;
      else messages.push(err('Options', parsed.error.issues[0]?.message ?? 'must be a JSON object.'));
    }
  }

  if (platform) checkPlatform(row, platform, cellText(values, map, 'Post type'), cellText(values, map, 'Title'));
  return row;
}

function checkPlatform(row: ValidatedRow, platform: Platform, postTypeText: string, title: string): void {
  const rule = PLATFORM_RULES[platform];
  const messages = row.messages;
  const postType = postTypeText
    ? postTypeText.toLowerCase()
    : defaultPostType(platform, row.parts.length, row.media.length);
  if (!rule.postTypes.includes(postType)) {
    messages.push(
      err(
        'Post type',
        `"${postTypeText}" is not a ${rule.label} post type: use ${rule.postTypes.join(', ')} (or leave it blank for ${defaultPostType(platform, row.parts.length, row.media.length)}).`,
      ),
    );
    return;
  }
  row.postType = postType;

  if (row.parts.length > 1 && !(platform === 'twitter' && postType === 'thread')) {
    if (platform === 'twitter')
      messages.push(
        err(
          'Post type',
          `Content has ${row.parts.length} parts separated by --- lines: set Post type to thread, or remove the --- lines.`,
        ),
      );
    else
      messages.push(
        err('Content', `has lines holding only --- (thread separators), which only X threads use: remove them.`),
      );
    return;
  }
  if (postType === 'thread') {
    if (row.parts.length > MAX_THREAD_PARTS)
      messages.push(
        err(
          'Content',
          `this thread has ${row.parts.length} parts; X allows at most ${MAX_THREAD_PARTS}: split it into two rows.`,
        ),
      );
    if (row.parts.length < 2)
      messages.push(err('Content', 'a thread needs at least 2 parts separated by a line holding only ---.'));
    row.parts.forEach((part, i) => {
      if (part === '')
        messages.push(err('Content', `part ${i + 1} of the thread is empty: write it or remove its --- line.`));
    });
  }

  const textRequired = rule.textRequired || (platform === 'twitter' && row.media.length === 0);
  if (row.parts.length === 0 && textRequired)
    messages.push(
      err('Content', `is empty: a ${rule.label} ${postType} needs text${platform === 'twitter' ? ' or media' : ''}.`),
    );

  row.parts.forEach((part, i) => {
    if (!overTextLimit(platform, part)) return;
    const length = textLength(platform, part);
    {
      const which = row.parts.length > 1 ? `part ${i + 1} is` : 'is';
      const unit =
        platform === 'twitter'
          ? 'weighted characters as X counts them (links count 23, emoji and CJK count 2)'
          : 'characters';
      messages.push(
        err(
          'Content',
          `${which} ${length} ${unit}; ${rule.label} allows ${rule.textLimit}${platform === 'twitter' ? ' on standard accounts' : ''}: shorten it by ${length - rule.textLimit}.`,
        ),
      );
    }
  });

  if (row.media.length > 0 || row.messages.every((m) => m.column !== 'Media')) {
    for (const problem of checkMedia(platform, postType, row.mediaKinds)) messages.push(err('Media', problem));
  }

  if (platform === 'youtube') {
    const fromOptions = typeof row.options?.title === 'string' ? row.options.title : '';
    const effective = title || fromOptions;
    if (!effective) messages.push(err('Title', 'is empty: YouTube needs a video title (up to 100 characters).'));
    else if ([...effective].length > YOUTUBE_TITLE_LIMIT)
      messages.push(
        err('Title', `is ${[...effective].length} characters; YouTube allows ${YOUTUBE_TITLE_LIMIT}: shorten it.`),
      );
    else row.options = { ...(row.options ?? {}), title: effective };
  } else if (title) {
    messages.push({
      level: 'info',
      column: 'Title',
      message: `Title: only YouTube uses a title; it is ignored for ${rule.label}.`,
    });
  }
}
