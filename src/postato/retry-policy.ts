/**
 * When and how long the Postato client waits before repeating a request: Retry-After for 429 and 409-in-use,
 * exponential backoff with full jitter for 5xx, timeouts and connection errors, capped in attempts and total time.
 *
 * Why not a backoff package such as `exponential-backoff`: its delay is computed by the library alone, so it cannot
 * honour a per-answer Retry-After (it would add its own delay on top), it has no total-time cap, no AbortSignal
 * and no injectable clock or random source. The formula it would apply is the three lines of `backoffDelayMs`.
 */
import type { PostatoError } from './postato-errors';

/** How a call is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  maxAttempts: number;
  /** Backoff base: the cap of the first jittered delay. */
  baseDelayMs: number;
  /** Cap of any single backoff delay (Retry-After is not capped by it, only by maxTotalMs). */
  maxDelayMs: number;
  /** No new attempt starts if it would begin later than this after the first one. */
  maxTotalMs: number;
  /** Whether a 429 is waited out and retried here; the publisher turns this off and paces itself. */
  retryRateLimited: boolean;
}

/** Defaults for interactive calls; the publisher passes its own. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxTotalMs: 60_000,
  retryRateLimited: true,
});

/** Full-jitter exponential backoff: a uniform delay in [0, min(maxDelay, base * 2^(attempt-1))). */
export function backoffDelayMs(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a Retry-After header, given either as delta-seconds or as an HTTP date (RFC 9110 §10.2.3), into
 * milliseconds from `nowMs`. Returns undefined for a missing or unreadable value; a date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  // Only accept something that looks like a date, so a garbage value like "soon" is not silently 0.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Whether `error` may be retried under `policy` (ignoring attempt and time budgets). */
export function isRetryable(error: PostatoError, policy: RetryPolicy): boolean {
  switch (error.code) {
    case 'rate_limited':
      return policy.retryRateLimited;
    case 'idempotency_key_in_use':
    case 'upstream_unavailable':
    case 'timeout':
    case 'network':
      return true;
    default:
      return false;
  }
}

/**
 * The wait before the next attempt, or undefined when the call must give up: not retryable, out of attempts, or the
 * wait would end past the total-time budget. `attempt` is the number of the attempt that just failed (1-based).
 */
export function nextDelayMs(
  error: PostatoError,
  attempt: number,
  elapsedMs: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!isRetryable(error, policy)) return undefined;
  if (attempt >= policy.maxAttempts) return undefined;
  const waitsForServer = error.code === 'rate_limited' || error.code === 'idempotency_key_in_use';
  const delay =
    waitsForServer && error.retryAfterMs !== undefined ? error.retryAfterMs : backoffDelayMs(attempt, policy, random);
  if (elapsedMs + delay > policy.maxTotalMs) return undefined;
  return delay;
}
