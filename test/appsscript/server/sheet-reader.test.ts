import { dateToSerial, readSheet, selectedRowNumbers } from '../../../appsscript/server/sheet-reader';
import { createFakes, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import type { RawCell } from '../../../appsscript/server/apps-script-types';
import type { FakeSheet } from '../fakes/fake-spreadsheet-app';
import { sampleCells } from '../fakes/sample-sheet';

describe('sheet reader', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  let sheet: FakeSheet;
  beforeEach(() => {
    fakes = createFakes({ cells: sampleCells() });
    sheet = fakes.spreadsheet.activeSheet;
    uninstall = installFakes(fakes);
  });
  afterEach(() => uninstall());

  it('reads the sheet with one getValues when nothing needs writing, and skips blank rows', () => {
    readSheet(); // fills one key and adds the output headers: a second read under the lock
    expect(sheet.calls.getValues).toBe(2);
    const snap = readSheet();
    expect(sheet.calls.getValues).toBe(3);
    expect(snap.rows.map((r) => r.rowNumber)).toEqual([2, 3, 5]);
    expect(snap).toMatchObject({ sheetName: 'Posts', spreadsheetTimeZone: 'Europe/Lisbon', sheetId: sheet.sheetId });
  });

  it('fills a key into the blank Key cell only, under the document lock, and keeps existing keys', () => {
    const snap = readSheet();
    const key2 = snap.keyByRow.get(2)!;
    expect(key2).toMatch(/^r-[0-9a-f]{10}$/);
    expect(snap.keyByRow.get(3)).toBe('r-existing');
    expect(snap.keysFilled).toBe(1);
    expect(sheet.cells()[1]![0]).toBe(key2);
    expect(sheet.cells()[3]![0]).toBe('');
    // One write of the new headers and one of the single Key cell: never the whole column.
    expect(sheet.writes).toEqual([
      { row: 1, column: 8, numRows: 1, numColumns: 6, underLock: true },
      { row: 2, column: 1, numRows: 1, numColumns: 1, underLock: true },
    ]);
    expect(fakes.spreadsheet.documentLock.held).toBe(false);
    expect(readSheet().keyByRow.get(2)).toBe(key2);
  });

  it('a sort and an edit between the read and the key write move no key: moved or edited rows are left alone', () => {
    const cells: RawCell[][] = [
      [
        'Key',
        'Platform',
        'Account',
        'Content',
        'Status',
        'Post ID',
        'Error',
        'Scheduled (UTC)',
        'Link',
        'Run',
        'Updated',
      ],
      ['', 'instagram', 'acc_ig', 'A'],
      ['', 'twitter', 'acc_tw', 'B'],
      ['', 'linkedin', 'acc_li', 'C'],
      ['', 'twitter', 'acc_tw', 'D'],
      ['', 'twitter', 'acc_tw', 'E'],
    ];
    const posts = fakes.spreadsheet.addSheet('Sorted', cells);
    posts.afterGetValues = () => {
      posts.sortBy(1); // instagram A, linkedin C, twitter B, D, E: rows 3 and 4 swap content
      posts.edit(6, 4, 'E, edited');
    };
    const snap = readSheet();
    const now = posts.cells().slice(1);
    const keyOf = (content: string) => now.find((r) => r[3] === content)![0];
    // Every key written stands beside the content it was made for, as sent to the service.
    for (const row of snap.rows) expect(keyOf(String(row.values[3]))).toBe(row.values[0]);
    expect(snap.rows.map((r) => r.values[3])).toEqual(['A', 'D']);
    expect(keyOf('A')).toMatch(/^r-/);
    expect(keyOf('D')).toMatch(/^r-/);
    expect([keyOf('B'), keyOf('C'), keyOf('E, edited')]).toEqual(['', '', '']);
    expect(snap.keysLeftAlone).toEqual([3, 4, 6]);
    expect(posts.writes.every((w) => w.underLock && w.column === 1 && w.numColumns === 1)).toBe(true);
  });

  it('a key another action filled meanwhile beside the same row is used, not overwritten', () => {
    const posts = fakes.spreadsheet.addSheet('Shared', [
      [
        'Key',
        'Platform',
        'Account',
        'Content',
        'Status',
        'Post ID',
        'Error',
        'Scheduled (UTC)',
        'Link',
        'Run',
        'Updated',
      ],
      ['', 'twitter', 'acc_tw', 'Hello'],
    ]);
    posts.afterGetValues = () => posts.edit(2, 1, 'r-fromcolleague');
    const snap = readSheet();
    expect(snap.keyByRow.get(2)).toBe('r-fromcolleague');
    expect(posts.cells()[1]![0]).toBe('r-fromcolleague');
    expect(posts.writes).toEqual([]);
  });

  it('a headerless notes column is never read or written as Key: the Key column is added after it', () => {
    const posts = fakes.spreadsheet.addSheet('Notes', [
      ['Platform', 'Account', 'Content', 'Status', ''],
      ['twitter', 'acc_tw', 'One', '', 'ask Sarah'],
      ['twitter', 'acc_tw', 'Two', '', 'ask Sarah'],
      ['twitter', 'acc_tw', 'Three', '', ''],
    ]);
    const snap = readSheet();
    expect(snap.header.slice(0, 6)).toEqual(['Platform', 'Account', 'Content', 'Status', '', 'Key']);
    const keys = [...snap.keyByRow.values()];
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(key).toMatch(/^r-[0-9a-f]{10}$/);
    expect(
      posts
        .cells()
        .slice(1)
        .map((r) => r[4]),
    ).toEqual(['ask Sarah', 'ask Sarah', '']);
    expect(
      posts
        .cells()
        .slice(1)
        .map((r) => r[5]),
    ).toEqual(keys);
    expect(posts.writes.some((w) => w.column <= 5 && w.column + w.numColumns > 5)).toBe(false);
  });

  it('finds Key and the output columns by their aliases, and adds nothing a differently named column provides', () => {
    const posts = fakes.spreadsheet.addSheet('Aliases', [
      [
        'Row ID',
        'Network',
        'Handle',
        'Caption',
        'status',
        'Postato post id',
        'Errors',
        'UTC',
        'URL',
        'Run ID',
        'Last updated',
      ],
      ['r-1', 'twitter', 'acc_tw', 'Hi', 'SCHEDULED', 'pst_1'],
    ]);
    const snap = readSheet();
    expect(snap.headersAdded).toEqual([]);
    expect(snap.keyByRow.get(2)).toBe('r-1');
    expect(snap.statusByRow.get(2)).toBe('SCHEDULED');
    expect(posts.writes).toEqual([]);
  });

  it('says so when another action holds the document lock, and writes nothing', () => {
    fakes.spreadsheet.documentLock.heldElsewhere = true;
    expect(() => readSheet()).toThrow(/Another Postato action on this spreadsheet is still filling row keys/);
    expect(sheet.writes).toEqual([]);
  });

  it('adds the missing output columns to the header and sends the header as written', () => {
    const snap = readSheet();
    expect(snap.headersAdded).toEqual(['Post ID', 'Error', 'Scheduled (UTC)', 'Link', 'Run', 'Updated']);
    expect(sheet.cells()[0]).toEqual(snap.header);
    expect(snap.rows[0]!.values).toHaveLength(snap.header.length);
    expect(readSheet().headersAdded).toEqual([]);
  });

  it('never rewrites a copied key: only blank Key cells are filled, and the duplicate is left for the dry run to flag', () => {
    const cells = sampleCells();
    cells[0]!.push('Post ID');
    cells[1] = ['r-dup', 'twitter', 'acc', 'tweet', 'copy', '', '', ''];
    cells[2] = ['r-dup', 'twitter', 'acc', 'tweet', 'original', '', 'SCHEDULED', 'pst_1'];
    cells[3] = ['', 'twitter', 'acc', 'tweet', 'new row', '', '', ''];
    const dup = fakes.spreadsheet.addSheet('Dup', cells);
    const snap = readSheet();
    expect(snap.keyByRow.get(2)).toBe('r-dup');
    expect(snap.keyByRow.get(3)).toBe('r-dup');
    expect(snap.keyByRow.get(4)).toMatch(/^r-/);
    expect(String(dup.cells()[1]![0])).toBe('r-dup');
    expect(String(dup.cells()[3]![0])).toBe(snap.keyByRow.get(4));
  });

  it('sends dates as Sheets serial numbers of their wall-clock time in the spreadsheet zone', () => {
    const snap = readSheet();
    // 09:30 UTC on 15 Jan 2030 is 09:30 in Lisbon (WET, UTC+0).
    expect(snap.rows[0]!.values[5]).toBeCloseTo(47498 + 9.5 / 24, 8);
    expect(dateToSerial(new Date(Date.UTC(2030, 6, 1, 12)), 'America/New_York')).toBeCloseTo(47665 + 8 / 24, 8);
  });

  it('says how to start when the sheet has no header row', () => {
    fakes.spreadsheet.addSheet('Notes', [['just', 'notes']]);
    expect(() => readSheet()).toThrow(/no Postato header row.*Insert template sheet/);
  });

  it('lists the selected rows without the header', () => {
    fakes.spreadsheet.selectRows([1, 3], [5, 5]);
    expect(selectedRowNumbers(sheet)).toEqual([2, 3, 5]);
  });
});
