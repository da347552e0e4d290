/**
 * Shared fixtures of the ledger's tests: a run of n pending create rows, and a ledger opened on either dialect (a
 * fresh SQLite file or a fresh PostgreSQL database) for `describe.each(['sqlite', 'postgres'])`.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../src/clock';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import type { NewRun } from '../../src/ledger/run-ledger';
import { createPgTestDb } from '../contract/tier-kit';
import { tempDbFile } from '../runs/publish-test-kit';

/** A publish run of tenant tnt_a on sheet-1 with n pending create rows keyed k0…k(n−1); `over` replaces fields. */
export function newRunOf(over: Partial<NewRun> = {}, n = 3): NewRun {
  return {
    ownerSubject: 'u1',
    mode: 'publish',
    spreadsheetId: 'sheet-1',
    sheetName: 'Posts',
    sheetId: 0,
    workspaceId: 'wks_1',
    tenantId: 'tnt_a',
    apiKeySealed: 'sealed',
    rows: Array.from({ length: n }, (_, i) => ({
      rowKey: `k${i}`,
      rowNumber: i + 2,
      kind: 'create' as const,
      state: 'pending' as const,
      bodyJson: `{"content":"${i}"}`,
      writeBack: false,
    })),
    ...over,
  };
}

/** The two ledger dialects. */
export type LedgerDialect = 'sqlite' | 'postgres';

/** Opens a ledger on a fresh database of the dialect; `close` also drops a PostgreSQL database. */
export async function openLedgerOn(
  dialect: LedgerDialect,
  clock: Clock,
): Promise<{ opened: OpenedLedger; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const opened = await openLedger(`sqlite:${tempDbFile()}`, clock);
    return { opened, close: () => opened.close() };
  }
  const pg = await createPgTestDb();
  const opened = await openLedger(pg.url, clock);
  return {
    opened,
    close: async () => {
      await opened.close();
      await pg.drop();
    },
  };
}

/** A fresh ledger of the dialect for each test of the calling describe block (opened before, closed and dropped after). */
export function ledgerPerTest(dialect: LedgerDialect, clock: Clock): () => OpenedLedger {
  let current: { opened: OpenedLedger; close(): Promise<void> } | undefined;
  beforeEach(async () => {
    current = await openLedgerOn(dialect, clock);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('ledgerPerTest: the ledger is only open inside a test');
    return current.opened;
  };
}

/** The bare ledger database (no RunLedger) on a fresh database of the dialect; `drop` removes a PostgreSQL database after close. */
export async function openLedgerDbOn(dialect: LedgerDialect): Promise<{ handle: LedgerDb; drop(): Promise<void> }> {
  if (dialect === 'sqlite')
    return { handle: await openLedgerDb(`sqlite:${tempDbFile()}`), drop: async () => undefined };
  const pg = await createPgTestDb();
  return { handle: await openLedgerDb(pg.url), drop: pg.drop };
}

/** One SQLite ledger database for the calling test file: opened before its tests, closed and removed after. */
export function sqliteLedgerDbPerFile(): () => LedgerDb {
  const file = tempDbFile();
  let handle: LedgerDb | undefined;
  beforeAll(async () => {
    handle = await openLedgerDb(`sqlite:${file}`);
  });
  afterAll(async () => {
    await handle?.close();
    rmSync(dirname(file), { recursive: true, force: true });
  });
  return () => {
    if (!handle) throw new Error('sqliteLedgerDbPerFile: the database is only open inside the tests');
    return handle;
  };
}
