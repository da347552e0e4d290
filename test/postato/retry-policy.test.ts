import fc from 'fast-check';
import { PostatoError, type PostatoErrorCode } from '../../src/postato/postato-errors';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelayMs,
  nextDelayMs,
  parseRetryAfter,
  type RetryPolicy,
} from '../../src/postato/retry-policy';

const policy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxTotalMs: 10_000,
  retryRateLimited: true,
};
const err = (code: PostatoErrorCode, retryAfterMs?: number) =>
  new PostatoError(code, code, { userMessage: code, retryAfterMs });

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);

  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 2 ', now)).toBe(2000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });

  it('returns undefined for a missing or unreadable value', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('backoffDelayMs (full jitter)', () => {
  it('stays within [0, min(maxDelay, base * 2^(attempt-1))) for every attempt and random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const d = backoffDelayMs(attempt, policy, () => r);
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
        return d >= 0 && d < ceiling;
      }),
    );
  });

  it('uses the whole range: 0 for the lowest draw, near the ceiling for the highest', () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.9999)).toBe(399);
    expect(backoffDelayMs(30, policy, () => 0.9999)).toBe(999);
  });
});

describe('nextDelayMs', () => {
  it('never retries a 4xx other than 429 and 409-in-use', () => {
    for (const code of [
      'invalid_request',
      'validation_failed',
      'unauthorized',
      'forbidden',
      'not_found',
      'not_editable',
      'conflict',
      'idempotency_key_reused',
      'unexpected_response',
    ] as const)
      expect(nextDelayMs(err(code), 1, 0, policy)).toBeUndefined();
  });

  it('waits Retry-After for 429 and 409-in-use, and backs off with jitter for 5xx, timeouts and network errors', () => {
    expect(nextDelayMs(err('rate_limited', 3000), 1, 0, policy)).toBe(3000);
    expect(nextDelayMs(err('idempotency_key_in_use', 1000), 1, 0, policy)).toBe(1000);
    for (const code of ['upstream_unavailable', 'timeout', 'network'] as const)
      expect(nextDelayMs(err(code, 5000), 2, 0, policy, () => 0.5)).toBe(100);
  });

  it('does not retry a 429 when the caller paces itself', () => {
    expect(nextDelayMs(err('rate_limited', 10), 1, 0, { ...policy, retryRateLimited: false })).toBeUndefined();
  });

  it('gives up after maxAttempts and when the wait would end past maxTotalMs', () => {
    expect(nextDelayMs(err('timeout'), 5, 0, policy)).toBeUndefined();
    expect(nextDelayMs(err('timeout'), 4, 0, policy, () => 0)).toBe(0);
    expect(nextDelayMs(err('rate_limited', 6000), 1, 5000, policy)).toBeUndefined();
    expect(nextDelayMs(err('rate_limited', 5000), 1, 5000, policy)).toBe(5000);
  });

  it('has sane defaults', () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeGreaterThan(1);
    expect(DEFAULT_RETRY_POLICY.retryRateLimited).toBe(true);
  });
});
