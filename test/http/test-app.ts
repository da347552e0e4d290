/** Builds the real app around a tiny router that echoes the caller's identity, for auth and hardening tests. */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { createApp, type AppDeps } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { getIdentity } from '../../src/http/identity';
import { jsonBody, limitRowsPerRun } from '../../src/http/hardening';
import { silentLogger } from '../../src/logger';

/** A fresh shared secret per test file. */
export const testSecret = (): string => randomBytes(24).toString('hex');

/** Config for tests: defaults plus `env`. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', ...env });
}

/** GET /v1/whoami answers the identity; POST /v1/echo answers the parsed body; GET /v1/boom throws an internal error. */
export function identityRouter(config: Config): Router {
  const router = Router();
  router.get('/v1/whoami', (_req, res) => {
    res.json(getIdentity(res));
  });
  router.post('/v1/echo', ...jsonBody(config.BODY_LIMIT), (req, res) => {
    res.json({ body: req.body as unknown });
  });
  router.post('/v1/runs', ...jsonBody(config.BODY_LIMIT), limitRowsPerRun(config.MAX_ROWS_PER_RUN), (req, res) => {
    res.json({ rows: (req.body as { rows: unknown[] }).rows.length });
  });
  router.get('/v1/boom', () => {
    throw new Error('database password=hunter2 at /srv/secret/path.ts:12');
  });
  return router;
}

/** The app under test with the identity router mounted. */
export function buildTestApp(config: Config, extra: Partial<AppDeps> = {}) {
  return createApp({ config, logger: silentLogger, routers: [identityRouter(config)], ...extra });
}
