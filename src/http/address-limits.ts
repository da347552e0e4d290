/**
 * Limits keyed by the client address, which hold before anyone is authenticated: a request rate per address, and a
 * lock-out after repeated failed sign-ins from one address, so secrets and tokens cannot be guessed at speed.
 */
import type { Request, RequestHandler } from 'express';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../errors';
import { memoryLimiterStore, type LimiterStore } from '../limits/limiter-store';

/** The address a request came from (the socket's, or the proxy-forwarded one when TRUST_PROXY_HOPS is set). */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function retryAfterOf(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/** A request rate limit per client address, for every /v1 request, authenticated or not. */
export function rateLimitPerAddress(opts: {
  requestsPerWindow: number;
  windowSeconds?: number;
  /** Where the counts live (memory by default; the shared Redis on the scale-out tier). */
  store?: LimiterStore;
}): RequestHandler {
  const windowSeconds = opts.windowSeconds ?? 60;
  const limiter = (opts.store ?? memoryLimiterStore)({
    name: 'address',
    points: opts.requestsPerWindow,
    durationSeconds: windowSeconds,
  });
  return async (req, res, next) => {
    try {
      await limiter.consume(clientAddress(req));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = retryAfterOf(rejection);
      res.setHeader('Retry-After', String(retryAfter));
      throw new TooManyRequestsError(
        `Too many requests from your address: at most ${opts.requestsPerWindow} per ${windowSeconds} s. Wait ${retryAfter} s and try again.`,
        retryAfter,
      );
    }
    next();
  };
}

/** Counts failed sign-ins per address and refuses an address that failed too often, before checking anything. */
export interface AuthFailureThrottle {
  /** Throws 429 (and sets Retry-After) while `req`'s address is locked out. */
  check(req: Request, setRetryAfter: (seconds: number) => void): Promise<void>;
  /** Records one failed sign-in from `req`'s address. */
  recordFailure(req: Request): Promise<void>;
}

/**
 * After `failuresPerWindow` failed sign-ins within `windowSeconds`, the address is refused for `lockSeconds`
 * (default five windows) whatever it sends: guessing slows to a few tries per lock-out.
 */
export function createAuthFailureThrottle(opts: {
  failuresPerWindow: number;
  windowSeconds?: number;
  lockSeconds?: number;
  /** Where the counts live (memory by default; the shared Redis on the scale-out tier). */
  store?: LimiterStore;
}): AuthFailureThrottle {
  const windowSeconds = opts.windowSeconds ?? 60;
  const limiter = (opts.store ?? memoryLimiterStore)({
    name: 'auth-failures',
    points: opts.failuresPerWindow,
    durationSeconds: windowSeconds,
    blockSeconds: opts.lockSeconds ?? windowSeconds * 5,
  });
  return {
    async check(req, setRetryAfter) {
      const state = await limiter.get(clientAddress(req));
      if (!state || state.consumedPoints <= opts.failuresPerWindow) return;
      const retryAfter = retryAfterOf(state);
      setRetryAfter(retryAfter);
      throw new TooManyRequestsError(
        `Too many failed sign-ins from your address. Wait ${retryAfter} s, then check the shared secret or reload the add-on.`,
        retryAfter,
      );
    },
    async recordFailure(req) {
      // The rejection of the failure that crosses the limit is the lock itself; nothing more to do with it.
      await limiter.consume(clientAddress(req)).catch((rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
      });
    },
  };
}
