/**
 * A PostgreSQL ledger whose idle connections the server ends (a restart, a failover, an administrator, or a test
 * dropping its database): pg reports that as an 'error' event of the pool, which ends the process when nobody listens.
 * The ledger must drop the connection and carry on with a new one.
 */
import { sql } from 'kysely';
import { Client } from 'pg';
import { ManualClock } from '../../src/clock';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger } from '../../src/ledger/run-ledger';
import { createPgTestDb } from '../contract/tier-kit';

describe('a PostgreSQL ledger that loses an idle connection', () => {
  let pg: Awaited<ReturnType<typeof createPgTestDb>>;
  let handle: LedgerDb;
  let admin: Client;

  beforeAll(async () => {
    pg = await createPgTestDb();
    handle = await openLedgerDb(pg.url);
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await handle?.close();
    await pg?.drop();
  });

  /**
   * The ledger answers again: a ping that took a pooled connection whose end had not reached its socket yet fails
   * (as any statement would), and the pool has dropped that connection by the next try.
   */
  const answersAgain = async (ledger: RunLedger) => {
    for (let tries = 1; ; tries++) {
      try {
        await ledger.ping();
        break;
      } catch (err) {
        if (tries >= 10) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    for (let i = 0; i < 3; i++) await ledger.ping();
  };

  /** Sessions of the test database other than the admin's. */
  const otherSessions = async () =>
    (
      await admin.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      )
    ).rows[0]!.n;

  it('when the server ends it, then the process lives on and the ledger answers on a new connection', async () => {
    const ledger = new RunLedger(handle.db, new ManualClock(1_900_000_000_000));
    await ledger.ping();
    expect(await otherSessions()).toBeGreaterThan(0);
    // Before the pool had an error listener, the 'error' event below ended the test run (jest: "Unhandled error").
    await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    // The ended sessions are gone; their last words (FATAL 57P01) have reached the pool's sockets meanwhile.
    while ((await otherSessions()) > 0) await new Promise((r) => setImmediate(r));
    await answersAgain(ledger);
  });

  it('when the server ends it during a transaction, then the next statement fails, the process lives on, and the ledger answers again', async () => {
    const ledger = new RunLedger(handle.db, new ManualClock(1_900_000_000_000));
    const inTransaction = handle.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await admin.query(`select pg_terminate_backend($1)`, [rows[0]!.pid]);
      // Before the clients had an error listener, the ended session's last words (FATAL 57P01) reached a checked-out
      // client nobody listened to, and its 'error' event ended the test run (jest: "Unhandled error").
      while ((await otherSessions()) > 0) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20));
      await sql`select 1`.execute(trx);
    });
    await expect(inTransaction).rejects.toThrow();
    await answersAgain(ledger);
  });
});
