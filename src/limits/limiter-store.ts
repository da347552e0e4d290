/**
 * Where the request limits keep their counts. The embedded tier is one process, so memory is enough; on the scale-out
 * tier every instance counts in the shared Redis, or each would keep its own count and N instances behind a load
 * balancer would allow N times the documented limit (and a guesser could spread its tries over them).
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logger';

/** One limit: `points` per `durationSeconds`, and optionally a lock of `blockSeconds` once they are exceeded. */
export interface LimiterSpec {
  /** Names the limit in its storage keys (one name per purpose: the counts of two limits never mix). */
  name: string;
  points: number;
  durationSeconds: number;
  blockSeconds?: number;
}

/** Builds a limiter for a spec; memory or Redis, the middleware that uses it cannot tell the difference. */
export type LimiterStore = (spec: LimiterSpec) => RateLimiterAbstract;

/** Counts in this process (the embedded tier, and tests). */
export const memoryLimiterStore: LimiterStore = (spec) =>
  new RateLimiterMemory({
    keyPrefix: spec.name,
    points: spec.points,
    duration: spec.durationSeconds,
    blockDuration: spec.blockSeconds ?? 0,
  });

/**
 * Counts in Redis under `<prefix>:limits:<name>:<key>`, shared by every instance. While Redis is unreachable (or
 * slower than its command timeout) each instance falls back to its own memory count, so requests keep being limited,
 * per instance, instead of failing or going unlimited; the Redis count is used again as soon as it answers.
 */
export function redisLimiterStore(redis: Redis, prefix: string): LimiterStore {
  return (spec) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:limits:${spec.name}`,
      points: spec.points,
      duration: spec.durationSeconds,
      blockDuration: spec.blockSeconds ?? 0,
      // Not connected: go to the insurance limiter at once rather than queue the command.
      rejectIfRedisNotReady: true,
      insuranceLimiter: memoryLimiterStore(spec),
    });
}

/** How long one limiter command may take before the request is limited in memory instead. */
const LIMITER_COMMAND_TIMEOUT_MS = 2000;

/**
 * A Redis connection for the limits alone: commands fail at once while it is down (no offline queue, so no request
 * waits for a reconnect) and it reconnects by itself. Connected before the service starts answering.
 */
export async function openLimiterRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: LIMITER_COMMAND_TIMEOUT_MS,
  });
  redis.on('error', (err) =>
    logger.warn({ err: { message: err.message } }, 'redis connection error (request limits count in memory meanwhile)'),
  );
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `Could not connect to Redis at REDIS_URL for the request limits (${(err as Error)?.message ?? String(err)}). Check the URL and that Redis is running.`,
      { cause: err },
    );
  }
  return redis;
}
