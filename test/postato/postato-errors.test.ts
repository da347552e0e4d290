import { randomBytes } from 'node:crypto';
import { errorFromException, errorFromResponse, failedBeforeSending } from '../../src/postato/postato-errors';

const apiKey = 'smcp_' + randomBytes(32).toString('hex');
const answer = (status: number, body: unknown, retryAfterMs?: number) =>
  errorFromResponse({
    method: 'POST',
    path: '/v1/workspaces/wks_1/posts',
    status,
    bodyText: typeof body === 'string' ? body : JSON.stringify(body),
    retryAfterMs,
    apiKey,
  });

describe('errorFromResponse', () => {
  it('maps 400 INVALID_REQUEST to invalid_request with the field details', () => {
    const e = answer(400, {
      error: 'INVALID_REQUEST',
      message: 'bad',
      details: { scheduledAt: ['must have a zone'], platform: ['unknown'] },
    });
    expect(e.code).toBe('invalid_request');
    expect(e.fieldErrors).toEqual({ scheduledAt: ['must have a zone'], platform: ['unknown'] });
    expect(e.userMessage).toContain('scheduledAt: must have a zone');
    expect(e.retryable).toBe(false);
    expect(e.httpStatus).toBe(400);
  });

  it('maps workspace_required (400 or 403), plan_inactive, policy_violation and permission_denied to forbidden, keeping the Postato code', () => {
    for (const [status, code] of [
      [400, 'workspace_required'],
      [403, 'workspace_required'],
      [403, 'plan_inactive'],
      [403, 'policy_violation'],
      [403, 'permission_denied'],
    ] as const) {
      const e = answer(status, { error: code, message: 'no' });
      expect(e.code).toBe('forbidden');
      expect(e.postatoCode).toBe(code);
    }
    expect(answer(403, { error: 'workspace_required' }).userMessage).toMatch(/workspace in Settings/);
    expect(
      answer(403, { error: 'policy_violation', facet: 'content', reason: 'agents need approval' }).userMessage,
    ).toContain('agents need approval');
  });

  it('maps 401 to unauthorized and tells the user to check the key in Settings', () => {
    const e = answer(401, '');
    expect(e.code).toBe('unauthorized');
    expect(e.userMessage).toMatch(/check the Postato API key in Settings/);
  });

  it('maps 404, 409 not_editable, 409 in use and other 409s', () => {
    expect(answer(404, { error: 'not_found' }).code).toBe('not_found');
    expect(answer(409, { error: 'not_editable' }).code).toBe('not_editable');
    const inUse = answer(409, { error: 'idempotency_key_in_use' }, 1000);
    expect(inUse.code).toBe('idempotency_key_in_use');
    expect(inUse.retryAfterMs).toBe(1000);
    expect(inUse.outcomeUnknown).toBe(true);
    expect(inUse.retryable).toBe(true);
    expect(answer(409, { error: 'already_revoked' }).code).toBe('conflict');
  });

  it('maps 422 VALIDATION_FAILED to validation_failed with the per-field platform errors', () => {
    const e = answer(422, {
      error: 'VALIDATION_FAILED',
      errors: [
        {
          field: 'content',
          message: 'Content is 312 characters; X allows 280.',
          platform: 'twitter',
          code: 'text_too_long',
        },
      ],
    });
    expect(e.code).toBe('validation_failed');
    expect(e.platformErrors).toEqual([
      {
        field: 'content',
        message: 'Content is 312 characters; X allows 280.',
        platform: 'twitter',
        code: 'text_too_long',
      },
    ]);
    expect(e.userMessage).toBe('Postato rejected the post: Content is 312 characters; X allows 280.');
    expect(e.postatoCode).toBe('VALIDATION_FAILED');
  });

  it('keeps a 422 account_not_found as validation_failed with postatoCode account_not_found', () => {
    const e = answer(422, {
      error: 'VALIDATION_FAILED',
      errors: [{ field: 'accountId', message: 'unknown account', code: 'account_not_found' }],
    });
    expect(e.code).toBe('validation_failed');
    expect(e.postatoCode).toBe('account_not_found');
    expect(e.userMessage).toMatch(/account ID/);
  });

  it('maps 422 idempotency_key_reused to its own code, never retryable', () => {
    const e = answer(422, { error: 'idempotency_key_reused' });
    expect(e.code).toBe('idempotency_key_reused');
    expect(e.retryable).toBe(false);
  });

  it('maps 429 to rate_limited with Retry-After and 5xx to upstream_unavailable, both retryable', () => {
    const r = answer(429, { error: 'rate_limited' }, 3000);
    expect([r.code, r.retryAfterMs, r.retryable]).toEqual(['rate_limited', 3000, true]);
    for (const s of [500, 502, 503, 504]) expect(answer(s, '<html>oops</html>').code).toBe('upstream_unavailable');
  });

  it('never carries the API key, even when Postato echoes it back', () => {
    const e = answer(400, {
      error: 'INVALID_REQUEST',
      message: `key ${apiKey} is odd`,
      details: { [apiKey]: [`Bearer ${apiKey}`] },
    });
    const everything = JSON.stringify({ m: e.message, u: e.userMessage, d: e.details, f: e.fieldErrors, s: e.stack });
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain(apiKey.slice(5));
  });
});

describe('errorFromException', () => {
  it('makes timeouts and dropped connections of a write outcome-unknown, with a key-free cause', () => {
    const t = errorFromException({
      method: 'POST',
      path: '/p',
      kind: 'timeout',
      timeoutMs: 50,
      mayHaveApplied: true,
      apiKey,
    });
    expect([t.code, t.outcomeUnknown, t.retryable]).toEqual(['timeout', true, true]);
    const boom = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error(`socket closed, auth=Bearer ${apiKey}`), { code: 'UND_ERR_SOCKET' }),
    });
    const n = errorFromException({
      method: 'POST',
      path: '/p',
      kind: 'network',
      error: boom,
      mayHaveApplied: true,
      apiKey,
    });
    expect([n.code, n.outcomeUnknown]).toEqual(['network', true]);
    const chain: string[] = [];
    for (let c: unknown = n; c instanceof Error; c = c.cause) chain.push(c.message, String(c.stack));
    expect(chain.join('\n')).toContain('socket closed');
    expect(chain.join('\n')).not.toContain(apiKey);
  });

  it('recognises errors that prove the request was never sent', () => {
    expect(failedBeforeSending(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe(
      true,
    );
    expect(
      failedBeforeSending(Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_SOCKET' } })),
    ).toBe(false);
  });
});
