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
import { cellMessages } from './plan-messages';
import { OPTIONS_JSON_BOUNDS, parseBoundedJson } from './bounded-json';

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
  error: cellMessages.optionsNotObject,
});

/** zod schema of the cells every row needs; issues carry the column as their path. */
const requiredCells = z.object({
  Platform: z
    .string()
    .min(1, cellMessages.platformEmpty)
    .refine((v) => parsePlatform(v) !== null, { error: (iss) => cellMessages.platformUnknown(String(iss.input)) }),
  Account: z.string().min(1, cellMessages.accountEmpty),
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
    messages.push(err('Key', cellMessages.keyEmpty));
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
    else messages.push(err('Time zone', cellMessages.zoneUnknown(zoneText)));
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
    const bounded = parseBoundedJson(optionsText, OPTIONS_JSON_BOUNDS);
    let json: unknown;
    if (bounded.ok) json = bounded.value;
    else if (bounded.reason === 'too-deep')
      messages.push(err('Options', cellMessages.optionsTooDeep(bounded.maxDepth)));
    else if (bounded.reason === 'too-long')
      messages.push(err('Options', cellMessages.optionsTooLong(bounded.length, bounded.maxChars)));
    else messages.push(err('Options', cellMessages.optionsNotJson(bounded.detail)));
    if (json !== undefined) {
      const parsed = optionsSchema.safeParse(json);
      if (parsed.success) row.options = parsed.data;
      else messages.push(err('Options', parsed.error.issues[0]?.message ?? cellMessages.optionsNotObjectShort));
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
    const fallback = defaultPostType(platform, row.parts.length, row.media.length);
    messages.push(err('Post type', cellMessages.postTypeUnknown(postTypeText, rule.label, rule.postTypes, fallback)));
    return;
  }
  row.postType = postType;

  if (row.parts.length > 1 && !(platform === 'twitter' && postType === 'thread')) {
    if (platform === 'twitter') messages.push(err('Post type', cellMessages.partsWithoutThread(row.parts.length)));
    else messages.push(err('Content', cellMessages.separatorOutsideX));
    return;
  }
  if (postType === 'thread') {
    if (row.parts.length > MAX_THREAD_PARTS)
      messages.push(err('Content', cellMessages.threadTooLong(row.parts.length, MAX_THREAD_PARTS)));
    if (row.parts.length < 2) messages.push(err('Content', cellMessages.threadTooShort));
    row.parts.forEach((part, i) => {
      if (part === '') messages.push(err('Content', cellMessages.threadPartEmpty(i + 1)));
    });
  }

  const textRequired = rule.textRequired || (platform === 'twitter' && row.media.length === 0);
  if (row.parts.length === 0 && textRequired)
    messages.push(err('Content', cellMessages.contentEmpty(rule.label, postType, platform === 'twitter')));

  row.parts.forEach((part, i) => {
    if (!overTextLimit(platform, part)) return;
    const message = cellMessages.contentTooLong({
      ...(row.parts.length > 1 ? { part: i + 1 } : {}),
      length: textLength(platform, part),
      x: platform === 'twitter',
      label: rule.label,
      limit: rule.textLimit,
    });
    messages.push(err('Content', message));
  });

  if (row.media.length > 0 || row.messages.every((m) => m.column !== 'Media')) {
    for (const problem of checkMedia(platform, postType, row.mediaKinds)) messages.push(err('Media', problem));
  }

  if (platform === 'youtube') {
    const fromOptions = typeof row.options?.title === 'string' ? row.options.title : '';
    const effective = title || fromOptions;
    if (!effective) messages.push(err('Title', cellMessages.titleEmpty));
    else if ([...effective].length > YOUTUBE_TITLE_LIMIT)
      messages.push(err('Title', cellMessages.titleTooLong([...effective].length, YOUTUBE_TITLE_LIMIT)));
    else row.options = { ...(row.options ?? {}), title: effective };
  } else if (title) {
    messages.push({
      level: 'info',
      column: 'Title',
      message: cellMessages.titleIgnored(rule.label),
    });
  }
}
