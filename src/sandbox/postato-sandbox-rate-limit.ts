/**
 * Per-tenant rolling-window (sliding-log) rate limiter of the Postato sandbox, with the IETF draft RateLimit headers.
 * It also remembers the most creations it ever saw inside one window, so tests can prove a client stayed under.
 */

/** The limit classes: POST posts; PATCH+DELETE; GET; media upload-url and confirm POSTs. */
export type RateClass = 'create' | 'write' | 'read' | 'media';

/** Outcome of one request against the limiter, with the headers to send either way. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

/** Sliding-log limiter: every allowed request leaves a timestamp; a request is allowed while fewer than `limit` remain. */
export class SandboxRateLimiter {
  private readonly logs = new Map<string, number[]>();
  private readonly maxCreates = new Map<string, number>();

  /** Counts the request if under the limit; a refused request is not counted. */
  hit(tenantId: string, cls: RateClass, limit: number, windowMs: number, now: number): RateDecision {
    const key = `${tenantId}\u0000${cls}`;
    const log = (this.logs.get(key) ?? []).filter((t) => t > now - windowMs);
    this.logs.set(key, log);
    const windowSeconds = Math.max(1, Math.ceil(windowMs / 1000));
    const policy = `"${cls}";q=${limit};w=${windowSeconds}`;
    if (log.length >= limit) {
      const oldest = log[log.length - limit] ?? now;
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
      return {
        allowed: false,
        retryAfterSeconds,
        headers: {
          'Retry-After': String(retryAfterSeconds),
          'RateLimit-Policy': policy,
          RateLimit: `"${cls}";r=0;t=${retryAfterSeconds}`,
        },
      };
    }
    log.push(now);
    if (cls === 'create') this.maxCreates.set(tenantId, Math.max(this.maxCreates.get(tenantId) ?? 0, log.length));
    const resetSeconds = Math.max(1, Math.ceil(((log[0] ?? now) + windowMs - now) / 1000));
    return {
      allowed: true,
      retryAfterSeconds: 0,
      headers: { 'RateLimit-Policy': policy, RateLimit: `"${cls}";r=${limit - log.length};t=${resetSeconds}` },
    };
  }

  /** The highest number of creations this tenant had inside any one window. */
  maxCreatesInAnyWindow(tenantId: string): number {
    return this.maxCreates.get(tenantId) ?? 0;
  }

  /** Forgets every log and maximum. */
  reset(): void {
    this.logs.clear();
    this.maxCreates.clear();
  }
}
