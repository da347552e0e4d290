/**
 * What every /v1 handler of the Postato sandbox works with: the sandbox context, the authenticated caller, one call,
 * and the shared error answers (400 with field details, 422 platform rules, 404, 403 missing permission).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock';
import type { SandboxRandom } from './postato-sandbox-faults';
import { parseJson, sendError } from './postato-sandbox-http';
import type { SandboxIdempotencyStore } from './postato-sandbox-idempotency';
import type { SandboxRateLimiter } from './postato-sandbox-rate-limit';
import type { SandboxSettings } from './postato-sandbox-settings';
import type { SandboxStore, StoredPost } from './postato-sandbox-store';
import type { FieldDetails, PlatformRuleError } from './postato-sandbox-validation';
import type { WebhookEventType } from './postato-sandbox-webhooks';

/** What the routes need from the sandbox. */
export interface SandboxContext {
  settings(): SandboxSettings;
  clock: Clock;
  store: SandboxStore;
  idempotency: SandboxIdempotencyStore;
  limiter: SandboxRateLimiter;
  random(): SandboxRandom;
  /** Queues a webhook event about a post; `extra` adds fields to `data` (approval decisions). */
  emit(stored: StoredPost, type: WebhookEventType, extra?: Record<string, unknown>): void;
  newId(prefix: string): string;
  /** Waits real time; rejects when the sandbox closes. */
  wait(ms: number): Promise<void>;
  /** Base URL of the second loopback server that takes media PUTs. */
  uploadBaseUrl(): string;
}

/** The caller behind an API key. */
export interface Caller {
  tenantId: string;
  workspaceIds: string[] | 'any';
  /** Agents hold keys made under Agents; users are humans (dashboard sessions, personal keys). */
  kind: 'agent' | 'user';
  /** The agent or user id, shown as `reviewerId` when this caller decides an approval. */
  actorId: string;
  permissions: ReadonlySet<string>;
}

/** One authenticated request to a workspace route. */
export interface Call {
  ctx: SandboxContext;
  req: IncomingMessage;
  res: ServerResponse;
  caller: Caller;
  workspaceId: string;
  rawBody: string;
  query: URLSearchParams;
  /** RateLimit headers to add to the answer. */
  headers: Record<string, string>;
}

/** 400 INVALID_REQUEST with per-field details (counted as a validation failure). */
export function invalid(
  call: Call,
  details: FieldDetails,
  message = 'The request body failed validation; see details.',
): void {
  call.ctx.store.countersOf(call.caller.tenantId).validationFailed += 1;
  sendError(call.res, 400, 'INVALID_REQUEST', message, { details }, call.headers);
}

/** 422 VALIDATION_FAILED listing each broken rule (counted as a validation failure). */
export function unprocessable(call: Call, errors: PlatformRuleError[]): void {
  call.ctx.store.countersOf(call.caller.tenantId).validationFailed += 1;
  const message = `The post breaks ${errors.length} rule(s): ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`;
  sendError(call.res, 422, 'VALIDATION_FAILED', message, { errors }, call.headers);
}

/** 404 not_found naming what is missing. */
export function notFound(call: Call, what: string): void {
  sendError(call.res, 404, 'not_found', `${what} was not found in workspace ${call.workspaceId}.`, {}, call.headers);
}

/** 403 permission_denied in the create-post page's shape `{required, granted}`; returns false when denied. */
export function requirePermission(call: Call, permission: string): boolean {
  if (call.caller.permissions.has(permission)) return true;
  sendError(
    call.res,
    403,
    'permission_denied',
    `This API key lacks the ${permission} permission; ask a workspace admin to grant it.`,
    { required: permission, granted: [...call.caller.permissions].sort() },
    call.headers,
  );
  return false;
}

/** Parses the JSON body, answering 400 when it is not JSON. */
export function parseBody(call: Call): { ok: true; value: unknown } | { ok: false } {
  const parsed = parseJson(call.rawBody);
  if (!parsed.ok) invalid(call, { _body: ['is not valid JSON'] }, 'The request body is not valid JSON.');
  return parsed;
}

/** zod issues → `details` of a 400. */
export function issuesToFieldDetails(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, root = '_body') {
  const details: FieldDetails = {};
  for (const issue of issues) (details[issue.path.map(String).join('.') || root] ??= []).push(issue.message);
  return details;
}
