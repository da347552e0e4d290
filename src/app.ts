/**
 * createApp(deps) builds the Express app: middleware, routers and the error handler. It never listens,
 * so tests can drive it with supertest; src/index.ts wires real dependencies and listens.
 */
import express, { type Express, type Router } from 'express';
import type { Config } from './config';
import type { Logger } from './logger';
import { createErrorHandler } from './http/error-handler';
import { NotFoundError } from './errors';

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** Routers mounted under the app root, in order (runs, webhooks, ...). */
  routers?: Router[];
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  for (const router of deps.routers ?? []) app.use(router);

  app.use((_req, _res, next) => next(new NotFoundError('No such endpoint.')));
  app.use(createErrorHandler(deps.logger));
  return app;
}
