/**
 * Prometheus metrics of the service (prom-client), in one registry so tests can create their own.
 * Tenants appear only as hashes (tenantIdFor), never as keys.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  postsCreated: Counter<'tenant'>;
  postsFailed: Counter<'tenant'>;
  postatoRateLimited: Counter<'tenant'>;
  postatoRetries: Counter<'tenant' | 'reason'>;
  rowsWaiting: Gauge<'tenant'>;
  writeBackLagSeconds: Gauge;
  sheetsRequests: Counter<'kind' | 'outcome'>;
  runRequestsInProgress: Gauge;
  runRequestsWaiting: Gauge;
}

/** Creates the metric set; `defaults` adds Node's process metrics (off in tests to keep them quiet). */
export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    postsCreated: new Counter({
      name: 'postato_posts_created_total',
      help: 'Posts created in Postato',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    postsFailed: new Counter({
      name: 'postato_posts_failed_total',
      help: 'Rows that ended FAILED',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    postatoRateLimited: new Counter({
      name: 'postato_rate_limited_total',
      help: '429 answers from Postato',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    postatoRetries: new Counter({
      name: 'postato_retries_total',
      help: 'Postato calls retried',
      labelNames: ['tenant', 'reason'],
      registers: [registry],
    }),
    rowsWaiting: new Gauge({
      name: 'postato_rows_waiting',
      help: 'Rows waiting to be sent, per tenant',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    writeBackLagSeconds: new Gauge({
      name: 'postato_writeback_lag_seconds',
      help: 'Age of the oldest result not yet written to its sheet',
      registers: [registry],
    }),
    sheetsRequests: new Counter({
      name: 'postato_sheets_requests_total',
      help: 'Google Sheets API requests',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    runRequestsInProgress: new Gauge({
      name: 'postato_run_requests_in_progress',
      help: 'Run requests (POST /v1/runs) being read, planned and committed now (at most RUN_ACCEPT_CONCURRENCY)',
      registers: [registry],
    }),
    runRequestsWaiting: new Gauge({
      name: 'postato_run_requests_waiting',
      help: 'Run requests waiting for their turn, bodies unread',
      registers: [registry],
    }),
  };
}
