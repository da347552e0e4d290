// The pure write-back planner: which cells change, in which row ranges, and whether a write landed where planned.
import {
  duplicateKeyMessage,
  echoConfirmsRows,
  planCellWrites,
  rowsByKey,
  withOutputColumns,
} from '../../src/sheets/write-back-plan';
import type { SheetColumns } from '../../src/sheets/sheets-client';

const HEADER = ['Key', 'Content', 'Status', 'Post ID', 'Error'];

/** A sheet of `rows` (each [key, content, status, postId, error]) under HEADER. */
function sheet(rows: string[][]): SheetColumns {
  const grid = [HEADER, ...rows];
  const columns = new Map<string, string[]>();
  HEADER.forEach((h, c) =>
    columns.set(
      h,
      grid.map((r) => r[c] ?? ''),
    ),
  );
  return { header: HEADER, keyColumn: 0, keys: grid.map((r) => r[0] ?? ''), columns } as SheetColumns;
}

describe('rowsByKey', () => {
  it('maps each key to its 1-based sheet rows, trimming keys and leaving out the header and blank keys', () => {
    const m = rowsByKey(['Key', 'a', ' b ', '', 'a', '  ']);
    expect([...m.entries()]).toEqual([
      ['a', [2, 5]],
      ['b', [3]],
    ]);
  });
});

describe('withOutputColumns', () => {
  it('appends only the missing columns after the last non-empty header cell, and writes their header cells', () => {
    const { header, writes } = withOutputColumns(['Key', 'Content', 'status', '', ''], 'My Posts', [
      'Status',
      'Post ID',
      'Error',
    ]);
    // "status" already exists (names match without case); the new ones go right after "status", not after the blanks.
    expect(header).toEqual(['Key', 'Content', 'status', 'Post ID', 'Error', '', '']);
    expect(writes).toEqual([
      { range: "'My Posts'!D1", values: [['Post ID']] },
      { range: "'My Posts'!E1", values: [['Error']] },
    ]);
  });

  it('when every column exists, then nothing is written', () => {
    expect(withOutputColumns(HEADER, 'Posts', ['Status', 'Error']).writes).toEqual([]);
  });
});

describe('planCellWrites', () => {
  const current = sheet([
    ['k1', 'hello', 'READY', '', ''],
    ['k2', 'world', 'SCHEDULED', 'pst_2', ''],
    ['', 'no key', '', '', ''],
    ['k3', 'again', 'READY', '', 'old error'],
  ]);

  it('writes one range per changed row, spanning only its changed cells with nulls for the cells in between', () => {
    const desired: Record<string, Record<string, string>> = {
      k1: { Status: 'SCHEDULED', 'Post ID': 'pst_1', Error: '' },
      k2: { Status: 'SCHEDULED', 'Post ID': 'pst_2' },
      k3: { Status: 'FAILED', Error: 'new error', Unknown: 'ignored' },
    };
    const plan = planCellWrites('Posts', HEADER, current, (key) => desired[key] ?? null);
    expect(plan.writes).toEqual([
      { range: "'Posts'!C2:D2", values: [['SCHEDULED', 'pst_1']] },
      { range: "'Posts'!C5:E5", values: [['FAILED', null, 'new error']] },
    ]);
    expect(plan.rows).toEqual([
      { key: 'k1', row: 2, from: 2 },
      { key: 'k3', row: 5, from: 2 },
    ]);
    expect(plan.cells).toBe(4);
  });

  it('with a span column, every range reaches it (left alone) so the echo shows the key; null desired rows are skipped', () => {
    const plan = planCellWrites(
      'Posts',
      HEADER,
      current,
      (key, row) => (key === 'k3' && row === 5 ? { Status: 'FAILED' } : null),
      { spanColumn: 0 },
    );
    expect(plan.writes).toEqual([{ range: "'Posts'!A5:C5", values: [[null, null, 'FAILED']] }]);
    expect(plan.rows).toEqual([{ key: 'k3', row: 5, from: 0 }]);
  });
});

describe('echoConfirmsRows', () => {
  const planned = [
    { key: 'k1', row: 2, from: 0 },
    { key: 'k3', row: 5, from: 0 },
  ];

  it('when each echo shows its planned key in the key column, then the writes landed where planned', () => {
    expect(echoConfirmsRows(planned, 0, [[['k1', 'x']], [[' k3 ', 'y']]])).toBe(true);
  });

  it('when a row moved (another key or none in the echo), then the writes are not confirmed', () => {
    expect(echoConfirmsRows(planned, 0, [[['k1']], [['k2']]])).toBe(false);
    expect(echoConfirmsRows(planned, 0, [[['k1']]])).toBe(false);
  });
});

describe('duplicateKeyMessage', () => {
  it('names the key and every row that shares it, and says how to fix it', () => {
    expect(duplicateKeyMessage('k1', [2, 7])).toBe(
      'The key "k1" appears on rows 2, 7. Give each row its own key (clear the Key cell of the copies) and publish again.',
    );
  });
});
