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
