/**
 * One writer per spreadsheet at a time. A flush re-reads the sheet and repairs rows it may have hit by mistake, so two
 * flushers on one spreadsheet (several instances on the scale-out tier) would undo each other's writes. The embedded
 * tier has one flusher per process and needs no lock; the scale-out tier takes this one in Redis.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface SpreadsheetLock {
  /** Takes the spreadsheet's lock if it is free; resolves to its release, or null when another writer holds it. */
  tryLock(spreadsheetId: string): Promise<(() => Promise<void>) | null>;
}

// Deletes the lock only if it is still ours (it may have expired and been taken by another instance).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** A lock in Redis (SET NX PX); it expires after `ttlMs` if its holder dies mid-flush. */
export function createRedisSpreadsheetLock(opts: { redis: Redis; prefix: string; ttlMs?: number }): SpreadsheetLock {
  const ttlMs = opts.ttlMs ?? 120_000;
  return {
    async tryLock(spreadsheetId) {
      const key = `${opts.prefix}:sheets:flush-lock:${spreadsheetId}`;
      const token = randomBytes(12).toString('hex');
      const ok = await opts.redis.set(key, token, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return null;
      return async () => {
        await opts.redis.eval(RELEASE, 1, key, token);
      };
    },
  };
}
