/**
 * PostatoError and the mapping from Postato's answers (status + `error` code, postato-api.md §2 and §16) or from a
 * failed exchange (timeout, dropped connection) to stable codes, each with a sentence a campaign manager can act on.
 */
import { AppError } from '../errors';
import { errorEnvelopeSchema, type ErrorEnvelope } from './postato-schemas';
import { redactText, redactValue } from './redact';

/** The stable codes callers branch on. */
export type PostatoErrorCode =
  | 'invalid_request'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'not_editable'
  | 'conflict'
  | 'rate_limited'
  | 'idempotency_key_reused'
  | 'idempotency_key_in_use'
  | 'upstream_unavailable'
  | 'timeout'
  | 'network'
  | 'unexpected_response'
  | 'too_many_pages';

/** One platform rule that failed (a 422 `errors[]` entry). */
export interface PlatformError {
  field: string;
  message: string;
  platform?: string;
  code?: string;
}

/** Codes whose request may be repeated unchanged (subject to the retry policy). */
const RETRYABLE: ReadonlySet<PostatoErrorCode> = new Set([
  'rate_limited',
  'idempotency_key_in_use',
  'upstream_unavailable',
  'timeout',
  'network',
]);

/** The HTTP status this service answers with if a PostatoError reaches the error handler. */
const OUR_STATUS: Record<PostatoErrorCode, number> = {
  invalid_request: 422,
  validation_failed: 422,
  unauthorized: 400,
  forbidden: 400,
  not_found: 404,
  not_editable: 409,
  conflict: 409,
  rate_limited: 503,
  idempotency_key_reused: 409,
  idempotency_key_in_use: 409,
  upstream_unavailable: 502,
  timeout: 504,
  network: 502,
  unexpected_response: 502,
  too_many_pages: 502,
};

/** Fields of a PostatoError besides its code and message. */
export interface PostatoErrorInit {
  httpStatus?: number;
  retryAfterMs?: number;
  fieldErrors?: Record<string, string[]>;
  platformErrors?: PlatformError[];
  outcomeUnknown?: boolean;
  postatoCode?: string;
  userMessage: string;
  cause?: unknown;
}

/** A failed Postato call, with a stable code and everything a caller needs to decide what to do next. */
export class PostatoError extends AppError {
  declare readonly code: PostatoErrorCode;
  /** Status Postato answered with; absent for timeouts and network errors. */
  readonly httpStatus?: number;
  /** Parsed Retry-After, in milliseconds from when the answer arrived. */
  readonly retryAfterMs?: number;
  /** `invalid_request` details: field → messages. */
  readonly fieldErrors?: Record<string, string[]>;
  /** `validation_failed` details: one entry per failed platform rule. */
  readonly platformErrors?: PlatformError[];
  /** True when a write may have been applied although no answer said so: replay the exact same request. */
  outcomeUnknown: boolean;
  /** How many attempts the call made before giving up (set by the client). */
  attempts?: number;
  /** Postato's own `error` string (e.g. account_not_found, policy_violation). */
  readonly postatoCode?: string;
  /** A sentence a campaign manager understands. */
  readonly userMessage: string;

  constructor(code: PostatoErrorCode, message: string, init: PostatoErrorInit) {
    super(code, message, {
      status: OUR_STATUS[code],
      retryable: RETRYABLE.has(code),
      cause: init.cause,
      details: compact({
        postatoCode: init.postatoCode,
        fieldErrors: init.fieldErrors,
        platformErrors: init.platformErrors,
      }),
    });
    this.httpStatus = init.httpStatus;
    this.retryAfterMs = init.retryAfterMs;
    this.fieldErrors = init.fieldErrors;
    this.platformErrors = init.platformErrors;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.postatoCode = init.postatoCode;
    this.userMessage = init.userMessage;
  }
}

function compact(o: Record<string, unknown>): Record<string, unknown> | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.keys(out).length ? out : undefined;
}

/** Codes that mean the request was refused for lack of rights, not for its content. */
const FORBIDDEN_CODES = new Set(['workspace_required', 'plan_inactive', 'policy_violation', 'permission_denied']);

/** What the client knows about the exchange that produced an error answer. */
export interface ResponseContext {
  method: string;
  /** Path without query string; never contains the key. */
  path: string;
  status: number;
  /** Raw response text (already read; may be empty or not JSON). */
  bodyText: string;
  retryAfterMs?: number;
  apiKey: string;
}

/** Parses an error body leniently: anything that is not the §2 envelope becomes an empty envelope. */
export function parseErrorBody(text: string, apiKey: string): ErrorEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  const parsed = errorEnvelopeSchema.safeParse(redactValue(json, apiKey));
  return parsed.success ? parsed.data : {};
}

function fieldErrorsOf(details: unknown): Record<string, string[]> | undefined {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [field, v] of Object.entries(details)) {
    if (Array.isArray(v)) out[field] = v.map(String);
    else if (typeof v === 'string') out[field] = [v];
  }
  return Object.keys(out).length ? out : undefined;
}

function formatFieldErrors(f: Record<string, string[]> | undefined): string {
  if (!f) return '';
  return Object.entries(f)
    .map(([field, msgs]) => `${field}: ${msgs.join(', ')}`)
    .join('; ');
}

/** Builds the PostatoError for a non-2xx answer. */
export function errorFromResponse(ctx: ResponseContext): PostatoError {
  const env = parseErrorBody(ctx.bodyText, ctx.apiKey);
  const postatoCode = env.error;
  const lc = postatoCode?.toLowerCase();
  const serverMessage = env.message ? redactText(env.message, ctx.apiKey) : undefined;
  const base = { httpStatus: ctx.status, retryAfterMs: ctx.retryAfterMs, postatoCode };
  const techMessage = (code: string) =>
    `Postato answered ${ctx.status}${postatoCode ? ` ${postatoCode}` : ''} to ${ctx.method} ${ctx.path} (${code})${serverMessage ? `: ${serverMessage}` : ''}`;
  const make = (code: PostatoErrorCode, userMessage: string, extra: Partial<PostatoErrorInit> = {}) =>
    new PostatoError(code, techMessage(code), { ...base, userMessage, ...extra });
  const s = ctx.status;

  if (lc && FORBIDDEN_CODES.has(lc) && (s === 400 || s === 403))
    return make('forbidden', forbiddenMessage(lc, env, serverMessage));
  if (s === 400) {
    const fieldErrors = fieldErrorsOf(env.details);
    const detail = formatFieldErrors(fieldErrors) || serverMessage || 'the request was malformed';
    return make('invalid_request', `Postato rejected the request: ${detail}. Fix the row and publish again.`, {
      fieldErrors,
    });
  }
  if (s === 401)
    return make(
      'unauthorized',
      'Postato did not accept the API key: check the Postato API key in Settings (it may have been revoked or mistyped).',
    );
  if (s === 403) return make('forbidden', forbiddenMessage(lc ?? 'permission_denied', env, serverMessage));
  if (s === 404)
    return make(
      'not_found',
      'Postato has no such post or workspace, or the API key cannot see it: check the workspace in Settings.',
    );
  if (s === 409 && lc === 'idempotency_key_in_use')
    return make(
      'idempotency_key_in_use',
      'An earlier attempt of this post is still being processed by Postato; it will be checked again shortly.',
      {
        outcomeUnknown: true,
      },
    );
  if (s === 409 && lc === 'not_editable')
    return make(
      'not_editable',
      'Postato can no longer change this post: only draft and scheduled posts can be edited or rescheduled.',
    );
  if (s === 409)
    return make(
      'conflict',
      `Postato refused the change because of the post's current state${serverMessage ? `: ${serverMessage}` : ''}.`,
    );
  if (s === 422 && lc === 'idempotency_key_reused')
    return make(
      'idempotency_key_reused',
      'Postato saw this post before with different content; the row was not sent again. Publish again to send the edited row.',
    );
  if (s === 422) {
    const platformErrors = (env.errors ?? []).map((e) => ({
      field: e.field ?? '',
      message: e.message ?? e.code ?? 'invalid',
      ...(e.platform ? { platform: e.platform } : {}),
      ...(e.code ? { code: e.code } : {}),
    }));
    const accountMissing = platformErrors.some((e) => e.code === 'account_not_found');
    const detail = platformErrors.map((e) => e.message).join(' ') || serverMessage || 'a platform rule failed.';
    const userMessage = accountMissing
      ? 'Postato has no such account in this workspace: check the account ID in the row (and that the account is connected in Postato).'
      : `Postato rejected the post: ${detail}`;
    return make('validation_failed', userMessage, {
      platformErrors: platformErrors.length ? platformErrors : undefined,
      postatoCode: accountMissing ? 'account_not_found' : postatoCode,
    });
  }
  if (s === 429)
    return make('rate_limited', 'Postato is rate limiting this account; the post will be sent when the limit resets.');
  if (s >= 500) return make('upstream_unavailable', 'Postato is temporarily unavailable; the post will be retried.');
  return make(
    'unexpected_response',
    `Postato gave an unexpected answer (HTTP ${s}); try again later or contact support.`,
  );
}

function forbiddenMessage(code: string, env: ErrorEnvelope, serverMessage?: string): string {
  switch (code) {
    case 'workspace_required':
      return 'The Postato API key reaches several workspaces: choose the workspace in Settings.';
    case 'plan_inactive':
      return 'The Postato subscription of this account is inactive: renew the plan in Postato, then publish again.';
    case 'policy_violation':
      return `A Postato workspace policy blocked this post${env.reason ? ` (${env.reason})` : serverMessage ? ` (${serverMessage})` : ''}: change the post or ask a workspace admin.`;
    default:
      return `The Postato API key is not allowed to do this${env.required ? ` (it needs ${env.required})` : ''}: ask a workspace admin to grant the permission.`;
  }
}

/** Builds the PostatoError for an exchange that produced no answer (timeout or connection failure). */
export function errorFromException(opts: {
  method: string;
  path: string;
  kind: 'timeout' | 'network';
  timeoutMs?: number;
  error?: unknown;
  /** Whether the request may have reached Postato and been applied. */
  mayHaveApplied: boolean;
  apiKey: string;
}): PostatoError {
  const where = `${opts.method} ${opts.path}`;
  const cause = opts.error === undefined ? undefined : sanitizeCause(opts.error, opts.apiKey);
  if (opts.kind === 'timeout')
    return new PostatoError('timeout', `Postato did not answer ${where} within ${opts.timeoutMs} ms`, {
      outcomeUnknown: opts.mayHaveApplied,
      userMessage: 'Postato did not answer in time; the post will be checked and retried.',
      cause,
    });
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new PostatoError('network', `Connection to Postato failed during ${where}${detail}`, {
    outcomeUnknown: opts.mayHaveApplied,
    userMessage: 'Postato could not be reached; the post will be checked and retried.',
    cause,
  });
}

/**
 * A key-free copy of a foreign exception (message, name, code and the nested cause's), so `cause` chains never
 * hold an object that might carry request headers.
 */
export function sanitizeCause(error: unknown, apiKey: string, depth = 0): Error {
  const e = error as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown } | null;
  const message = redactText(String(e?.message ?? error), apiKey);
  const nested = depth < 3 && e?.cause !== undefined ? sanitizeCause(e.cause, apiKey, depth + 1) : undefined;
  const copy = new Error(nested ? `${message} (${nested.message})` : message, nested ? { cause: nested } : undefined);
  copy.name = typeof e?.name === 'string' ? e.name : 'Error';
  if (typeof e?.code === 'string') (copy as Error & { code?: string }).code = e.code;
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

/** Connection errors that prove the request never left this machine, so even a write was not applied. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether a fetch failure certainly happened before the request was sent. */
export function failedBeforeSending(error: unknown): boolean {
  let e: unknown = error;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
