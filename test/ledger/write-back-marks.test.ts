/**
 * The write-back's marks of rows it could not write (key gone from the sheet, key on several rows), on both dialects,
 * when a newer result of the row lands between the flush's read and its mark: the mark is for the version the flush
 * read, so it must leave the newer result alone (its Error cell, and its place in the queue); the next flush judges it.
 */
import { ManualClock } from '../../src/clock';
import type { RunLedger } from '../../src/ledger/run-ledger';
import { ledgerPerTest, newRunOf, type LedgerDialect } from './ledger-fixtures';

const NEWER_ERROR = 'Postato could not deliver the post: token expired.';

describe.each<LedgerDialect>(['sqlite', 'postgres'])('write-back marks of a row that moved on (%s)', (dialect) => {
  const clock = new ManualClock(1_900_000_000_000);
  const opened = ledgerPerTest(dialect, clock);

  /** A row with a result the flush has read, and a newer result recorded after that read. */
  async function rowThatMovedOn(ledger: RunLedger) {
    await ledger.createRun(newRunOf({}, 1));
    const row = await ledger.claimNext('tnt_a', 'w1', clock.now(), 60_000);
    await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'post-1', error: '' });
    const [read] = await ledger.writeBack.pendingWrites('sheet-1', 10);
    await ledger.setResult(row!.id, {
      state: 'created',
      keepLease: true,
      sheetStatus: 'DELIVERY FAILED',
      error: NEWER_ERROR,
    });
    return read!;
  }

  it('when its key is found on several rows, then the newer result keeps its error and is still to write', async () => {
    const { ledger } = opened();
    const read = await rowThatMovedOn(ledger);

    await ledger.writeBack.markDuplicateKey([{ rowId: read.rowId, version: read.version, rowNumbers: [2, 5] }]);

    expect((await ledger.getRow(read.rowId))?.error).toBe(NEWER_ERROR);
    const [pending] = await ledger.writeBack.pendingWrites('sheet-1', 10);
    expect({ rowId: pending?.rowId, version: pending?.version }).toEqual({
      rowId: read.rowId,
      version: read.version + 1,
    });
  });

  it('when its key is gone from the sheet, then the newer result is still to write', async () => {
    const { ledger } = opened();
    const read = await rowThatMovedOn(ledger);

    await ledger.writeBack.markRemoved([{ rowId: read.rowId, version: read.version }]);

    expect((await ledger.getRow(read.rowId))?.removed).toBe(0);
    const [pending] = await ledger.writeBack.pendingWrites('sheet-1', 10);
    expect({ rowId: pending?.rowId, version: pending?.version }).toEqual({
      rowId: read.rowId,
      version: read.version + 1,
    });
  });

  it('when the row has not moved on, then the marks apply', async () => {
    const { ledger } = opened();
    await ledger.createRun(newRunOf({}, 2));
    for (const owner of ['w1', 'w2']) {
      const row = await ledger.claimNext('tnt_a', owner, clock.now(), 60_000);
      await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: `post-${owner}` });
    }
    const [dup, gone] = await ledger.writeBack.pendingWrites('sheet-1', 10);

    await ledger.writeBack.markDuplicateKey([{ rowId: dup!.rowId, version: dup!.version, rowNumbers: [2, 5] }]);
    await ledger.writeBack.markRemoved([{ rowId: gone!.rowId, version: gone!.version }]);

    expect((await ledger.getRow(dup!.rowId))?.error).toMatch(/appears on rows 2, 5/);
    expect((await ledger.getRow(gone!.rowId))?.removed).toBe(1);
    expect(await ledger.writeBack.pendingWrites('sheet-1', 10)).toEqual([]);
  });
});
