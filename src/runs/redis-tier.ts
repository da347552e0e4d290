/**
 * The Redis half of the scale-out tier: with REDIS_URL set, one connection carries the per-tenant pacer, the Sheets
 * read and write budgets and the BullMQ dispatcher, so every instance shares one limit per tenant and one queue; a
 * second one, which fails fast instead of queueing, carries the request limits. The tier opens and closes both.
 */
import { Redis } from 'ioredis';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { openLimiterRedis, redisLimiterStore, type LimiterStore } from '../limits/limiter-store';
import { RedisWriteBudget } from '../sheets/write-budget-redis';
import { createRedisSpreadsheetLock, type SpreadsheetLock } from '../sheets/spreadsheet-lock';
import { createBullmqDispatcher } from './bullmq-dispatcher';
import type { Dispatcher } from './dispatcher';
import type { PublishStep } from './publish-step';
import type { RunLedger } from '../ledger/run-ledger';
import { createRedisPacer } from '../pacing/tenant-pacer-redis';
import { effectiveLimit, pacerLimitsFromConfig, type TenantPacer } from '../pacing/tenant-pacer';

/** The shared parts built on one Redis connection. */
export interface RedisTier {
  redis: Redis;
  pacer: TenantPacer;
  writeBudget: RedisWriteBudget;
  /** The service account's Sheets reads, shared like its writes. */
  readBudget: RedisWriteBudget;
  /** One write-back flusher per spreadsheet across instances. */
  spreadsheetLock: SpreadsheetLock;
  /** The request limits, counted in Redis so N instances together allow the documented limit, not N times it. */
  limiters: LimiterStore;
  dispatcherFor(deps: {
    ledger: RunLedger;
    step: PublishStep;
    onRowFinished?: (runId: string, spreadsheetId: string) => void;
    onRunFinished?: (runId: string) => void;
  }): Dispatcher;
  /** Closes both connections (after the dispatcher has stopped). */
  close(): Promise<void>;
}

/** Connects to REDIS_URL and builds the pacer and write budget; fails with a clear message when Redis is unreachable. */
export async function openRedisTier(config: Config, clock: Clock, logger: Logger): Promise<RedisTier> {
  const url = config.REDIS_URL;
  if (!url) throw new Error('openRedisTier needs REDIS_URL.');
  // BullMQ requires maxRetriesPerRequest: null on connections its workers use.
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `Could not connect to Redis at REDIS_URL (${(err as Error)?.message ?? String(err)}). Check the URL and that Redis is running, or unset REDIS_URL to use the embedded tier.`,
      { cause: err },
    );
  }
  let limiterRedis: Redis;
  try {
    limiterRedis = await openLimiterRedis(url, logger);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const prefix = config.REDIS_PREFIX;
  const pacer = createRedisPacer({ redis, prefix, limits: pacerLimitsFromConfig(config), clock });
  const writeBudget = new RedisWriteBudget({
    redis,
    prefix,
    limit: config.SHEETS_WRITES_PER_MINUTE,
    windowMs: config.SHEETS_WRITE_WINDOW_MS,
    clock,
  });
  const readBudget = new RedisWriteBudget({
    redis,
    prefix,
    kind: 'read',
    limit: config.SHEETS_READS_PER_MINUTE,
    windowMs: config.SHEETS_WRITE_WINDOW_MS,
    clock,
  });
  return {
    redis,
    pacer,
    writeBudget,
    readBudget,
    spreadsheetLock: createRedisSpreadsheetLock({ redis, prefix }),
    limiters: redisLimiterStore(limiterRedis, prefix),
    dispatcherFor: ({ ledger, step, onRowFinished, onRunFinished }) =>
      createBullmqDispatcher({
        ledger,
        step,
        clock,
        logger,
        redis,
        prefix,
        leaseMs: config.DISPATCH_LEASE_MS,
        staleMs: config.DISPATCH_STALE_MS,
        concurrency: config.DISPATCH_CONCURRENCY,
        tenantConcurrency: config.DISPATCH_TENANT_CONCURRENCY,
        onRowFinished,
        onRunFinished,
        spread: effectiveLimit(pacerLimitsFromConfig(config), 'create'),
      }),
    async close() {
      await limiterRedis.quit().catch(() => limiterRedis.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
