/**
 * The scale-out tier's TenantPacer: the sliding log as a Redis sorted set per tenant and kind, decided by one Lua
 * script (trim, count, add) so every instance shares one exact limit. Times come from the caller's clock, not from
 * Redis, so the rule is the same arithmetic as the memory and SQLite pacers and tests can drive it with a manual clock.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import { effectiveLimit, type AcquireResult, type PacerLimits, type PaceKind, type TenantPacer } from './tenant-pacer';

// KEYS[1] = log zset, KEYS[2] = pause key. ARGV: now, spanMs, max, reserve (1|0), member, ttlMs, stamp.
// Returns {1, now} for a reserved (or free, when peeking) slot, {0, retryAtMs} otherwise. A reserved slot is stamped
// `stamp` (ahead while its call is in flight); a blocker stamped in the future frees no sooner than now + span.
const ACQUIRE_LUA = `
local now = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local reserve = ARGV[4] == '1'
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused} end
if reserve then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span) end
local n = redis.call('ZCOUNT', KEYS[1], '(' .. (now - span), '+inf')
if n < max then
  if reserve then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[7]), ARGV[5])
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
  end
  return {1, now}
end
local e = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - span), '+inf', 'WITHSCORES', 'LIMIT', n - max, 1)
local retryAt = math.min(tonumber(e[2]), now) + span
if retryAt <= now then retryAt = now + 1 end
return {0, retryAt}
`;

// KEYS[1] = pause key. ARGV: untilMs, ttlMs. Only ever extends a pause.
const PAUSE_LUA = `
local until_ms = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > cur then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[2])) end
return 1
`;

// Keys outlive their content by a wide margin: expiry runs on Redis's clock, which need not match the caller's.
const MIN_TTL_MS = 10 * 60_000;

/** A pacer whose state lives in Redis under `prefix`; atomic across instances. */
export function createRedisPacer(opts: {
  redis: Redis;
  prefix: string;
  limits: PacerLimits;
  clock: Clock;
}): TenantPacer {
  const { redis, clock, prefix } = opts;
  const rules = { create: effectiveLimit(opts.limits, 'create'), write: effectiveLimit(opts.limits, 'write') };
  const logKey = (tenant: string, kind: PaceKind) => `${prefix}:pacer:{${tenant}}:${kind}:log`;
  const pauseKey = (tenant: string, kind: PaceKind) => `${prefix}:pacer:{${tenant}}:${kind}:pause`;

  const maxFlightMs = opts.limits.maxFlightMs ?? 0;

  const run = async (
    tenant: string,
    kind: PaceKind,
    reserve: boolean,
  ): Promise<{ ok: boolean; at: number; member: string }> => {
    const now = Math.floor(clock.now());
    const rule = rules[kind];
    const member = `${now}:${randomBytes(6).toString('hex')}`;
    const ttl = Math.max(MIN_TTL_MS, rule.spanMs * 2);
    const out = (await redis.eval(
      ACQUIRE_LUA,
      2,
      logKey(tenant, kind),
      pauseKey(tenant, kind),
      now,
      rule.spanMs,
      rule.max,
      reserve ? '1' : '0',
      member,
      ttl,
      now + maxFlightMs,
    )) as [number, number];
    return { ok: Number(out[0]) === 1, at: Number(out[1]), member };
  };

  return {
    async tryAcquire(tenant, kind): Promise<AcquireResult> {
      const r = await run(tenant, kind, true);
      return r.ok ? { ok: true, slot: r.member } : { ok: false, retryAtMs: r.at };
    },
    async sent(tenant, kind, slot, atMs) {
      // XX: only restamp a slot still in the log (one trimmed meanwhile stays gone).
      await redis.zadd(logKey(tenant, kind), 'XX', Math.ceil(atMs), slot);
    },
    async pause(tenant, kind, untilMs) {
      const until = Math.ceil(untilMs);
      const ttl = Math.max(MIN_TTL_MS, until - Math.floor(clock.now()) + MIN_TTL_MS);
      await redis.eval(PAUSE_LUA, 1, pauseKey(tenant, kind), until, ttl);
    },
    async nextFreeAt(tenant, kind) {
      return (await run(tenant, kind, false)).at;
    },
    async close() {
      // The connection belongs to the caller, who may share it with BullMQ.
    },
  };
}
