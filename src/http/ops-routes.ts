/**
 * Operability endpoints, served without authentication like /healthz: GET /readyz (ledger, Redis when configured,
 * Postato reachable) and GET /metrics (Prometheus text). Neither reveals a tenant, a key or a sheet.
 */
import { Router } from 'express';
import type { Metrics } from '../metrics';
import type { PostatoProbe } from '../ops/postato-probe';

/** One readiness check: resolves when healthy, rejects with a reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

/** What the ops router needs. */
export interface OpsRouterDeps {
  /** Checks that the ledger answers a query. */
  ledger: ReadinessCheck;
  /** Checks Redis (scale-out tier only). */
  redis?: ReadinessCheck;
  postatoProbe: PostatoProbe;
  metrics: Metrics;
  /** Refreshes gauges read from the ledger before a scrape. */
  beforeScrape?: () => Promise<void>;
  /** Longest a single check may take before it counts as failed (default 2 s). */
  checkTimeoutMs?: number;
}

/** One check's entry in the /readyz answer. */
export interface CheckOutcome {
  ok: boolean;
  error?: string;
  status?: number;
}

function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

async function run(check: ReadinessCheck, ms: number): Promise<CheckOutcome> {
  try {
    await withTimeout(check, ms);
    return { ok: true };
  } catch (err) {
    // Only the message: a driver error object may carry a connection string.
    return { ok: false, error: (err as Error)?.message ?? 'check failed' };
  }
}

/** Builds the router serving /readyz and /metrics. */
export function createOpsRouter(deps: OpsRouterDeps): Router {
  const router = Router();
  const ms = deps.checkTimeoutMs ?? 2000;

  router.get('/readyz', async (_req, res) => {
    const [ledger, redis, postato] = await Promise.all([
      run(deps.ledger, ms),
      deps.redis ? run(deps.redis, ms) : Promise.resolve(undefined),
      deps.postatoProbe.check(),
    ]);
    const checks: Record<string, CheckOutcome> = { ledger };
    if (redis) checks.redis = redis;
    checks.postato = postato.ok ? { ok: true, status: postato.status } : { ok: false, error: postato.error };
    const failing = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    res
      .status(failing.length ? 503 : 200)
      .json({ ok: failing.length === 0, checks, ...(failing.length ? { failing } : {}) });
  });

  router.get('/metrics', async (_req, res) => {
    await deps.beforeScrape?.();
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}
