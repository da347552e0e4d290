/**
 * The browser test's sheet: the fake SpreadsheetApp reads and writes the very cells the Sheets fake serves over its
 * HTTP API, so what the service writes back through googleapis is what the add-on (and the test) then sees.
 */
import type { RawCell } from '../../appsscript/server/apps-script-types';
import type { SheetsFake } from '../../src/sandbox/sheets-fake';
import type { SheetCells } from './sidebar-harness';

/** Apps Script hands the Sheets API text; a Date or number becomes its string form, null an empty cell. */
function toText(value: RawCell): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** SheetCells over one sheet of the Sheets fake. Each write is a read-modify-write of the whole sheet, done in one
 * synchronous step on the main thread, so it cannot interleave with the service's batchUpdate requests. */
export function sheetsFakeCells(sheets: SheetsFake, spreadsheetId: string, sheetName: string): SheetCells {
  return {
    metadata: {
      add: (key, value, visibility) =>
        void sheets.addDeveloperMetadata(spreadsheetId, { metadataKey: key, metadataValue: value, visibility }),
      list: () =>
        sheets
          .developerMetadata(spreadsheetId)
          .map((m) => ({ id: m.metadataId, key: m.metadataKey, value: m.metadataValue })),
      remove: (id) => sheets.deleteDeveloperMetadata(spreadsheetId, id),
    },
    read: () => sheets.getValues(spreadsheetId, sheetName),
    write(row, column, values) {
      const cells = sheets.getValues(spreadsheetId, sheetName);
      values.forEach((line, i) => {
        const target = (cells[row - 1 + i] ??= []);
        line.forEach((v, j) => {
          while (target.length < column - 1 + j) target.push('');
          target[column - 1 + j] = toText(v);
        });
      });
      for (let i = 0; i < cells.length; i++) cells[i] ??= [];
      sheets.setValues(spreadsheetId, sheetName, cells);
    },
  };
}
