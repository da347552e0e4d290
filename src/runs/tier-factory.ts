/**
 * The one place that turns the configuration into a tier: the ledger, the dispatcher, the per-tenant pacer, the
 * Sheets write budget and the spreadsheet lock. Embedded = SQLite ledger + in-process dispatcher + SQLite pacer +
 * in-process budget; scale-out = PostgreSQL ledger + BullMQ on Redis + Redis pacer, budget and lock. Any other mix is
 * refused at start, because it cannot keep one limit per tenant across instances.
 */
import type { Clock } from '../clock';
import { ConfigError, type Config } from '../config';
import type { Logger } from '../logger';
import { memoryLimiterStore, type LimiterStore } from '../limits/limiter-store';
import { SlidingWindowWriteBudget, type WriteBudget } from '../sheets/write-budget';
import type { SpreadsheetLock } from '../sheets/spreadsheet-lock';
import type { Dispatcher } from './dispatcher';
import { createEmbeddedDispatcher } from './embedded-dispatcher';
import { openLedger, sqlitePathOf } from '../ledger/open-ledger';
import type { PublishStep } from './publish-step';
import { openRedisTier } from './redis-tier';
import type { RunLedger } from '../ledger/run-ledger';
import { effectiveLimit, pacerLimitsFromConfig, type TenantPacer } from '../pacing/tenant-pacer';

/** The two tiers. */
export type TierKind = 'embedded' | 'scale-out';

/** What the dispatcher of a tier is built from (the publish step needs the tier's ledger and pacer first). */
export interface DispatcherDeps {
  step: PublishStep;
  onRowFinished?: (runId: string, spreadsheetId: string) => void;
  onRunFinished?: (runId: string) => void;
}

/** A tier: the shared state of the service and how to reach it. */
export interface Tier {
  kind: TierKind;
  ledger: RunLedger;
  pacer: TenantPacer;
  /** Budget of Sheets writes of the service account (shared by all instances on the scale-out tier). */
  writeBudget: WriteBudget;
  /** Budget of Sheets reads of the service account (Google limits them per user like writes; shared likewise). */
  readBudget: WriteBudget;
  /** One write-back flusher per spreadsheet across instances (scale-out only; one process needs none). */
  spreadsheetLock?: SpreadsheetLock;
  /**
   * Where the request limits count: in this process on the embedded tier, in Redis on the scale-out tier (so N
   * instances still allow the documented limit, not N times it).
   */
  limiters: LimiterStore;
  dispatcherFor(deps: DispatcherDeps): Dispatcher;
  /** Readiness probes (/readyz): the ledger always, Redis on the scale-out tier. */
  checks: { ledger(): Promise<void>; redis?(): Promise<void> };
  /** Closes the pacer, the Redis connections and the ledger (after the dispatcher has stopped). */
  close(): Promise<void>;
}

/**
 * The tier a configuration names, or a ConfigError that says what to change. PostgreSQL without Redis would pace
 * each instance on its own (together they exceed the tenant's limit); Redis with a SQLite file would share a queue
 * between instances that do not share the ledger.
 */
export function tierKindOf(config: Pick<Config, 'DATABASE_URL' | 'REDIS_URL'>): TierKind {
  const sqlite = sqlitePathOf(config.DATABASE_URL) !== null;
  const redis = config.REDIS_URL !== undefined;
  if (sqlite && !redis) return 'embedded';
  if (!sqlite && redis) return 'scale-out';
  if (!sqlite) {
    throw new ConfigError([
      'REDIS_URL: DATABASE_URL names PostgreSQL (the scale-out tier), which also needs REDIS_URL. Without Redis every ' +
        "instance would pace each Postato tenant on its own, and together they would exceed Postato's limit. Set " +
        'REDIS_URL (the shared pacer, queue and Sheets write budget), or use a sqlite: DATABASE_URL for the embedded tier.',
    ]);
  }
  throw new ConfigError([
    'DATABASE_URL: REDIS_URL is set (the scale-out tier), which needs a ledger every instance shares: set ' +
      'DATABASE_URL to postgres://…, or unset REDIS_URL for the embedded tier (one SQLite file, one process).',
  ]);
}

/** Seams for tests and benchmarks. */
export interface TierOverrides {
  /** Replaces the tier's pacer (tests that count or script pacing decisions). */
  pacer?: TenantPacer;
}

/** Opens the tier the configuration names; refuses a mix that cannot keep the per-tenant limit before opening anything. */
export async function openTier(
  config: Config,
  deps: { clock: Clock; logger: Logger },
  o: TierOverrides = {},
): Promise<Tier> {
  const kind = tierKindOf(config);
  const { clock, logger } = deps;
  const db = await openLedger(config.DATABASE_URL, clock, {
    onCheckpointerFailure: (err) =>
      logger.error({ err }, 'SQLite WAL checkpointer failed; automatic checkpoints are back on'),
    onWarning: (err, message) => logger.warn({ err: { message: (err as Error)?.message } }, message),
  });
  const { ledger } = db;
  const checks = { ledger: () => ledger.ping() };

  if (kind === 'embedded') {
    const limits = pacerLimitsFromConfig(config);
    const pacer = o.pacer ?? db.sqlitePacer(limits)!;
    return {
      kind,
      ledger,
      pacer,
      writeBudget: new SlidingWindowWriteBudget({
        limit: config.SHEETS_WRITES_PER_MINUTE,
        windowMs: config.SHEETS_WRITE_WINDOW_MS,
        clock,
      }),
      readBudget: new SlidingWindowWriteBudget({
        limit: config.SHEETS_READS_PER_MINUTE,
        windowMs: config.SHEETS_WRITE_WINDOW_MS,
        clock,
      }),
      limiters: memoryLimiterStore,
      dispatcherFor: ({ step, onRowFinished, onRunFinished }) =>
        createEmbeddedDispatcher({
          ledger,
          step,
          clock,
          logger,
          pollMs: config.DISPATCH_POLL_MS,
          leaseMs: config.DISPATCH_LEASE_MS,
          staleMs: config.DISPATCH_STALE_MS,
          concurrency: config.DISPATCH_CONCURRENCY,
          tenantConcurrency: config.DISPATCH_TENANT_CONCURRENCY,
          // The pacer's rule, so the dispatcher can serve first the sends that decide when each tenant finishes.
          pacing: effectiveLimit(limits, 'create'),
          onRowFinished,
          onRunFinished,
        }),
      checks,
      async close() {
        await pacer.close();
        await db.close();
      },
    };
  }

  let redisTier;
  try {
    redisTier = await openRedisTier(config, clock, logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  const redis = redisTier;
  const pacer = o.pacer ?? redis.pacer;
  return {
    kind,
    ledger,
    pacer,
    writeBudget: redis.writeBudget,
    readBudget: redis.readBudget,
    spreadsheetLock: redis.spreadsheetLock,
    limiters: redis.limiters,
    dispatcherFor: ({ step, onRowFinished, onRunFinished }) =>
      redis.dispatcherFor({ ledger, step, onRowFinished, onRunFinished }),
    checks: {
      ...checks,
      redis: async () => {
        await redis.redis.ping();
      },
    },
    async close() {
      await pacer.close();
      await redis.close();
      await db.close();
    },
  };
}
