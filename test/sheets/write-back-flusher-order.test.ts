/**
 * The background loop's pass over spreadsheets with the real ledger (SQLite) and the Sheets fake: when the write
 * budget lets only some sheets be written in this minute, those are the sheets whose results have waited longest,
 * not the ones the ledger happens to list first.
 */
import { ManualClock, systemClock } from '../../src/clock';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import type { NewRun } from '../../src/ledger/run-ledger';
import { SlidingWindowWriteBudget, type WriteBudget } from '../../src/sheets/write-budget';
import { tempDbFile } from '../runs/publish-test-kit';
import { kitFlusher, postsCsv, startSheetsKit, type SheetsKit } from './sheets-test-kit';

const TAB = 'Posts';
const SHEETS = ['sheet-a', 'sheet-b', 'sheet-c', 'sheet-d'];

/** A one-row run (key k001) of its own tenant, so claiming that tenant's next row finds this sheet's row. */
const run = (spreadsheetId: string): NewRun => ({
  ownerSubject: 'u1',
  mode: 'publish',
  spreadsheetId,
  sheetName: TAB,
  sheetId: 0,
  workspaceId: 'wks_1',
  tenantId: `tnt_${spreadsheetId}`,
  apiKeySealed: 'sealed',
  rows: [{ rowKey: 'k001', rowNumber: 2, kind: 'create', state: 'pending', bodyJson: '{}', writeBack: true }],
});

/**
 * `limit` writes per minute of a clock that does not move: the real sliding window counts the writes, and a write
 * it refuses fails at once instead of waiting for the next minute (that sheet's results stay in the ledger).
 */
function writesThisMinute(limit: number): WriteBudget {
  const window = new SlidingWindowWriteBudget({ limit, windowMs: 60_000, clock: new ManualClock(0) });
  return {
    tryTake: () => window.tryTake(),
    take: async () => {
      const r = await window.tryTake();
      if (r.ok) return r.slot;
      throw new Error('no write left in this minute');
    },
  };
}

describe('write-back pass order', () => {
  let kit: SheetsKit;
  let opened: OpenedLedger;
  beforeEach(async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000 });
    opened = await openLedger(`sqlite:${tempDbFile()}`, systemClock);
  });
  afterEach(async () => {
    await opened.close();
    await kit.fake.close();
  });

  it('when the write budget allows two flushes in this pass, then the two sheets waiting longest are the ones written', async () => {
    const { ledger } = opened;
    for (const id of SHEETS) {
      kit.fake.loadCsv(id, TAB, postsCsv(1));
      await ledger.createRun(run(id));
    }
    // Results arrive in another order than the runs were created: d first, then b, a, c.
    for (const id of ['sheet-d', 'sheet-b', 'sheet-a', 'sheet-c']) {
      const row = await ledger.claimNext(`tnt_${id}`, 'w1', Date.now(), 60_000);
      await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: `pst_${id}` });
    }
    const client = kit.client({ budget: writesThisMinute(2) });
    const outcomes = await kitFlusher(ledger.writeBack, client, { maxHoldMs: 0 }).flushDue();

    expect(outcomes.map((o) => o.spreadsheetId)).toEqual(['sheet-d', 'sheet-b', 'sheet-a', 'sheet-c']);
    const status = (id: string) => {
      const v = kit.fake.getValues(id, TAB);
      return v[1]![v[0]!.indexOf('Status')] ?? '';
    };
    expect(SHEETS.filter((id) => status(id) === 'SCHEDULED')).toEqual(['sheet-b', 'sheet-d']);
    // The two sheets left out wait in the ledger, and the next pass starts with them.
    expect(await ledger.writeBack.spreadsheetsWithPendingWrites()).toEqual(['sheet-a', 'sheet-c']);
  });
});
