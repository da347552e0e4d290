/**
 * The two tiers as test environments: embedded (a temp SQLite file) and scale-out (a PostgreSQL database and a Redis
 * key prefix of their own on 127.0.0.1, both removed again by cleanup()).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { tempDbFile } from '../runs/publish-test-kit';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_TEST_URL = 'redis://127.0.0.1:6379';

export type TierName = 'embedded' | 'scale-out';

/** A tier's service settings and how to remove what it created. */
export interface TestTier {
  name: TierName;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `The scale-out tests need PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres (${String(err)}). Run .ci/run or start it.`,
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database for one test file; drop() removes it even with connections left open. */
export async function createPgTestDb(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `postato_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  // Like SQLite's WAL + synchronous=NORMAL on the embedded tier: commits survive a process crash (what the tests kill),
  // but do not wait for fsync, which on a shared test disk would dominate every timing.
  await adminQuery(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Deletes every Redis key under a prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A unique Redis key prefix for one test. */
export const testRedisPrefix = (): string => `postato-test-${randomBytes(6).toString('hex')}`;

/** Prepares a tier: its DATABASE_URL (and REDIS_URL, REDIS_PREFIX for scale-out). */
export async function openTestTier(name: TierName): Promise<TestTier> {
  if (name === 'embedded')
    return { name, env: { DATABASE_URL: `sqlite:${tempDbFile()}` }, cleanup: async () => undefined };
  const db = await createPgTestDb();
  const prefix = testRedisPrefix();
  return {
    name,
    env: { DATABASE_URL: db.url, REDIS_URL: REDIS_TEST_URL, REDIS_PREFIX: prefix },
    async cleanup() {
      await deleteRedisPrefix(prefix);
      await db.drop();
    },
  };
}

/** The tiers every contract test runs on. */
export const TIERS: TierName[] = ['embedded', 'scale-out'];
