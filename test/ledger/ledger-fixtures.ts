/**
 * Shared fixtures of the ledger's tests: a run of n pending create rows, and a ledger opened on either dialect (a
 * fresh SQLite file or a fresh PostgreSQL database) for `describe.each(['sqlite', 'postgres'])`.
 */
import type { Clock } from '../../src/clock';
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
