/**
 * zod schemas of the Postato responses this client reads (postato-api.md §2, §3, §16), written from the docs alone.
 * Objects are not strict (Postato may add fields) but the fields we use are required; where pages disagree (§15)
 * every documented variant is accepted and normalised.
 */
import { z } from 'zod';

/** Post states from both vocabularies of §15.2 (guides and MCP), plus the approval and cancel states. */
export const KNOWN_POST_STATUSES = [
  'draft',
  'scheduled',
  'queued',
  'pending',
  'publishing',
  'processing',
  'retrying',
  'published',
  'failed',
  'pending_approval',
  'cancelled',
  'rejected',
] as const;

/** A post status as Postato reports it; unknown future values are kept as plain strings rather than rejected. */
export type PostStatus = (typeof KNOWN_POST_STATUSES)[number] | (string & {});

/** The guide vocabulary for a status: MCP's `pending` is `queued`, `processing` is `publishing`. */
export function normalizePostStatus(status: PostStatus): PostStatus {
  if (status === 'pending') return 'queued';
  if (status === 'processing') return 'publishing';
  return status;
}

const mediaRefSchema = z.looseObject({
  id: z.string().optional(),
  url: z.string().optional(),
  type: z.string().optional(),
  alt: z.string().optional(),
});

const contentItemSchema = z.looseObject({ text: z.string(), media: z.array(mediaRefSchema).optional() });

const postItemSchema = z.looseObject({
  id: z.string().optional(),
  index: z.number().int().optional(),
  text: z.string().optional(),
  status: z.string().optional(),
});

/** A failed post's `error`: a string or an object with a message, depending on the page; kept as text. */
const postErrorSchema = z
  .union([
    z.string(),
    z.looseObject({ message: z.string().optional(), code: z.string().optional(), error: z.string().optional() }),
  ])
  .transform((e) => (typeof e === 'string' ? e : (e.message ?? e.error ?? e.code ?? 'unknown error')));

/** A post as returned by create, get, update and list. */
export const postSchema = z
  .looseObject({
    id: z.string().min(1),
    status: z.string().min(1),
    platform: z.string().optional(),
    accountId: z.string().optional(),
    postType: z.string().optional(),
    content: z.union([z.string(), z.array(contentItemSchema)]).optional(),
    media: z.array(mediaRefSchema).optional(),
    options: z.record(z.string(), z.unknown()).optional(),
    scheduledAt: z.string().nullish(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
    items: z.array(postItemSchema).optional(),
    platformPostId: z.string().nullish(),
    platformUrl: z.string().nullish(),
    // §15.3: the same page also names them externalId/externalUrl.
    externalId: z.string().nullish(),
    externalUrl: z.string().nullish(),
    error: postErrorSchema.nullish(),
    // The sandbox (and MCP get_approval_status) show the approval a post went through: the reviewer's reason lives here.
    approval: z
      .looseObject({ status: z.string().optional(), comment: z.string().nullish(), reviewerId: z.string().nullish() })
      .nullish(),
  })
  .transform((p) => ({
    ...p,
    status: p.status as PostStatus,
    platform: p.platform === 'x' ? 'twitter' : p.platform,
    platformPostId: p.platformPostId ?? p.externalId ?? undefined,
    platformUrl: p.platformUrl ?? p.externalUrl ?? undefined,
    scheduledAt: p.scheduledAt ?? undefined,
    error: p.error ?? undefined,
    approval: p.approval ?? undefined,
  }));

/** A post as this client hands it out (platform `x` normalised, published ids under one name). */
export type Post = z.output<typeof postSchema>;

/**
 * The same reading as `postSchema` without zod, for the answers a publish gets thousands of times a minute: it
 * returns the post only when every declared field has a plain form the schema accepts (checked at least as strictly),
 * and undefined for anything else, which then goes through `postSchema` (its verdict and messages). The output equals
 * the schema's; a test compares the two on every documented variant.
 */
export function readPlainPost(json: unknown): Post | undefined {
  if (!isRecord(json)) return undefined;
  const p = json;
  if (!isNonEmptyString(p.id) || !isNonEmptyString(p.status)) return undefined;
  if (!optional(p.platform, isString) || !optional(p.accountId, isString) || !optional(p.postType, isString))
    return undefined;
  if (!optional(p.createdAt, isString) || !optional(p.updatedAt, isString)) return undefined;
  if (!nullish(p.scheduledAt, isString) || !nullish(p.platformPostId, isString) || !nullish(p.platformUrl, isString))
    return undefined;
  if (!nullish(p.externalId, isString) || !nullish(p.externalUrl, isString)) return undefined;
  if (p.content !== undefined && !isString(p.content) && !isArrayOf(p.content, isPlainContentItem)) return undefined;
  if (!optional(p.media, (m) => isArrayOf(m, isPlainMediaRef))) return undefined;
  if (!optional(p.options, isRecord)) return undefined;
  if (!optional(p.items, (i) => isArrayOf(i, isPlainPostItem))) return undefined;
  // The rarer fields (a failure's error, an approval) keep to the schema.
  if (p.error != null || p.approval != null) return undefined;
  // Object.assign, not a spread: spreading a JSON.parse result costs ten times more in V8. A `__proto__` key would
  // set the copy's prototype under assign, so such a body goes through the schema.
  if (Object.hasOwn(p, '__proto__')) return undefined;
  const post = Object.assign({}, p) as Post;
  post.platform = p.platform === 'x' ? 'twitter' : (p.platform as string | undefined);
  post.platformPostId = (p.platformPostId ?? p.externalId ?? undefined) as string | undefined;
  post.platformUrl = (p.platformUrl ?? p.externalUrl ?? undefined) as string | undefined;
  post.scheduledAt = (p.scheduledAt ?? undefined) as string | undefined;
  post.error = undefined;
  post.approval = undefined;
  return post;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function optional(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

function nullish(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || v === null || check(v);
}

function isArrayOf(v: unknown, check: (v: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (const item of v) if (!check(item)) return false;
  return true;
}

function isPlainMediaRef(v: unknown): boolean {
  return (
    isRecord(v) &&
    optional(v.id, isString) &&
    optional(v.url, isString) &&
    optional(v.type, isString) &&
    optional(v.alt, isString)
  );
}

function isPlainContentItem(v: unknown): boolean {
  return isRecord(v) && isString(v.text) && optional(v.media, (m) => isArrayOf(m, isPlainMediaRef));
}

function isPlainPostItem(v: unknown): boolean {
  return (
    isRecord(v) &&
    optional(v.id, isString) &&
    optional(v.index, Number.isSafeInteger) &&
    optional(v.text, isString) &&
    optional(v.status, isString)
  );
}

/** One page of GET /v1/workspaces/{ws}/posts (§16); `page`/`totalPages` are optional in case Postato omits them. */
export const postPageSchema = z.looseObject({
  items: z.array(postSchema),
  page: z.number().int().optional(),
  pageSize: z.number().int().optional(),
  total: z.number().int().optional(),
  totalPages: z.number().int().optional(),
});

/** A page of posts. */
export type PostPage = z.output<typeof postPageSchema>;

/** A workspace from GET /v1/workspaces (§3.1); only id and name are required. */
export const workspaceSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  connectedAccountCount: z.number().optional(),
  connectedPlatforms: z.array(z.string()).optional(),
  memberCount: z.number().optional(),
  recentPostCount: z.number().optional(),
  role: z.string().optional(),
});

/** A workspace the key can reach. */
export type Workspace = z.output<typeof workspaceSchema>;

/** GET /v1/workspaces: REST uses `items`, MCP `workspaces`; both are accepted. */
export const workspaceListSchema = z
  .union([z.looseObject({ items: z.array(workspaceSchema) }), z.looseObject({ workspaces: z.array(workspaceSchema) })])
  .transform((r): Workspace[] => (Array.isArray(r.items) ? (r.items as Workspace[]) : (r.workspaces as Workspace[])));

/** A connected social account (§3.10, §16). */
export const accountSchema = z
  .looseObject({
    id: z.string().min(1),
    platform: z.string(),
    username: z.string().optional(),
    displayName: z.string().nullish(),
    status: z.string().optional(),
  })
  .transform((a) => ({
    ...a,
    platform: a.platform === 'x' ? 'twitter' : a.platform,
    displayName: a.displayName ?? undefined,
  }));

/** A connected account. */
export type Account = z.output<typeof accountSchema>;

/** GET /v1/workspaces/{ws}/accounts: the sandbox uses `items`, MCP `accounts`; both are accepted. */
export const accountListSchema = z
  .union([z.looseObject({ items: z.array(accountSchema) }), z.looseObject({ accounts: z.array(accountSchema) })])
  .transform((r): Account[] => (Array.isArray(r.items) ? (r.items as Account[]) : (r.accounts as Account[])));

/** The error envelope of §2; every field optional because 401/429 bodies may be empty or HTML. */
export const errorEnvelopeSchema = z.looseObject({
  error: z.string().optional(),
  message: z.string().optional(),
  details: z.unknown().optional(),
  errors: z
    .array(
      z.looseObject({
        field: z.string().optional(),
        message: z.string().optional(),
        platform: z.string().optional(),
        code: z.string().optional(),
      }),
    )
    .optional(),
  facet: z.string().optional(),
  reason: z.string().optional(),
  required: z.string().optional(),
  available_workspaces: z.unknown().optional(),
});

/** A parsed error body. */
export type ErrorEnvelope = z.output<typeof errorEnvelopeSchema>;

/** Answer of POST /media/upload-url (§3.7): where to PUT the bytes. */
export const uploadUrlSchema = z
  .object({ mediaId: z.string().min(1), uploadUrl: z.url(), expiresAt: z.string().optional() })
  .loose();
export type UploadTarget = z.infer<typeof uploadUrlSchema>;

/** Answer of POST /media/{id}/confirm: the media object (its shape is not documented beyond id and status). */
export const mediaSchema = z.object({ id: z.string().min(1), status: z.string().optional() }).loose();
export type Media = z.infer<typeof mediaSchema>;
