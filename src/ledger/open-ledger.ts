/**
 * Opens the ledger named by DATABASE_URL (SQLite file or PostgreSQL), migrated, and hands out what the tiers need
 * from it: the RunLedger and, on SQLite, the pacer that keeps its sliding log in the same file. The database handle
 * itself stays in this folder.
 */
import type { Clock } from '../clock';
import type { PacerLimits, TenantPacer } from '../pacing/tenant-pacer';
import { openLedgerDb, type LedgerDb, type LedgerDbOptions } from './ledger-db';
import { RunLedger, type LedgerWarning } from './run-ledger';
import { createSqlitePacer } from './tenant-pacer-sqlite';

/** An open ledger. */
export interface OpenedLedger {
  ledger: RunLedger;
  dialect: 'sqlite' | 'postgres';
  /** A pacer kept in the ledger's SQLite file (shared by every process that opens it); undefined on PostgreSQL. */
  sqlitePacer(limits: PacerLimits): TenantPacer | undefined;
  close(): Promise<void>;
}

/** Opens (creating when needed) and migrates the ledger. */
export async function openLedger(
  databaseUrl: string,
  clock: Clock,
  options: LedgerDbOptions & { onWarning?: LedgerWarning } = {},
): Promise<OpenedLedger> {
  const db = await openLedgerDb(databaseUrl, options);
  return {
    ledger: new RunLedger(db.db, clock, { groupWrites: db.dialect === 'sqlite', onWarning: options.onWarning }),
    dialect: db.dialect,
    sqlitePacer: (limits) => sqlitePacerOn(db, limits, clock),
    close: () => db.close(),
  };
}

/** The pacer kept in an open ledger's SQLite file; undefined on PostgreSQL. */
export function sqlitePacerOn(db: LedgerDb, limits: PacerLimits, clock: Clock): TenantPacer | undefined {
  if (!db.sqlite) return undefined;
  return createSqlitePacer({ db: db.sqlite, limits, clock, outsideTransactions: db.outsideTransactions });
}

export { sqlitePathOf } from './ledger-db';
