/**
 * Request hardening around the routes: security headers, closed CORS, JSON-only bodies, a row limit per run and a
 * per-identity request rate limit. Each middleware fails with a typed error the error handler turns into a clear body.
 */
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, ForbiddenError, PayloadTooLargeError, TooManyRequestsError } from '../errors';
import { getIdentity } from './identity';
import { memoryLimiterStore, type LimiterStore } from '../limits/limiter-store';

/** Helmet with a locked-down policy: this service serves JSON only, never pages or scripts. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * CORS stays closed: the add-on calls us from Apps Script's servers (UrlFetchApp), never from a browser, so no
 * Access-Control-* header is ever sent and preflights are refused.
 */
export function rejectCors(): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'OPTIONS') {
      next(
        new ForbiddenError(
          'Cross-origin requests are not accepted: call this service from the add-on.',
          'cors_forbidden',
        ),
      );
      return;
    }
    next();
  };
}

/** Bytes of a size such as `10mb`, `64kb` or `2048` (the forms BODY_LIMIT takes); null when it is not one. */
export function limitBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
}

/**
 * Refuses a request whose Content-Length already says it is larger than `maxBytes`, at once and without reading the
 * body (the body parser would drain it all before answering), and closes the connection instead of draining it.
 */
export function refuseDeclaredOversize(maxBytes: number): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.setHeader('Connection', 'close');
      next(new PayloadTooLargeError('The request body is too large. Send fewer rows per run.'));
      return;
    }
    next();
  };
}

/**
 * The body parser of one route that takes a JSON body: mounted on that route only (after authentication), never for
 * the whole app, so unknown paths and body-less routes never parse anything.
 */
export function jsonBody(limit: string): RequestHandler[] {
  return [requireJsonBody(), express.json({ limit })];
}

/** Requests with a body must send JSON; anything else is refused with 415 before it reaches a route. */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) {
      next(
        new AppError('unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json).', {
          status: 415,
        }),
      );
      return;
    }
    next();
  };
}

/** Refuses a run whose `rows` array is longer than `maxRows`, with a 413 that says what to do. */
export function limitRowsPerRun(maxRows: number): RequestHandler {
  return (req, _res, next) => {
    const rows = (req.body as { rows?: unknown } | undefined)?.rows;
    if (Array.isArray(rows) && rows.length > maxRows) {
      next(
        new PayloadTooLargeError(
          `This run has ${rows.length} rows; the limit is ${maxRows} rows per run. Select fewer rows or split the sheet, then run again.`,
        ),
      );
      return;
    }
    next();
  };
}

/**
 * A request rate limit per authenticated identity (not per IP: every add-on call comes from Google's servers).
 * Must run after the auth middleware. `windowSeconds` is 60 in production; tests may shorten it.
 */
export function rateLimitPerIdentity(opts: {
  requestsPerWindow: number;
  windowSeconds?: number;
  /** Where the counts live (memory by default; the shared Redis on the scale-out tier). */
  store?: LimiterStore;
}): RequestHandler {
  const limiter = (opts.store ?? memoryLimiterStore)({
    name: 'identity',
    points: opts.requestsPerWindow,
    durationSeconds: opts.windowSeconds ?? 60,
  });
  return async (_req, res, next) => {
    const { subject, label } = getIdentity(res);
    try {
      // Shared-secret installs are one identity; their users' add-on keys split the budget so a busy organisation is
      // not throttled as one user. The label is self-asserted, so the per-address limit is what binds a rotating one.
      await limiter.consume(label === undefined ? subject : `${subject}\u0000${label}`);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.setHeader('Retry-After', String(retryAfter));
      throw new TooManyRequestsError(
        `Too many requests from your account: at most ${opts.requestsPerWindow} per ${opts.windowSeconds ?? 60} s. Wait ${retryAfter} s and try again.`,
        retryAfter,
      );
    }
    next();
  };
}
