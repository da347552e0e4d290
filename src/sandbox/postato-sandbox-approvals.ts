/**
 * Approval policies of the Postato sandbox (postato-api.md §14): which creations a workspace policy holds back as
 * `pending_approval`, the reviewer's decision (approve → queued/scheduled, reject → rejected, request changes →
 * draft, expiry → rejected), their webhook events, and the REST routes under /v1/workspaces/{ws}/approvals.
 */
import { z } from 'zod';
import { sendError, sendJson } from './postato-sandbox-http';
import {
  issuesToFieldDetails,
  invalid,
  notFound,
  parseBody,
  requirePermission,
  type Call,
  type Caller,
} from './postato-sandbox-call';
import type { SandboxApprovalPolicy, SandboxSettings } from './postato-sandbox-settings';
import {
  approvalView,
  setStatus,
  type SandboxApprovalStatus,
  type SandboxPost,
  type StoredPost,
} from './postato-sandbox-store';
import type { WebhookEventType } from './postato-sandbox-webhooks';

/** A reviewer's action, as the REST path and the sandbox admin endpoint name it. */
export type ApprovalAction = 'approve' | 'reject' | 'request-changes';

/** The approval state each action leads to (also the `decision` of `approval.decided`). */
export const DECISION_OF: Record<ApprovalAction, Exclude<SandboxApprovalStatus, 'pending' | 'expired'>> = {
  approve: 'approved',
  reject: 'rejected',
  'request-changes': 'changes_requested',
};

/** What deciding needs from the sandbox. */
export interface ApprovalDeps {
  now: number;
  stepMs: number;
  emit(stored: StoredPost, type: WebhookEventType, extra?: Record<string, unknown>): void;
}

/** The first policy that holds this caller's post on this platform in this workspace, or null. */
export function matchPolicy(
  settings: SandboxSettings,
  caller: Pick<Caller, 'kind' | 'permissions'>,
  workspaceId: string,
  platform: string,
): { policy: SandboxApprovalPolicy; id: string } | null {
  if (caller.permissions.has('approvals.bypass')) return null;
  const index = settings.approvalPolicies.findIndex((p) => {
    if (p.workspaceId !== undefined && p.workspaceId !== workspaceId) return false;
    const authors = p.authors ?? 'all';
    if (authors === 'agents' && caller.kind !== 'agent') return false;
    if (authors === 'users' && caller.kind !== 'user') return false;
    if (p.platforms && !p.platforms.map((x) => (x === 'x' ? 'twitter' : x)).includes(platform)) return false;
    return true;
  });
  if (index < 0) return null;
  const policy = settings.approvalPolicies[index] as SandboxApprovalPolicy;
  return { policy, id: policy.id ?? `policy_${index + 1}` };
}

/** Puts a post into `pending_approval` with a new approval record and fires `approval.requested`. */
export function requestApproval(
  stored: StoredPost,
  match: { policy: SandboxApprovalPolicy; id: string },
  approvalId: string,
  deps: Pick<ApprovalDeps, 'now' | 'emit'>,
): void {
  const requestedAt = new Date(deps.now).toISOString();
  stored.post.approval = {
    id: approvalId,
    status: 'pending',
    policyId: match.id,
    requestedAt,
    decidedAt: null,
    reviewerId: null,
    comment: null,
  };
  setStatus(stored.post, 'pending_approval', deps.now);
  // The lifecycle expires an undecided approval at dueAt; without an expiry nothing is due.
  stored.dueAt = match.policy.expiresAfterMs !== undefined ? deps.now + match.policy.expiresAfterMs : null;
  deps.emit(stored, 'approval.requested', { approvalId, policyId: match.id, requestedAt });
}

/** Result of a decision: the approval as listed, or why it could not be made. */
export type DecisionResult =
  { ok: true; approval: Record<string, unknown> } | { ok: false; status: 404 | 409; error: string; message: string };

/**
 * Applies a decision to a post waiting for approval. Approved posts go to `scheduled` when their time is still ahead,
 * else `queued`; rejected and expired ones end `rejected`; "request changes" sends them back to `draft`, and leaving
 * draft for delivery asks for a new approval.
 */
export function applyDecision(
  stored: StoredPost,
  decision: Exclude<SandboxApprovalStatus, 'pending'>,
  reviewerId: string | null,
  comment: string | null,
  deps: ApprovalDeps,
): DecisionResult {
  const post = stored.post;
  const approval = post.approval;
  if (!approval || post.status === 'cancelled') {
    return { ok: false, status: 404, error: 'not_found', message: `Post ${post.id} has no approval to decide.` };
  }
  if (approval.status !== 'pending' || post.status !== 'pending_approval') {
    return {
      ok: false,
      status: 409,
      error: 'already_decided',
      message: `Approval ${approval.id} was already decided (${approval.status}); decisions cannot be changed.`,
    };
  }
  Object.assign(approval, { status: decision, decidedAt: new Date(deps.now).toISOString(), reviewerId, comment });
  let next: SandboxPost['status'];
  if (decision === 'approved') {
    const at = post.scheduledAt === null ? null : Date.parse(post.scheduledAt);
    next = at !== null && at > deps.now ? 'scheduled' : 'queued';
    stored.dueAt = next === 'scheduled' ? (at as number) : deps.now + deps.stepMs;
  } else {
    next = decision === 'changes_requested' ? 'draft' : 'rejected';
    stored.dueAt = null;
  }
  setStatus(post, next, deps.now);
  deps.emit(stored, 'approval.decided', { approvalId: approval.id, decision, reviewerId, comment });
  if (next === 'scheduled') deps.emit(stored, 'post.scheduled');
  if (next === 'queued') deps.emit(stored, 'post.queued');
  return { ok: true, approval: approvalView(stored) as Record<string, unknown> };
}

const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'changes_requested', 'expired'] as const;
const listQuerySchema = z.object({
  status: z.enum(APPROVAL_STATUSES).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
});

/** GET /approvals: the workspace's approvals, newest first (reviewers only: needs posts.approve). */
export function listApprovals(call: Call): void {
  if (!requirePermission(call, 'posts.approve')) return;
  const parsed = listQuerySchema.safeParse(Object.fromEntries(call.query));
  if (!parsed.success) {
    return invalid(call, issuesToFieldDetails(parsed.error.issues, '_query'), 'The query parameters are invalid.');
  }
  const q = parsed.data;
  const all = call.ctx.store
    .postsOf(call.caller.tenantId, call.workspaceId)
    .filter((p) => p.post.approval && p.post.status !== 'cancelled')
    .filter((p) => !q.status || p.post.approval?.status === q.status)
    .map((p) => approvalView(p));
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

/** GET /approvals/{id}: one approval (its author may read it too, like MCP get_approval_status). */
export function getApproval(call: Call, approvalId: string): void {
  const stored = call.ctx.store.findPostByApproval(call.caller.tenantId, call.workspaceId, approvalId);
  if (!stored || stored.post.status === 'cancelled') return notFound(call, `Approval ${approvalId}`);
  sendJson(call.res, 200, approvalView(stored), call.headers);
}

const decideBodySchema = z.object({ comment: z.string().max(2000).optional() }).strict();

/** POST /approvals/{id}/approve|reject|request-changes with an optional `{comment}` (needs posts.approve). */
export function decideOverRest(call: Call, approvalId: string, action: ApprovalAction): void {
  if (!requirePermission(call, 'posts.approve')) return;
  const stored = call.ctx.store.findPostByApproval(call.caller.tenantId, call.workspaceId, approvalId);
  if (!stored) return notFound(call, `Approval ${approvalId}`);
  const parsed = parseBody(call);
  if (!parsed.ok) return;
  const body = decideBodySchema.safeParse(parsed.value ?? {});
  if (!body.success) return invalid(call, issuesToFieldDetails(body.error.issues));
  const result = applyDecision(stored, DECISION_OF[action], call.caller.actorId, body.data.comment ?? null, {
    now: call.ctx.clock.now(),
    stepMs: call.ctx.settings().deliveryStepMs,
    emit: call.ctx.emit,
  });
  if (!result.ok) return sendError(call.res, result.status, result.error, result.message, {}, call.headers);
  sendJson(call.res, 200, result.approval, call.headers);
}
