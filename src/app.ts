/**
 * createApp(deps) builds the Express app: hardening, authentication, routers and the error handler. It never listens,
 * so tests can drive it with supertest; src/index.ts wires real dependencies and listens.
 */
import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Config } from './config';
import type { Logger } from './logger';
import { createErrorHandler } from './http/error-handler';
import { NotFoundError } from './errors';
import { createAuthMiddleware, type AuthOptions } from './http/auth';
import {
  limitBytes,
  rateLimitPerIdentity,
  refuseDeclaredOversize,
  rejectCors,
  securityHeaders,
} from './http/hardening';
import { POSTATO_WEBHOOK_PATH, WEBHOOK_BODY_LIMIT_BYTES } from './webhooks/postato-webhook-router';
import { requestLogger } from './ops/request-logger';
import { createAuthFailureThrottle, rateLimitPerAddress } from './http/address-limits';
import type { LimiterStore } from './limits/limiter-store';

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** Routers mounted under the app root, in order (runs, webhooks, ...). Paths under /v1 are authenticated. */
  routers?: Router[];
  /** Test seams for authentication (injected Google certificates or verifier). */
  auth?: AuthOptions;
  /** Length of the rate-limit windows (per identity, per address, failed sign-ins) in seconds (60; tests shorten it). */
  rateLimitWindowSeconds?: number;
  /** /readyz and /metrics (src/http/ops-routes.ts), mounted before authentication like /healthz. */
  opsRouter?: Router;
  /** Where the request limits count: memory by default (one process); the shared Redis on the scale-out tier. */
  limiters?: LimiterStore;
}

export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  // The client address keys the per-address limits: the socket's, unless configured proxies forward it.
  app.set('trust proxy', config.TRUST_PROXY_HOPS > 0 ? config.TRUST_PROXY_HOPS : false);

  app.use(requestLogger(deps.logger));
  app.use(securityHeaders());
  app.use(rejectCors());
  // A body declared larger than any route accepts is refused before anything else reads or waits for it.
  app.use(POSTATO_WEBHOOK_PATH, refuseDeclaredOversize(WEBHOOK_BODY_LIMIT_BYTES));
  app.use(unlessWebhook(refuseDeclaredOversize(limitBytes(config.BODY_LIMIT) ?? 0)));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  if (deps.opsRouter) app.use(deps.opsRouter);

  // The webhook path is authenticated by Postato's signature over the exact bytes it sent, not by the add-on's
  // credentials; its router reads the raw body itself.
  // Per-address limits first (they hold for anonymous callers too), then authenticate and rate-limit per identity,
  // all before reading any body, so an anonymous caller cannot make us parse megabytes or guess secrets at speed.
  app.use(
    '/v1',
    unlessWebhook(
      rateLimitPerAddress({
        requestsPerWindow: config.REQUESTS_PER_MINUTE_PER_ADDRESS,
        windowSeconds: deps.rateLimitWindowSeconds,
        store: deps.limiters,
      }),
    ),
  );
  const authFailures = createAuthFailureThrottle({
    failuresPerWindow: config.AUTH_FAILURES_PER_MINUTE,
    windowSeconds: deps.rateLimitWindowSeconds,
    store: deps.limiters,
  });
  app.use('/v1', unlessWebhook(createAuthMiddleware(config, deps.auth, authFailures)));
  app.use(
    '/v1',
    unlessWebhook(
      rateLimitPerIdentity({
        requestsPerWindow: config.REQUESTS_PER_MINUTE,
        windowSeconds: deps.rateLimitWindowSeconds,
        store: deps.limiters,
      }),
    ),
  );
  // No body is parsed here: each route that takes one mounts jsonBody() itself, so it is read only after
  // authentication, and only where it is used.

  for (const router of deps.routers ?? []) app.use(router);

  app.use((_req, _res, next) => next(new NotFoundError('No such endpoint.')));
  app.use(createErrorHandler(deps.logger));
  return app;
}

/** Runs `handler` for every request except Postato's webhook deliveries. */
function unlessWebhook(handler: RequestHandler): RequestHandler {
  return (req, res, next) =>
    req.originalUrl.split('?')[0] === POSTATO_WEBHOOK_PATH ? next() : handler(req, res, next);
}
