/**
 * Per-platform rules from the Postato docs (postato-api.md §10): post types and their defaults, text limits,
 * media counts, and daily caps. A table, so another platform joins by adding a row.
 */
import { parseTweet } from 'twitter-text';
import type { Platform } from '../post-body';
import { mediaRuleMessages as M } from './plan-messages';

/** What a media reference is, as far as the sheet tells us (`unknown` for Postato media ids). */
export type MediaKind = 'image' | 'video' | 'gif' | 'document' | 'unknown';

export interface PlatformRule {
  label: string;
  postTypes: readonly string[];
  /** Maximum text length per post (per tweet on X). */
  textLimit: number;
  /** Whether Content must hold text. */
  textRequired: boolean;
  /** Posts per account per calendar day above which the platform is likely to refuse or throttle. */
  dailyCap?: number;
}

/** The platforms the sheet accepts. */
export const PLATFORM_RULES: Record<Platform, PlatformRule> = {
  twitter: { label: 'X', postTypes: ['tweet', 'thread'], textLimit: 280, textRequired: false },
  instagram: {
    label: 'Instagram',
    postTypes: ['feed', 'reel', 'story', 'carousel'],
    textLimit: 2200,
    textRequired: false,
    dailyCap: 25,
  },
  linkedin: { label: 'LinkedIn', postTypes: ['post', 'document'], textLimit: 3000, textRequired: true },
  tiktok: { label: 'TikTok', postTypes: ['video', 'photo'], textLimit: 2200, textRequired: false },
  youtube: { label: 'YouTube', postTypes: ['video', 'short'], textLimit: 5000, textRequired: false },
};

/** Spellings users write in the Platform column. */
const PLATFORM_ALIASES: Record<string, Platform> = {
  x: 'twitter',
  twitter: 'twitter',
  'twitter/x': 'twitter',
  'x/twitter': 'twitter',
  instagram: 'instagram',
  ig: 'instagram',
  linkedin: 'linkedin',
  tiktok: 'tiktok',
  'tik tok': 'tiktok',
  youtube: 'youtube',
  yt: 'youtube',
};

/** The platform a cell names, or null. `x` is twitter. */
export function parsePlatform(text: string): Platform | null {
  return PLATFORM_ALIASES[text.trim().toLowerCase()] ?? null;
}

/** Post type used when the cell is blank. */
export function defaultPostType(platform: Platform, parts: number, mediaCount: number): string {
  switch (platform) {
    case 'twitter':
      return parts > 1 ? 'thread' : 'tweet';
    case 'instagram':
      return mediaCount >= 2 ? 'carousel' : 'feed';
    case 'linkedin':
      return 'post';
    case 'tiktok':
      return 'video';
    case 'youtube':
      return 'video';
  }
}

/**
 * Length of a text as the platform counts it: X weighs URLs, emoji and CJK (twitter-text); others count code points.
 */
export function textLength(platform: Platform, text: string): number {
  if (platform === 'twitter') return parseTweet(text).weightedLength;
  return [...text].length;
}

/** True when the text is over the platform's limit; skips the costly X parse when the text cannot be over it. */
export function overTextLimit(platform: Platform, text: string): boolean {
  const limit = PLATFORM_RULES[platform].textLimit;
  if (platform !== 'twitter') return text.length > limit && [...text].length > limit;
  // No character weighs more than 2 and no link more than 23, so short texts need no parse.
  const dots = text.split('.').length - 1;
  if (text.length * 2 + dots * 23 <= limit) return false;
  return parseTweet(text).weightedLength > limit;
}

/** Checks the media of one post (or one tweet) against the rules; returns problems as sentences. */
export function checkMedia(platform: Platform, postType: string, kinds: MediaKind[]): string[] {
  const n = kinds.length;
  const videos = kinds.filter((k) => k === 'video').length;
  const gifs = kinds.filter((k) => k === 'gif').length;
  const docs = kinds.filter((k) => k === 'document').length;
  const problems: string[] = [];
  // A plain value, not a closure: this runs once per row.
  const docsProblem = docs > 0 ? M.noDocuments(PLATFORM_RULES[platform].label, postType) : null;
  switch (platform) {
    case 'twitter':
      if (docsProblem) problems.push(docsProblem);
      if (videos + gifs > 0 && n > 1) problems.push(M.tweetMixed);
      else if (n > 4) problems.push(M.tweetTooMany(n));
      break;
    case 'instagram':
      if (docsProblem) problems.push(docsProblem);
      if (postType === 'carousel') {
        if (n < 2 || n > 10) problems.push(M.carouselCount(n));
      } else if (n !== 1) {
        problems.push(M.instagramSingle(postType, n));
      } else if (postType === 'reel' && kinds[0] !== 'video' && kinds[0] !== 'unknown') {
        problems.push(M.reelNeedsVideo);
      }
      break;
    case 'linkedin':
      if (postType === 'document') {
        if (n !== 1) problems.push(M.linkedinDocumentCount(n));
        else if (kinds[0] !== 'document' && kinds[0] !== 'unknown') problems.push(M.linkedinDocumentPdf);
      } else {
        if (docsProblem) problems.push(docsProblem);
        if (videos > 0 && n > 1) problems.push(M.linkedinMixed);
        else if (n > 9) problems.push(M.linkedinTooMany(n));
      }
      break;
    case 'tiktok':
      if (docsProblem) problems.push(docsProblem);
      if (postType === 'photo') {
        if (n < 2 || n > 35) problems.push(M.tiktokPhotoCount(n));
        else if (videos > 0) problems.push(M.tiktokPhotoImagesOnly);
      } else if (n !== 1) problems.push(M.tiktokVideoCount(n));
      else if (kinds[0] !== 'video' && kinds[0] !== 'unknown') problems.push(M.tiktokVideoNeedsVideo);
      break;
    case 'youtube':
      if (docsProblem) problems.push(docsProblem);
      if (n !== 1) problems.push(M.youtubeCount(postType, n));
      else if (kinds[0] !== 'video' && kinds[0] !== 'unknown') problems.push(M.youtubeNeedsVideo(postType));
      break;
  }
  return problems;
}

/** At most this many parts in an X thread. */
export const MAX_THREAD_PARTS = 25;
/** YouTube titles are required and at most this long. */
export const YOUTUBE_TITLE_LIMIT = 100;
