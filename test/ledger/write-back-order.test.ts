/**
 * The order in which the write-back's background loop visits spreadsheets, on both dialects: the spreadsheet whose
 * oldest unwritten result is oldest comes first, whatever order the spreadsheets' runs were created in, so a pass
 * slowed by the Sheets write budget serves the sheets that have waited longest before the others.
 */
import { ManualClock } from '../../src/clock';
import type { RunLedger } from '../../src/ledger/run-ledger';
import { newRunOf, ledgerPerTest } from './ledger-fixtures';

jest.setTimeout(30_000);

/** A two-row run of its own tenant, so claiming that tenant's next row finds this sheet's rows. */
const run = (spreadsheetId: string) => newRunOf({ spreadsheetId, tenantId: `tnt_${spreadsheetId}` }, 2);

describe.each(['sqlite', 'postgres'] as const)('spreadsheetsWithPendingWrites on %s', (dialect) => {
  const clock = new ManualClock(1_000_000);
  const opened = ledgerPerTest(dialect, clock);

  /** Records a result for the next row of `spreadsheetId`'s run and returns the row's id. */
  async function result(ledger: RunLedger, spreadsheetId: string): Promise<string> {
    const row = await ledger.claimNext(`tnt_${spreadsheetId}`, 'w1', clock.now(), 60_000);
    await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: `pst_${row!.id}` });
    return row!.id;
  }

  it('when results arrive in another order than the sheets were created, then the sheet waiting longest comes first', async () => {
    const { ledger } = opened();
    for (const id of ['sheet-a', 'sheet-b', 'sheet-c', 'sheet-d']) await ledger.createRun(run(id));
    const firstOfC = await result(ledger, 'sheet-c');
    await result(ledger, 'sheet-a');
    await result(ledger, 'sheet-d');
    await result(ledger, 'sheet-b');
    // A newer result of sheet-c does not make its older one wait less.
    await result(ledger, 'sheet-c');
    expect(await ledger.writeBack.spreadsheetsWithPendingWrites()).toEqual([
      'sheet-c',
      'sheet-a',
      'sheet-d',
      'sheet-b',
    ]);

    // Once its oldest result is written, sheet-c waits only for its newest one: it goes behind the others.
    const [w] = await ledger.writeBack.pendingWrites('sheet-c', 1);
    expect(w!.rowId).toBe(firstOfC);
    await ledger.writeBack.markWritten([{ rowId: w!.rowId, version: w!.version }]);
    expect(await ledger.writeBack.spreadsheetsWithPendingWrites()).toEqual([
      'sheet-a',
      'sheet-d',
      'sheet-b',
      'sheet-c',
    ]);
  });
});
