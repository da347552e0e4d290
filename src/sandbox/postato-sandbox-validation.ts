/**
 * Request validation of the Postato sandbox: the 400 schema checks (missing fields, bad enums, zone-less or past
 * `scheduledAt`) and the 422 platform rules of postato-api.md §10, written from the docs independently of src/postato.
 */
import { DateTime } from 'luxon';
import { parseTweet } from 'twitter-text';
import { z } from 'zod';

/** Post types each platform accepts. */
export const POST_TYPES: Record<string, readonly string[]> = {
  instagram: ['feed', 'reel', 'story', 'carousel'],
  twitter: ['tweet', 'thread'],
  linkedin: ['post', 'document'],
  tiktok: ['video', 'photo'],
  youtube: ['video', 'short'],
};

/** A media reference as stored. */
export interface SandboxMediaRef {
  id?: string;
  url?: string;
  type?: 'image' | 'video' | 'document' | 'gif';
  alt?: string;
  [extra: string]: unknown;
}

/** One content item as stored. */
export interface SandboxContentItem {
  text: string;
  media?: SandboxMediaRef[];
}

/** One platform-rule violation, as listed in a 422 body. */
export interface PlatformRuleError {
  field: string;
  message: string;
  platform: string;
  code: string;
}

/** Field → messages, the `details` of a 400. */
export type FieldDetails = Record<string, string[]>;

const mediaRefSchema = z
  .object({
    id: z.string().min(1).optional(),
    url: z
      .string()
      .refine((u) => /^https:\/\/[^\s]+$/i.test(u), 'media URLs must be https:// and publicly reachable')
      .optional(),
    type: z.enum(['image', 'video', 'document', 'gif']).optional(),
    alt: z.string().optional(),
  })
  .loose()
  .refine((m) => Boolean(m.id) !== Boolean(m.url), 'a media reference needs exactly one of id or url');

const contentItemSchema = z.object({ text: z.string(), media: z.array(mediaRefSchema).optional() });
const contentSchema = z.union([z.string(), z.array(contentItemSchema).min(1, 'content needs at least one item')]);
const scheduledAtSchema = z.string();

const createSchema = z.object({
  platform: z.enum(['instagram', 'twitter', 'x', 'linkedin', 'tiktok', 'youtube']),
  accountId: z.string().min(1),
  status: z.enum(['publish', 'scheduled', 'draft']),
  postType: z.string().min(1),
  content: contentSchema,
  media: z.array(mediaRefSchema).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
  scheduledAt: scheduledAtSchema.optional(),
});

const updateSchema = z
  .object({
    content: contentSchema.optional(),
    media: z.array(mediaRefSchema).optional(),
    scheduledAt: scheduledAtSchema.optional(),
    status: z.enum(['publish', 'scheduled', 'draft']).optional(),
  })
  .strict();

/** A create body after the 400 checks, normalised (`x` → `twitter`, string content → one item, UTC time). */
export interface ValidCreate {
  platform: string;
  accountId: string;
  status: 'publish' | 'scheduled' | 'draft';
  postType: string;
  content: SandboxContentItem[];
  media?: SandboxMediaRef[];
  options?: Record<string, unknown>;
  scheduledAt: string | null;
}

/** A PATCH body after the 400 checks. */
export interface ValidUpdate {
  content?: SandboxContentItem[];
  media?: SandboxMediaRef[];
  scheduledAt?: string;
  status?: 'publish' | 'scheduled' | 'draft';
}

/** Result of a 400-level check: the value, or the per-field details. */
export type Checked<T> = { ok: true; value: T } | { ok: false; details: FieldDetails };

function issuesToDetails(issues: z.core.$ZodIssue[]): FieldDetails {
  const details: FieldDetails = {};
  for (const issue of issues) {
    const field = issue.path.length ? issue.path.join('.') : '_body';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        (details[key] ??= []).push(`"${key}" cannot be changed; delete the post and create it again`);
      }
      continue;
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) message = 'is required';
    (details[field] ??= []).push(message);
  }
  return details;
}

const SIMPLE_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * The instant of the common form `YYYY-MM-DDTHH:mm[:ss[.fff]]` with `Z` or `±hh:mm`, every field in its usual range,
 * computed as luxon does (fractions cut to whole ms); undefined for anything else, which luxon then parses and, when
 * invalid, explains. Parsing every create with luxon was a tenth of the sandbox's CPU under load.
 */
function simpleIsoInstant(value: string): number | undefined {
  const m = SIMPLE_ISO.exec(value);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, sec, offH, offM] = [n(1), n(2), n(3), n(4), n(5), n(6), n(9), n(10)];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (y < 1001 || y > 9998 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth) return undefined;
  if (h > 23 || mi > 59 || sec > 59 || offH > 23 || offM > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Math.floor(parseFloat(`0.${m[7]}`) * 1000);
  const offsetMs = (m[8] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMs;
}

/** Checks a `scheduledAt`: ISO 8601 with a zone, in the future; returns it in UTC with `Z`, or an error message. */
export function checkScheduledAt(
  value: string,
  now: number,
): { ok: true; utc: string } | { ok: false; message: string } {
  if (!/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value)) {
    return { ok: false, message: 'must be ISO 8601 with a zone designator (Z or +hh:mm), e.g. 2030-01-31T14:00:00Z' };
  }
  const simple = simpleIsoInstant(value);
  if (simple !== undefined) {
    if (simple <= now) return { ok: false, message: 'must be in the future' };
    return { ok: true, utc: new Date(simple).toISOString() };
  }
  const parsed = DateTime.fromISO(value, { setZone: true });
  if (!parsed.isValid)
    return { ok: false, message: `is not a valid ISO 8601 time: ${parsed.invalidExplanation ?? value}` };
  if (parsed.toMillis() <= now) return { ok: false, message: 'must be in the future' };
  return { ok: true, utc: parsed.toUTC().toISO() as string };
}

function normaliseContent(
  content: string | SandboxContentItem[],
  media: SandboxMediaRef[] | undefined,
): SandboxContentItem[] {
  if (typeof content === 'string') return [media && media.length ? { text: content, media } : { text: content }];
  return content.map((c) => (c.media ? { text: c.text, media: c.media } : { text: c.text }));
}

/** The 400 checks of a create body. */
export function checkCreateBody(body: unknown, now: number): Checked<ValidCreate> {
  const parsed = createSchema.safeParse(body);
  if (!parsed.success) return { ok: false, details: issuesToDetails(parsed.error.issues) };
  const b = parsed.data;
  const details: FieldDetails = {};
  const platform = b.platform === 'x' ? 'twitter' : b.platform;
  const types = POST_TYPES[platform] ?? [];
  if (!types.includes(b.postType)) details.postType = [`must be one of ${types.join(', ')} for ${platform}`];
  if (b.media && typeof b.content !== 'string') {
    details.media = ['top-level media is only allowed with string content; put media inside each content item'];
  }
  let scheduledAt: string | null = null;
  if (b.scheduledAt !== undefined) {
    const s = checkScheduledAt(b.scheduledAt, now);
    if (s.ok) scheduledAt = s.utc;
    else details.scheduledAt = [s.message];
  } else if (b.status === 'scheduled') {
    details.scheduledAt = ['is required when status is "scheduled"'];
  }
  if (Object.keys(details).length) return { ok: false, details };
  const media = b.media as SandboxMediaRef[] | undefined;
  const value: ValidCreate = {
    platform,
    accountId: b.accountId,
    status: b.status,
    postType: b.postType,
    content: normaliseContent(b.content as string | SandboxContentItem[], media),
    scheduledAt,
  };
  if (media) value.media = media;
  if (b.options) value.options = b.options;
  // Carousel auto-promotion (§3.2): one Instagram item with 2+ media becomes a carousel.
  if (platform === 'instagram' && value.content.length === 1 && (value.content[0]?.media?.length ?? 0) >= 2) {
    value.postType = 'carousel';
  }
  return { ok: true, value };
}

/** The 400 checks of a PATCH body (platform, accountId and postType are not editable). */
export function checkUpdateBody(body: unknown, now: number): Checked<ValidUpdate> {
  const parsed = updateSchema.safeParse(body);
  if (!parsed.success) return { ok: false, details: issuesToDetails(parsed.error.issues) };
  const b = parsed.data;
  const value: ValidUpdate = {};
  if (b.scheduledAt !== undefined) {
    const s = checkScheduledAt(b.scheduledAt, now);
    if (!s.ok) return { ok: false, details: { scheduledAt: [s.message] } };
    value.scheduledAt = s.utc;
  }
  if (b.media && b.content !== undefined && typeof b.content !== 'string') {
    return { ok: false, details: { media: ['top-level media is only allowed with string content'] } };
  }
  if (b.content !== undefined)
    value.content = normaliseContent(b.content as string | SandboxContentItem[], b.media as SandboxMediaRef[]);
  if (b.media !== undefined) value.media = b.media as SandboxMediaRef[];
  if (b.status !== undefined) value.status = b.status;
  return { ok: true, value };
}

const TEXT_LIMITS: Record<string, number> = {
  twitter: 280,
  instagram: 2200,
  linkedin: 3000,
  tiktok: 2200,
  youtube: 5000,
};

/**
 * Characters as each platform counts them: X by its weighted length (twitter-text: every link 23, emoji and CJK 2, as
 * X itself refuses a tweet), the others by Unicode code points as the docs say.
 */
function length(platform: string, text: string): number {
  return platform === 'twitter' ? parseTweet(text).weightedLength : [...text].length;
}

/** The platform rules of §10 for a post's platform, type, content and options; empty when it passes. */
export function checkPlatformRules(post: {
  platform: string;
  postType: string;
  content: SandboxContentItem[];
  options?: Record<string, unknown>;
}): PlatformRuleError[] {
  const { platform, postType, content } = post;
  const errors: PlatformRuleError[] = [];
  const add = (field: string, code: string, message: string) => errors.push({ field, message, platform, code });
  const limit = TEXT_LIMITS[platform] ?? Infinity;
  content.forEach((item, i) => {
    const n = length(platform, item.text);
    if (n > limit)
      add(`content[${i}].text`, 'text_too_long', `is ${n} characters; ${platform} allows at most ${limit}`);
  });
  const isThread = platform === 'twitter' && postType === 'thread';
  if (isThread && content.length > 25)
    add('content', 'thread_too_long', `has ${content.length} tweets; a thread allows at most 25`);
  if (!isThread && content.length > 1) {
    add('content', 'too_many_items', `has ${content.length} items; only a twitter thread may have more than one`);
  }
  const media = content[0]?.media ?? [];
  const videos = media.filter((m) => m.type === 'video').length;
  const images = media.filter((m) => m.type === undefined || m.type === 'image').length;
  const count = (field: string, min: number, max: number, what: string) => {
    if (media.length < min || media.length > max) {
      const range = min === max ? `exactly ${min}` : `${min}–${max}`;
      add(field, 'media_count', `${platform} ${postType} needs ${range} ${what}; got ${media.length}`);
    }
  };
  switch (`${platform}:${postType}`) {
    case 'twitter:tweet':
    case 'twitter:thread':
      content.forEach((item, i) => {
        const m = item.media ?? [];
        const single = m.filter((x) => x.type === 'video' || x.type === 'gif').length;
        if (m.length > 4 || (single > 0 && m.length > 1)) {
          add(
            `content[${i}].media`,
            'media_count',
            `a tweet takes up to 4 images, or 1 video, or 1 GIF; got ${m.length} media`,
          );
        }
      });
      break;
    case 'instagram:feed':
    case 'instagram:story':
      count('media', 1, 1, 'image or video');
      break;
    case 'instagram:reel':
      count('media', 1, 1, 'video');
      if (media.length === 1 && media[0]?.type !== undefined && media[0].type !== 'video')
        add('media', 'media_type', 'a reel needs a video');
      break;
    case 'instagram:carousel':
      count('media', 2, 10, 'items');
      break;
    case 'linkedin:post':
      if (videos > 1 || (videos === 1 && media.length > 1) || images > 9) {
        add('media', 'media_count', `a linkedin post takes up to 9 images or 1 video; got ${media.length} media`);
      }
      break;
    case 'linkedin:document':
      count('media', 1, 1, 'PDF document');
      break;
    case 'tiktok:video':
    case 'youtube:video':
    case 'youtube:short':
      count('media', 1, 1, 'video');
      if (media.length === 1 && media[0]?.type !== undefined && media[0].type !== 'video') {
        add('media', 'media_type', `${platform} ${postType} needs a video`);
      }
      break;
    case 'tiktok:photo':
      count('media', 2, 35, 'images');
      break;
  }
  if (platform === 'youtube') {
    const title = post.options?.title;
    if (typeof title !== 'string' || title.trim() === '')
      add('options.title', 'title_required', 'youtube needs options.title');
    else if (length(platform, title) > 100)
      add('options.title', 'title_too_long', `is ${length(platform, title)} characters; youtube allows at most 100`);
  }
  return errors;
}
