/**
 * The sheet's column names and the platform / post-type choices, as the add-on writes them into a template sheet.
 * The service matches headers case-insensitively (with aliases); these are the canonical spellings.
 */

/** Input columns, left to right, as the template sheet lays them out. */
export const INPUT_COLUMNS = [
  'Key',
  'Platform',
  'Account',
  'Post type',
  'Content',
  'Media',
  'Scheduled at',
  'Time zone',
  'Title',
  'Options',
] as const;

/** Output columns the service writes; the add-on adds any that are missing at the right of the header. */
export const OUTPUT_COLUMNS = ['Status', 'Post ID', 'Error', 'Scheduled (UTC)', 'Link', 'Run', 'Updated'] as const;

/**
 * Input columns a sheet may add when it wants them; the template has them. `Approved` (a checkbox): when the column
 * exists, Publish creates only rows whose box is ticked, and a row edited after it was ticked waits for a new tick.
 */
export const OPTIONAL_COLUMNS = ['Approved'] as const;

export type ColumnName =
  (typeof INPUT_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number] | (typeof OUTPUT_COLUMNS)[number];

/**
 * Accepted spellings per column (already normalised); the contract name itself is always accepted. The add-on and
 * the service both match headers with these, so the add-on never reads or writes as Key a column the service would
 * not read as Key.
 */
export const COLUMN_ALIASES: Record<ColumnName, string[]> = {
  Key: ['key', 'row key', 'row id', 'id'],
  Platform: ['platform', 'network', 'channel', 'social network'],
  Account: ['account', 'account id', 'handle', 'username', 'profile'],
  'Post type': ['post type', 'posttype', 'type', 'format'],
  Content: ['content', 'text', 'caption', 'body', 'copy', 'post text', 'description'],
  Media: ['media', 'media urls', 'media url', 'images', 'image', 'video', 'attachments'],
  'Scheduled at': [
    'scheduled at',
    'schedule',
    'scheduled',
    'scheduled time',
    'publish at',
    'post at',
    'date',
    'datetime',
    'date time',
    'when',
  ],
  'Time zone': ['time zone', 'timezone', 'tz', 'zone'],
  Title: ['title', 'video title', 'youtube title'],
  Options: ['options', 'options json', 'json'],
  Approved: ['approved', 'approval', 'approve', 'ok to publish', 'ok to post', 'signed off', 'sign off'],
  Status: ['status'],
  'Post ID': ['post id', 'postid', 'postato id', 'postato post id'],
  Error: ['error', 'errors', 'last error'],
  'Scheduled (UTC)': ['scheduled (utc)', 'scheduled utc', 'utc'],
  Link: ['link', 'post link', 'post url', 'permalink', 'url'],
  Run: ['run', 'run id'],
  Updated: ['updated', 'updated at', 'last updated'],
};

/** Lower-cases, trims, and turns `_`, `-` and runs of whitespace into single spaces. */
export function normaliseHeader(value: unknown): string {
  return String(value ?? '')
    .toLowerCase()
    .replace(/[_\-\s]+/g, ' ')
    .trim();
}

const ALIAS_TO_COLUMN = new Map<string, ColumnName>();
for (const [column, aliases] of Object.entries(COLUMN_ALIASES) as [ColumnName, string[]][]) {
  ALIAS_TO_COLUMN.set(normaliseHeader(column), column);
  for (const alias of aliases) ALIAS_TO_COLUMN.set(alias, column);
}

/** The contract column a header cell names, or undefined (blank and unknown headers name none). */
export function columnNamed(headerCell: unknown): ColumnName | undefined {
  const name = normaliseHeader(headerCell);
  return name === '' ? undefined : ALIAS_TO_COLUMN.get(name);
}

/** Post types per platform (Postato docs, platforms table); the first one is the platform's default. */
export const POST_TYPES_BY_PLATFORM: Readonly<Record<string, readonly string[]>> = {
  instagram: ['feed', 'reel', 'story', 'carousel'],
  twitter: ['tweet', 'thread'],
  linkedin: ['post', 'document'],
  tiktok: ['video', 'photo'],
  youtube: ['video', 'short'],
};

/** Platform names offered in the template's dropdown. */
export const PLATFORMS: readonly string[] = Object.keys(POST_TYPES_BY_PLATFORM);

/** Every post type, without duplicates, for the template's Post type dropdown. */
export const ALL_POST_TYPES: readonly string[] = Array.from(new Set(Object.values(POST_TYPES_BY_PLATFORM).flat()));
