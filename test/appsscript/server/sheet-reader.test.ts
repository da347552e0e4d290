import { dateToSerial, readSheet, selectedRowNumbers } from '../../../appsscript/server/sheet-reader';
import { createFakes, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
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

  it('reads the sheet with one getValues and skips blank rows', () => {
    const snap = readSheet();
    expect(sheet.calls.getValues).toBe(1);
    expect(snap.rows.map((r) => r.rowNumber)).toEqual([2, 3, 5]);
    expect(snap).toMatchObject({ sheetName: 'Posts', spreadsheetTimeZone: 'Europe/Lisbon', sheetId: sheet.sheetId });
  });

  it('fills a key into rows without one, keeps existing keys, and writes the key column once', () => {
    const snap = readSheet();
    const key2 = snap.keyByRow.get(2)!;
    expect(key2).toMatch(/^r-[0-9a-f]{10}$/);
    expect(snap.keyByRow.get(3)).toBe('r-existing');
    expect(snap.keysFilled).toBe(1);
    expect(sheet.cells()[1]![0]).toBe(key2);
    expect(sheet.cells()[3]![0]).toBe('');
    expect(readSheet().keyByRow.get(2)).toBe(key2);
  });

  it('adds the missing output columns to the header and sends the header as written', () => {
    const snap = readSheet();
    expect(snap.headersAdded).toEqual(['Post ID', 'Error', 'Scheduled (UTC)', 'Link', 'Run', 'Updated']);
    expect(sheet.cells()[0]).toEqual(snap.header);
    expect(snap.rows[0]!.values).toHaveLength(snap.header.length);
    expect(readSheet().headersAdded).toEqual([]);
  });

  it('gives a copied row a new key unless it holds the post', () => {
    const cells = sampleCells();
    cells[0]!.push('Post ID');
    cells[1] = ['r-dup', 'twitter', 'acc', 'tweet', 'copy', '', '', ''];
    cells[2] = ['r-dup', 'twitter', 'acc', 'tweet', 'original', '', 'SCHEDULED', 'pst_1'];
    fakes.spreadsheet.addSheet('Dup', cells);
    const snap = readSheet();
    expect(snap.keyByRow.get(3)).toBe('r-dup');
    expect(snap.keyByRow.get(2)).not.toBe('r-dup');
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
