/**
 * Opens the ledger database named by DATABASE_URL: `sqlite:<path>` or a plain path → better-sqlite3 in WAL mode,
 * `postgres://…` → pg. Runs the migrations before returning, so callers always see the latest schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
// A static import: jest's CommonJS runtime rejects dynamic import(), and pg loads quickly.
import { Pool, types } from 'pg';
import type { LedgerDatabase } from './ledger-schema';
import { migrateLedger } from './ledger-migrations';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer';

/** An open ledger database; `sqlite` is set on the embedded tier (the SQLite pacer shares it). */
export interface LedgerDb {
  db: Kysely<LedgerDatabase>;
  dialect: 'sqlite' | 'postgres';
  sqlite?: BetterSqlite3.Database;
  /**
   * Runs `work` on the SQLite connection while no ledger transaction is open on it. Ledger transactions stay open
   * across awaits; a statement run on the shared connection meanwhile would join them and roll back with them.
   */
  outsideTransactions?: <T>(work: () => T) => Promise<T>;
  /** The WAL checkpointer of a SQLite file (none for :memory:, or when the file could not use WAL). */
  checkpointer?: WalCheckpointer;
  close(): Promise<void>;
}

/** What opening a ledger may be given. */
export interface LedgerDbOptions {
  /** Told when the SQLite WAL checkpointer fails; without it, a process warning is emitted. */
  onCheckpointerFailure?: (err: Error) => void;
}

/** The SQLite file path of a DATABASE_URL, or null when it names PostgreSQL. */
export function sqlitePathOf(databaseUrl: string): string | null {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return null;
  return databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : databaseUrl;
}

/**
 * The SQLite handle as kysely sees it, with prepared statements kept per SQL text: kysely prepares every query
 * afresh, and preparing costs more than running the small indexed queries of the dispatch path. The SQL texts are
 * few (queries are built from fixed shapes), and the cache is bounded anyway.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (!stmt) {
        stmt = sqlite.prepare(sqlText);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, stmt);
      }
      return stmt as unknown as SqliteStatement;
    },
  };
}

/** Opens (creating when needed) and migrates the ledger. */
export async function openLedgerDb(databaseUrl: string, options: LedgerDbOptions = {}): Promise<LedgerDb> {
  const file = sqlitePathOf(databaseUrl);
  if (file === null) {
    // Times are millisecond integers in bigint columns; pg would hand them back as strings.
    types.setTypeParser(20, (v) => Number(v));
    const pool = new Pool({ connectionString: databaseUrl, max: 10 });
    let closing = false;
    // An idle connection the server ended (a restart, a failover, an administrator) is already out of the pool and
    // the next query opens a new one; unheard, its 'error' event would end the process. After close, pool.end() has
    // let go of connections that are still closing, and a database dropped meanwhile ends them: nothing to tell.
    pool.on('error', (err) => {
      if (!closing) process.emitWarning(`An idle PostgreSQL connection of the ledger was lost: ${err.message}`);
    });
    // pg-pool listens to a connection only while it is idle: ended while checked out (between the statements of a
    // transaction), it would emit 'error' to nobody. Heard here, the connection turns unusable, so the caller's next
    // statement rejects (its normal error handling applies) and the pool drops the connection on release.
    pool.on('connect', (client) => {
      client.on('error', (err) => {
        if (!closing) process.emitWarning(`A PostgreSQL connection of the ledger in use was lost: ${err.message}`);
      });
    });
    const db = new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) });
    await migrateLedger(db as Kysely<unknown>);
    return {
      db,
      dialect: 'postgres',
      close: () => {
        closing = true;
        return db.destroy();
      },
    };
  }
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new BetterSqlite3(inMemory ? ':memory:' : file);
  const wal = sqlite.pragma('journal_mode = WAL', { simple: true }) === 'wal';
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // A WAL that a burst made large is cut back to this size when SQLite next starts it over.
  sqlite.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
  const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  await migrateLedger(db as Kysely<unknown>);
  const checkpointer =
    wal && !inMemory
      ? startWalCheckpointer({
          file: path.resolve(file),
          connection: sqlite,
          onFailure:
            options.onCheckpointerFailure ??
            ((err) =>
              process.emitWarning(`SQLite WAL checkpointer failed, automatic checkpoints are back on: ${err.message}`)),
        })
      : undefined;
  let closed = false;
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    // kysely holds its one SQLite connection (a mutex) for a whole transaction, so taking it here waits for the end.
    outsideTransactions: (work) => db.connection().execute(async () => work()),
    checkpointer,
    close: async () => {
      if (closed) return;
      closed = true;
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}
