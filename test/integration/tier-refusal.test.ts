/**
 * The tier factory refuses, at start, a configuration that cannot keep one limit per Postato tenant across instances:
 * the real service process on PostgreSQL without Redis exits with a message that says what to set. Redis with a SQLite
 * file is refused too. The two real tiers are chosen from the configuration alone.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/config';
import { tierKindOf } from '../../src/runs/tier-factory';
import { createPgTestDb, REDIS_TEST_URL } from '../contract/tier-kit';
import { startServiceProcess, stopServiceProcess } from './service-process';

const baseEnv = () => ({
  AUTH_SHARED_SECRET: randomBytes(24).toString('hex'),
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  LOG_LEVEL: 'warn',
  REDIS_URL: '',
});

describe('tier factory', () => {
  it('names the tier from DATABASE_URL and REDIS_URL, and refuses the mixes with a message that says what to set', () => {
    expect(tierKindOf({ DATABASE_URL: 'sqlite:./x.db', REDIS_URL: undefined })).toBe('embedded');
    expect(tierKindOf({ DATABASE_URL: 'postgres://u@127.0.0.1/db', REDIS_URL: REDIS_TEST_URL })).toBe('scale-out');
    expect(() => tierKindOf({ DATABASE_URL: 'postgres://u@127.0.0.1/db', REDIS_URL: undefined })).toThrow(ConfigError);
    expect(() => tierKindOf({ DATABASE_URL: 'sqlite:./x.db', REDIS_URL: REDIS_TEST_URL })).toThrow(
      /needs a ledger every instance shares: set DATABASE_URL to postgres/,
    );
  });

  it('when the service is started on PostgreSQL without Redis, then it refuses to start and says to set REDIS_URL', async () => {
    const pg = await createPgTestDb();
    try {
      const started = startServiceProcess({ ...baseEnv(), DATABASE_URL: pg.url });
      await expect(started).rejects.toThrow(/service exited 1: .*REDIS_URL.*exceed Postato's limit/s);
      // Nothing half-started: had it listened, stop it so the test cannot leak a process.
      await started.then((s) => stopServiceProcess(s, 'SIGKILL')).catch(() => undefined);
    } finally {
      await pg.drop();
    }
  });
});
