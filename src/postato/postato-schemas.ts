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
