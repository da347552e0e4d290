/**
 * The /v1 routes of the Postato sandbox: auth, workspace permission, forced 429s and rate limits first, then
 * workspaces, accounts, posts (create / list / get / update / cancel), approvals, media and webhook registration, as
 * postato-api.md §16 decides. Faults (5xx, drop after store, hang) apply to creates only; added latency applies to
 * every /v1 route.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  decideOverRest,
  getApproval,
  listApprovals,
  matchPolicy,
  requestApproval,
  type ApprovalAction,
} from './postato-sandbox-approvals';
import {
  invalid,
  issuesToFieldDetails,
  notFound,
  parseBody,
  unprocessable,
  type Call,
  type Caller,
  type SandboxContext,
} from './postato-sandbox-call';
import { chooseFault } from './postato-sandbox-faults';
import {
  checkMediaRefs,
  confirmMedia,
  confirmOnUse,
  createUploadUrl,
  deleteMedia,
  getMedia,
  listMedia,
} from './postato-sandbox-media';
import { readRawBody, sendError, sendJson, sendJsonText } from './postato-sandbox-http';
import { canonicalJson } from './postato-sandbox-idempotency';
import type { RateClass } from './postato-sandbox-rate-limit';
import type { SandboxSettings } from './postato-sandbox-settings';
import { setStatus, type SandboxPost, type StoredAccount } from './postato-sandbox-store';
import {
  checkCreateBody,
  checkPlatformRules,
  checkScheduledAt,
  checkUpdateBody,
  type PlatformRuleError,
  type SandboxContentItem,
} from './postato-sandbox-validation';
import { WEBHOOK_EVENTS } from './postato-sandbox-webhooks';

const KEY_PATTERN = /^smcp_[0-9a-fA-F]{64}$/;
const EDITABLE: ReadonlySet<string> = new Set(['draft', 'scheduled']);
const CANCELLABLE: ReadonlySet<string> = new Set(['draft', 'scheduled', 'queued', 'pending_approval']);
const AGENT_PERMISSIONS = ['posts.publish'];
const USER_PERMISSIONS = ['posts.publish', 'posts.approve'];

/** Resolves the caller from `Authorization: Bearer smcp_…`, or answers 401. */
function authenticate(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse): Caller | null {
  const found = callerOf(ctx, req);
  if ('refusal' in found) {
    sendError(res, 401, 'unauthorized', found.refusal);
    return null;
  }
  return found;
}

/** The caller behind an API key under the configured keys, or why it has none. */
function resolveCaller(keys: SandboxSettings['keys'], key: string): Caller | { refusal: string } {
  if (!KEY_PATTERN.test(key))
    return { refusal: 'The API key is malformed: it must be "smcp_" followed by 64 hex characters.' };
  if (keys === 'any') {
    // Demo mode: the key is its own tenant; a hash keeps the key itself out of ids and inspection output. Demo
    // agents may also approve, so a demo or test can decide approvals over REST without configuring keys.
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
    return {
      tenantId: `tnt_${hash}`,
      workspaceIds: 'any',
      kind: 'agent',
      actorId: `agt_${hash}`,
      permissions: new Set(USER_PERMISSIONS),
    };
  }
  const known = keys.find((k) => k.apiKey === key);
  if (!known) return { refusal: 'The API key is not known (revoked or mistyped); create a new key in Postato.' };
  const kind = known.kind ?? 'agent';
  return {
    tenantId: known.tenantId,
    workspaceIds: known.workspaceIds,
    kind,
    actorId:
      known.actorId ??
      `${kind === 'agent' ? 'agt' : 'usr'}_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
    permissions: new Set(known.permissions ?? (kind === 'agent' ? AGENT_PERMISSIONS : USER_PERMISSIONS)),
  };
}

/** Callers resolved per configured keys (a settings update brings new keys, so a new cache); bounded for demo mode. */
const callerCaches = new WeakMap<
  SandboxContext,
  { keys: SandboxSettings['keys']; byKey: Map<string, Caller | { refusal: string }> }
>();
const CALLER_CACHE_MAX = 10_000;

/**
 * The caller behind the request's key, or why it has none (no answer is sent). Every /v1 request asks twice (in-flight
 * count, then auth), so the answer is kept per key instead of hashing the key each time.
 */
function callerOf(ctx: SandboxContext, req: IncomingMessage): Caller | { refusal: string } {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return { refusal: 'Send the API key as "Authorization: Bearer smcp_<64 hex>".' };
  const key = match[1] as string;
  const keys = ctx.settings().keys;
  let cache = callerCaches.get(ctx);
  if (!cache || cache.keys !== keys) {
    cache = { keys, byKey: new Map() };
    callerCaches.set(ctx, cache);
  }
  let found = cache.byKey.get(key);
  if (!found) {
    if (cache.byKey.size >= CALLER_CACHE_MAX) cache.byKey.clear();
    found = resolveCaller(keys, key);
    cache.byKey.set(key, found);
  }
  return found;
}

function rateClass(method: string, isCreate: boolean, isMediaPost: boolean): RateClass {
  if (isCreate) return 'create';
  if (method === 'GET') return 'read';
  return isMediaPost ? 'media' : 'write';
}

/** Forced 429s, then the rolling-window limit; returns false when the request was answered 429. */
function admit(
  ctx: SandboxContext,
  res: ServerResponse,
  caller: Caller,
  cls: RateClass,
  headers: Record<string, string>,
): boolean {
  const s = ctx.settings();
  const now = ctx.clock.now();
  const counters = ctx.store.countersOf(caller.tenantId);
  const forced = s.faults.forced429;
  if (forced && now < forced.untilMs) {
    counters.rateLimited += 1;
    sendError(
      res,
      429,
      'rate_limited',
      'Too many requests (forced 429 period); wait for Retry-After and try again.',
      {},
      {
        'Retry-After': String(forced.retryAfterSeconds),
      },
    );
    return false;
  }
  const decision = ctx.limiter.hit(caller.tenantId, cls, s.limits[cls], s.limits.windowMs, now);
  if (!decision.allowed) {
    counters.rateLimited += 1;
    sendError(
      res,
      429,
      'rate_limited',
      `Rate limit of ${s.limits[cls]} ${cls} requests per ${Math.ceil(s.limits.windowMs / 1000)} s reached; retry after ${decision.retryAfterSeconds} s.`,
      {},
      decision.headers,
    );
    return false;
  }
  counters[cls] += 1;
  Object.assign(headers, decision.headers);
  return true;
}

/** Configured accounts by workspace, built once per accounts setting (every create looks its account up). */
const accountIndexes = new WeakMap<object, Map<string, StoredAccount[]>>();

function accountsOf(ctx: SandboxContext, tenantId: string, workspaceId: string): readonly StoredAccount[] {
  const accounts = ctx.settings().accounts;
  if (accounts === 'auto') return ctx.store.autoAccountsOf(tenantId, workspaceId);
  let index = accountIndexes.get(accounts);
  if (!index) {
    index = new Map();
    for (const a of accounts) {
      const list = index.get(a.workspaceId) ?? [];
      list.push({
        ...a,
        platform: a.platform === 'x' ? 'twitter' : a.platform,
        displayName: a.displayName ?? a.username,
      });
      index.set(a.workspaceId, list);
    }
    accountIndexes.set(accounts, index);
  }
  return index.get(workspaceId) ?? [];
}

/** Finds the post's account, or says why it cannot be used; `create` adds it in demo mode. */
function resolveAccount(
  call: Call,
  accountId: string,
  platform: string,
): { ok: true; create?: StoredAccount } | { ok: false; error: PlatformRuleError } {
  const { ctx, caller, workspaceId } = call;
  const auto = ctx.settings().accounts === 'auto';
  const existing = auto
    ? ctx.store.autoAccount(caller.tenantId, workspaceId, accountId)
    : accountsOf(ctx, caller.tenantId, workspaceId).find((a) => a.id === accountId);
  if (!existing) {
    if (auto) {
      const username = `sandbox_${accountId.replace(/[^A-Za-z0-9_]/g, '').slice(-12) || 'user'}`;
      return {
        ok: true,
        create: {
          id: accountId,
          workspaceId,
          platform,
          username,
          displayName: `Sandbox ${platform} ${accountId}`,
          status: 'connected',
        },
      };
    }
    return {
      ok: false,
      error: {
        field: 'accountId',
        code: 'account_not_found',
        platform,
        message: `account ${accountId} is not connected to workspace ${workspaceId}`,
      },
    };
  }
  if (existing.platform !== platform) {
    return {
      ok: false,
      error: {
        field: 'accountId',
        code: 'account_platform_mismatch',
        platform,
        message: `account ${accountId} is a ${existing.platform} account, not ${platform}`,
      },
    };
  }
  return { ok: true };
}

function buildItems(
  ctx: SandboxContext,
  content: SandboxContentItem[],
  status: SandboxPost['status'],
): SandboxPost['items'] {
  return content.map((c, index) => ({ id: ctx.newId('itm'), index, text: c.text, status }));
}

async function createPost(call: Call): Promise<void> {
  const { ctx, caller, res } = call;
  const s = ctx.settings();
  const fault = chooseFault(ctx.random(), s.faults);
  if (fault === 'error5xx') {
    sendError(
      res,
      503,
      'service_unavailable',
      'Postato is temporarily unavailable (simulated); retry with backoff.',
      {},
      call.headers,
    );
    return;
  }
  const keyHeader = call.req.headers['idempotency-key'];
  const key = typeof keyHeader === 'string' && keyHeader.trim() !== '' ? keyHeader.trim() : undefined;
  if (!key && s.idempotencyMode === 'strict') {
    ctx.store.countersOf(caller.tenantId).validationFailed += 1;
    sendError(
      res,
      400,
      'idempotency_key_required',
      'Send an Idempotency-Key header with every create.',
      {},
      call.headers,
    );
    return;
  }
  const parsed = parseBody(call);
  if (!parsed.ok) return;
  const canonical = canonicalJson(parsed.value);
  if (key) {
    const found = ctx.idempotency.lookup(caller.tenantId, key, canonical, ctx.clock.now(), s.idempotencyRetentionMs);
    if (found.kind === 'in_flight') {
      sendError(
        res,
        409,
        'idempotency_key_in_use',
        'A request with this Idempotency-Key is still in flight; retry later with the same key.',
        {},
        {
          ...call.headers,
          'Retry-After': '1',
        },
      );
      return;
    }
    if (found.kind === 'replay') {
      if (!found.sameBody && s.idempotencyMode === 'strict') {
        ctx.store.countersOf(caller.tenantId).validationFailed += 1;
        sendError(
          res,
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different body; use a new key for new content.',
          {},
          call.headers,
        );
        return;
      }
      ctx.store.countersOf(caller.tenantId).replayed += 1;
      sendJsonText(res, found.status, found.bodyText, { ...call.headers, 'Idempotent-Replayed': 'true' });
      return;
    }
  }
  const checked = checkCreateBody(parsed.value, ctx.clock.now());
  if (!checked.ok) return invalid(call, checked.details);
  const input = checked.value;
  const account = resolveAccount(call, input.accountId, input.platform);
  if (!account.ok) return unprocessable(call, [account.error]);
  // Media must exist and be confirmed whatever validateAt says: it is the caller's upload, not a platform rule.
  const media = checkMediaRefs(call, input.platform, input.content);
  if (media.errors.length) return unprocessable(call, media.errors);
  if (s.validateAt === 'create') {
    const errors = checkPlatformRules({ ...input, content: media.typed });
    if (errors.length) return unprocessable(call, errors);
  }
  if (key) ctx.idempotency.begin(caller.tenantId, key, canonical, ctx.clock.now());
  if (fault === 'hang') {
    try {
      await ctx.wait(s.faults.hangMs);
    } catch (err) {
      if (key) ctx.idempotency.abort(caller.tenantId, key);
      throw err;
    }
  }
  const now = ctx.clock.now();
  if (account.create) ctx.store.createAutoAccount(caller.tenantId, account.create);
  confirmOnUse(call, media.toConfirm);
  const status: SandboxPost['status'] =
    input.status === 'draft' ? 'draft' : input.scheduledAt !== null ? 'scheduled' : 'queued';
  const iso = new Date(now).toISOString();
  const post: SandboxPost = {
    id: ctx.newId('pst'),
    status,
    platform: input.platform,
    accountId: input.accountId,
    postType: input.postType,
    content: input.content,
    ...(input.media ? { media: input.media } : {}),
    ...(input.options ? { options: input.options } : {}),
    scheduledAt: input.scheduledAt,
    createdAt: iso,
    updatedAt: iso,
    items: buildItems(ctx, input.content, status),
  };
  const dueAt =
    status === 'queued'
      ? now + s.deliveryStepMs
      : status === 'scheduled'
        ? Date.parse(input.scheduledAt as string)
        : null;
  const stored = ctx.store.addPost({
    post,
    tenantId: caller.tenantId,
    workspaceId: call.workspaceId,
    idempotencyKey: key,
    dueAt,
  });
  const gate = status === 'draft' ? null : matchPolicy(s, caller, call.workspaceId, post.platform);
  if (gate) requestApproval(stored, gate, ctx.newId('apr'), { now, emit: ctx.emit });
  else if (status !== 'draft') ctx.emit(stored, status === 'scheduled' ? 'post.scheduled' : 'post.queued');
  // Serialised once: the answer, and the reply a retry with the same key gets even after the post changes.
  const bodyText = JSON.stringify(post);
  if (key) ctx.idempotency.complete(caller.tenantId, key, 201, bodyText, post.id, now);
  if (fault === 'dropAfterStore') {
    // The post exists and the key is stored, but the client never hears so: the "unknown outcome" case.
    res.socket?.destroy();
    return;
  }
  sendJsonText(res, 201, bodyText, call.headers);
}

const POST_STATUSES = [
  'draft',
  'pending_approval',
  'scheduled',
  'queued',
  'publishing',
  'published',
  'failed',
  'rejected',
  'cancelled',
] as const;
const listQuerySchema = z.object({
  status: z.enum(POST_STATUSES).optional(),
  platform: z.enum(['instagram', 'twitter', 'x', 'linkedin', 'tiktok', 'youtube']).optional(),
  postType: z.string().min(1).optional(),
  accountId: z.string().min(1).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
});

function listPosts(call: Call): void {
  const parsed = listQuerySchema.safeParse(Object.fromEntries(call.query));
  if (!parsed.success) {
    return invalid(
      call,
      issuesToFieldDetails(parsed.error.issues, '_query'),
      'The query parameters are invalid; see details.',
    );
  }
  const q = parsed.data;
  const platform = q.platform === 'x' ? 'twitter' : q.platform;
  const all = call.ctx.store
    .postsOf(call.caller.tenantId, call.workspaceId)
    .map((p) => p.post)
    .filter((p) => (q.status ? p.status === q.status : p.status !== 'cancelled'))
    .filter((p) => !platform || p.platform === platform)
    .filter((p) => !q.postType || p.postType === q.postType)
    .filter((p) => !q.accountId || p.accountId === q.accountId);
  const start = (q.page - 1) * q.pageSize;
  sendJson(
    call.res,
    200,
    {
      items: all.slice(start, start + q.pageSize),
      page: q.page,
      pageSize: q.pageSize,
      total: all.length,
      totalPages: Math.ceil(all.length / q.pageSize),
    },
    call.headers,
  );
}

function getPost(call: Call, postId: string): void {
  const found = call.ctx.store.findPost(call.caller.tenantId, call.workspaceId, postId);
  if (!found) return notFound(call, `Post ${postId}`);
  sendJson(call.res, 200, found.post, call.headers);
}

function updatePost(call: Call, postId: string): void {
  const { ctx } = call;
  const found = ctx.store.findPost(call.caller.tenantId, call.workspaceId, postId);
  if (!found) return notFound(call, `Post ${postId}`);
  const post = found.post;
  if (!EDITABLE.has(post.status)) {
    sendError(
      call.res,
      409,
      'not_editable',
      `Post ${postId} is ${post.status}; only draft and scheduled posts can be changed.`,
      {},
      call.headers,
    );
    return;
  }
  const parsed = parseBody(call);
  if (!parsed.ok) return;
  const now = ctx.clock.now();
  const checked = checkUpdateBody(parsed.value ?? {}, now);
  if (!checked.ok) return invalid(call, checked.details);
  const patch = checked.value;
  let content = patch.content ?? post.content;
  if (patch.media !== undefined && patch.content === undefined) {
    if (content.length !== 1)
      return invalid(call, {
        media: ['top-level media needs single-item content; send content items with their own media'],
      });
    content = [{ text: content[0]?.text ?? '', media: patch.media }];
  }
  const target = patch.status === 'publish' ? 'queued' : (patch.status ?? post.status);
  const scheduledAt = patch.scheduledAt ?? post.scheduledAt;
  if (target === 'scheduled') {
    if (scheduledAt === null) return invalid(call, { scheduledAt: ['is required when status is "scheduled"'] });
    const s = checkScheduledAt(scheduledAt, now);
    if (!s.ok) return invalid(call, { scheduledAt: [s.message] });
  }
  const contentChanged = patch.content !== undefined || patch.media !== undefined;
  const media = contentChanged || target !== 'draft' ? checkMediaRefs(call, post.platform, content) : null;
  if (media?.errors.length) return unprocessable(call, media.errors);
  if (target !== 'draft' && ctx.settings().validateAt === 'create') {
    const errors = checkPlatformRules({
      platform: post.platform,
      postType: post.postType,
      content: media?.typed ?? content,
      options: post.options,
    });
    if (errors.length) return unprocessable(call, errors);
  }
  if (media) confirmOnUse(call, media.toConfirm);
  const changedStatus = target !== post.status;
  if (contentChanged) {
    post.content = content;
    if (patch.media !== undefined) post.media = patch.media;
    post.items = buildItems(ctx, content, post.status);
  }
  post.scheduledAt = scheduledAt;
  // A draft leaving for delivery passes the approval gate, as a create would.
  const gate =
    post.status === 'draft' && target !== 'draft'
      ? matchPolicy(ctx.settings(), call.caller, call.workspaceId, post.platform)
      : null;
  if (gate) {
    requestApproval(found, gate, ctx.newId('apr'), { now, emit: ctx.emit });
    return sendJson(call.res, 200, post, call.headers);
  }
  setStatus(post, target as SandboxPost['status'], now);
  // Editing a scheduled post re-enqueues it at its (maybe new) time.
  found.dueAt =
    target === 'queued'
      ? now + ctx.settings().deliveryStepMs
      : target === 'scheduled'
        ? Date.parse(scheduledAt as string)
        : null;
  if (changedStatus && target === 'scheduled') ctx.emit(found, 'post.scheduled');
  if (changedStatus && target === 'queued') ctx.emit(found, 'post.queued');
  sendJson(call.res, 200, post, call.headers);
}

function cancelPost(call: Call, postId: string): void {
  const found = call.ctx.store.findPost(call.caller.tenantId, call.workspaceId, postId);
  if (!found) return notFound(call, `Post ${postId}`);
  if (!CANCELLABLE.has(found.post.status)) {
    sendError(
      call.res,
      404,
      'not_found',
      `Post ${postId} is ${found.post.status} and can no longer be cancelled.`,
      {},
      call.headers,
    );
    return;
  }
  setStatus(found.post, 'cancelled', call.ctx.clock.now());
  found.dueAt = null;
  sendJson(call.res, 200, { success: true }, call.headers);
}

function listAccounts(call: Call): void {
  if (!call.ctx.settings().accountsEndpoint) {
    sendError(call.res, 404, 'not_found', 'No route GET /v1/workspaces/{workspaceId}/accounts.', {}, call.headers);
    return;
  }
  const items = accountsOf(call.ctx, call.caller.tenantId, call.workspaceId).map((a) => ({
    id: a.id,
    platform: a.platform,
    username: a.username,
    displayName: a.displayName,
    status: a.status,
  }));
  sendJson(call.res, 200, { items }, call.headers);
}

const webhookSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'name at least one event'),
});

function registerWebhook(call: Call): void {
  const parsed = parseBody(call);
  if (!parsed.ok) return;
  const checked = webhookSchema.safeParse(parsed.value);
  if (!checked.success) return invalid(call, issuesToFieldDetails(checked.error.issues));
  const hook = {
    id: call.ctx.newId('whk'),
    tenantId: call.caller.tenantId,
    workspaceId: call.workspaceId,
    url: checked.data.url,
    events: checked.data.events,
    secret: `whsec_${randomBytes(24).toString('hex')}`,
  };
  call.ctx.store.webhooks.push(hook);
  sendJson(call.res, 201, { id: hook.id, url: hook.url, events: hook.events, secret: hook.secret }, call.headers);
}

function listWorkspaces(
  ctx: SandboxContext,
  res: ServerResponse,
  caller: Caller,
  headers: Record<string, string>,
): void {
  const seen = ctx.store.workspaces.get(caller.tenantId);
  const ids =
    caller.workspaceIds === 'any' ? (seen && seen.size ? [...seen.keys()] : ['wks_demo']) : caller.workspaceIds;
  const items = ids.map((id) => {
    const accounts = accountsOf(ctx, caller.tenantId, id);
    const created = new Date(seen?.get(id) ?? ctx.clock.now()).toISOString();
    return {
      id,
      name: `Sandbox workspace ${id}`,
      createdAt: created,
      updatedAt: created,
      connectedAccountCount: accounts.filter((a) => a.status === 'connected').length,
      connectedPlatforms: [...new Set(accounts.filter((a) => a.status === 'connected').map((a) => a.platform))],
      memberCount: 1,
      recentPostCount: ctx.store.postsOf(caller.tenantId, id).length,
    };
  });
  sendJson(res, 200, { items }, headers);
}

type Route =
  | 'workspaces'
  | 'accounts'
  | 'posts'
  | 'post'
  | 'webhooks'
  | 'approvals'
  | 'approval'
  | 'decision'
  | 'mediaList'
  | 'uploadUrl'
  | 'mediaItem'
  | 'mediaConfirm';

const ALLOWED: Record<Route, string[]> = {
  workspaces: ['GET'],
  accounts: ['GET'],
  posts: ['GET', 'POST'],
  post: ['GET', 'PATCH', 'DELETE'],
  webhooks: ['POST'],
  approvals: ['GET'],
  approval: ['GET'],
  decision: ['POST'],
  mediaList: ['GET'],
  uploadUrl: ['POST'],
  mediaItem: ['GET', 'DELETE'],
  mediaConfirm: ['POST'],
};

const ACTIONS: ReadonlySet<string> = new Set<ApprovalAction>(['approve', 'reject', 'request-changes']);

/** Maps path parts ['v1', 'workspaces', ws?, resource?, id?, action?] to a route, or null. */
function matchRoute(parts: string[]): Route | null {
  if (parts[1] !== 'workspaces') return null;
  if (parts.length === 2) return 'workspaces';
  const [, , ws, resource, id, action] = parts;
  if (!ws || !resource) return null;
  if (parts.length === 4) {
    if (resource === 'accounts' || resource === 'posts' || resource === 'webhooks' || resource === 'approvals')
      return resource;
    if (resource === 'media') return 'mediaList';
    return null;
  }
  if (parts.length === 5 && id) {
    if (resource === 'posts') return 'post';
    if (resource === 'approvals') return 'approval';
    if (resource === 'media') return id === 'upload-url' ? 'uploadUrl' : 'mediaItem';
    return null;
  }
  if (parts.length === 6 && id && resource === 'approvals' && action && ACTIONS.has(action)) return 'decision';
  if (parts.length === 6 && id && resource === 'media' && action === 'confirm') return 'mediaConfirm';
  return null;
}

/**
 * Counts the request among its tenant's requests in flight until its answer is sent (or the connection drops), so
 * tests can see the most a client ever had open at once for one tenant.
 */
function countInFlight(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse): void {
  const found = callerOf(ctx, req);
  if ('refusal' in found) return;
  let lane = ctx.store.inFlight.get(found.tenantId);
  if (!lane) {
    lane = { now: 0, max: 0 };
    ctx.store.inFlight.set(found.tenantId, lane);
  }
  const counted = lane;
  counted.now += 1;
  counted.max = Math.max(counted.max, counted.now);
  res.once('close', () => {
    counted.now -= 1;
  });
}

/** Handles one /v1 request (the caller has checked the path starts with /v1/). */
export async function handleApiRequest(
  ctx: SandboxContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = req.method ?? 'GET';
  const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  countInFlight(ctx, req, res);
  const rawBody = await readRawBody(req);
  const latency = ctx.settings().faults.latencyMs;
  if (latency > 0) await ctx.wait(latency);
  const ws = parts[2];
  const id = parts[4] as string;
  const route = matchRoute(parts);
  if (!route) return sendError(res, 404, 'not_found', `No route ${method} ${url.pathname}.`);
  const allowed = ALLOWED[route];
  if (!allowed.includes(method)) {
    return sendError(
      res,
      405,
      'method_not_allowed',
      `${method} is not allowed on ${url.pathname}; use ${allowed.join(' or ')}.`,
      {},
      { Allow: allowed.join(', ') },
    );
  }
  const caller = authenticate(ctx, req, res);
  if (!caller) return;
  if (ws && caller.workspaceIds !== 'any' && !caller.workspaceIds.includes(ws)) {
    sendError(
      res,
      403,
      'permission_denied',
      `This API key may not use workspace ${ws}; grant the agent access to it in Postato.`,
      {
        required: `workspace:${ws}`,
        granted: caller.workspaceIds.map((w) => `workspace:${w}`),
      },
    );
    return;
  }
  const isCreate = route === 'posts' && method === 'POST';
  const headers: Record<string, string> = {};
  const isMediaPost = route === 'uploadUrl' || route === 'mediaConfirm';
  if (!admit(ctx, res, caller, rateClass(method, isCreate, isMediaPost), headers)) return;
  if (route === 'workspaces') return listWorkspaces(ctx, res, caller, headers);
  ctx.store.touchWorkspace(caller.tenantId, ws as string, ctx.clock.now());
  const call: Call = { ctx, req, res, caller, workspaceId: ws as string, rawBody, query: url.searchParams, headers };
  switch (route) {
    case 'accounts':
      return listAccounts(call);
    case 'webhooks':
      return registerWebhook(call);
    case 'posts':
      return method === 'POST' ? createPost(call) : listPosts(call);
    case 'approvals':
      return listApprovals(call);
    case 'approval':
      return getApproval(call, id);
    case 'decision':
      return decideOverRest(call, id, parts[5] as ApprovalAction);
    case 'mediaList':
      return listMedia(call);
    case 'uploadUrl':
      return createUploadUrl(call);
    case 'mediaConfirm':
      return confirmMedia(call, id);
    case 'mediaItem':
      return method === 'GET' ? getMedia(call, id) : deleteMedia(call, id);
    case 'post':
      if (method === 'GET') return getPost(call, id);
      if (method === 'PATCH') return updatePost(call, id);
      return cancelPost(call, id);
  }
}
