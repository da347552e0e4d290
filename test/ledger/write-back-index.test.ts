/**
 * The write-back asks, per flush, for the next results of a spreadsheet not yet in it. On SQLite that query must read
 * the partial index of unwritten results in result order, not filter and sort every row the spreadsheet ever had:
 * the index serves it only while the query states its condition the way the index does (`removed = 0` literally).
 */
import { systemClock } from '../../src/clock';
import { createWriteBackQueries } from '../../src/ledger/write-back-queries';
import { sqliteLedgerDbPerFile } from './ledger-fixtures';

const ledgerDb = sqliteLedgerDbPerFile();

/** The SQL texts the ledger prepares while `work` runs (its statement cache prepares each new text once). */
async function sqlPreparedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const sqlite = ledgerDb().sqlite!;
  const texts: string[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  const spy = jest.spyOn(sqlite, 'prepare').mockImplementation((text: string) => {
    texts.push(text);
    return prepare(text);
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return texts;
}

function planOf(sqlText: string): string[] {
  const params = Array.from({ length: (sqlText.match(/\?/g) ?? []).length }, () => null);
  return ledgerDb()
    .sqlite!.prepare(`explain query plan ${sqlText}`)
    .all(...params)
    .map((r) => (r as { detail: string }).detail);
}

test('when the write-back asks for a spreadsheet’s pending results, then SQLite reads them off the unwritten-results index in order', async () => {
  const store = createWriteBackQueries(ledgerDb().db, systemClock);
  const texts = await sqlPreparedDuring(() => store.pendingWrites('sheet-1', 50));
  const pending = texts.find((t) => t.includes('written_version'));
  expect(pending).toBeDefined();
  const plan = planOf(pending!);
  expect(plan.join('\n')).toContain('run_rows USING INDEX run_rows_unwritten_by_seq (spreadsheet_id=?)');
  expect(plan.join('\n')).not.toContain('TEMP B-TREE');
});

test('when the write-back lists spreadsheets with pending results, then SQLite scans only the unwritten-results index', async () => {
  const store = createWriteBackQueries(ledgerDb().db, systemClock);
  const texts = await sqlPreparedDuring(() => store.spreadsheetsWithPendingWrites());
  const listing = texts.find((t) => t.includes('written_version'));
  expect(listing).toBeDefined();
  expect(planOf(listing!).join('\n')).toContain('run_rows USING INDEX run_rows_unwritten_by_seq');
});
