/**
 * A Sheets request budget (writes or reads) shared by every instance of the scale-out tier: a Redis sorted set of
 * slots scored by the time each stops counting, decided by one Lua script so two instances never both take the last slot.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import { takeWhenFree, type TryTakeResult, type WriteBudget, type WriteSlot } from './write-budget';

// KEYS[1] = slots zset. ARGV: now, limit, heldUntil, member, ttlMs.
// Drops slots that stopped counting, then takes one if fewer than limit remain; otherwise returns the soonest expiry.
const TAKE_LUA = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2])}
`;

// KEYS[1] = slots zset. ARGV: member, until. Moves a held slot to "counts until window end"; XX: never re-adds a dropped one.
const RELEASE_LUA = `
redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[2]), ARGV[1])
return 1
`;

export interface RedisWriteBudgetOptions {
  redis: Redis;
  /** REDIS_PREFIX; the budget key is `<prefix>:sheets:write-budget` (or `read-budget`). */
  prefix: string;
  /** Which of the service account's quotas this budget keeps (default write). */
  kind?: 'write' | 'read';
  /** Requests allowed in any window (SHEETS_WRITES_PER_MINUTE or SHEETS_READS_PER_MINUTE). */
  limit: number;
  windowMs: number;
  clock: Clock;
  /**
   * How long a taken slot counts while its request is in flight. The in-process budget holds it forever; across
   * processes a dead instance would leak it, so it lapses after this (well past any Sheets request's timeout).
   */
  maxInFlightMs?: number;
}

/** A request budget whose slots live in Redis: every instance of the service shares one limit. */
export class RedisWriteBudget implements WriteBudget {
  private readonly key: string;
  private readonly maxInFlightMs: number;

  constructor(private readonly opts: RedisWriteBudgetOptions) {
    if (opts.limit < 1) throw new Error('A Sheets request budget needs a limit of at least 1 request per window.');
    this.key = `${opts.prefix}:sheets:${opts.kind ?? 'write'}-budget`;
    this.maxInFlightMs = opts.maxInFlightMs ?? 5 * 60_000;
  }

  async tryTake(): Promise<TryTakeResult> {
    const now = Math.floor(this.opts.clock.now());
    const member = `${now}:${randomBytes(6).toString('hex')}`;
    const ttl = this.maxInFlightMs + this.opts.windowMs * 2;
    const out = (await this.opts.redis.eval(
      TAKE_LUA,
      1,
      this.key,
      now,
      this.opts.limit,
      now + this.maxInFlightMs + this.opts.windowMs,
      member,
      ttl,
    )) as [number, number | null];
    if (Number(out[0]) !== 1) return { ok: false, retryAtMs: Math.max(now + 1, Number(out[1] ?? now + 50)) };
    let released = false;
    const slot: WriteSlot = {
      release: () => {
        if (released) return;
        released = true;
        const until = Math.floor(this.opts.clock.now()) + this.opts.windowMs;
        // Fire and forget: if Redis is unreachable the slot simply keeps counting until its in-flight expiry.
        this.opts.redis.eval(RELEASE_LUA, 1, this.key, member, until).catch(() => undefined);
      },
    };
    return { ok: true, slot };
  }

  take(signal?: AbortSignal): Promise<WriteSlot> {
    return takeWhenFree(this, this.opts.clock, signal);
  }

  /** Slots currently counted (tests and metrics). */
  async inUse(): Promise<number> {
    const now = Math.floor(this.opts.clock.now());
    return this.opts.redis.zcount(this.key, `(${now}`, '+inf');
  }
}
