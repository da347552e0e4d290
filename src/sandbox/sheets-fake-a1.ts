/**
 * The Sheets fake's own A1-notation parser (the sandbox shares no code with src/sheets/). It understands what the
 * service sends: `A1`, `A1:C10`, whole columns `A:A`, whole rows `1:1`, open ends `A2:C`, bare and quoted sheet names.
 */

/** A parsed A1 range; indexes are 0-based, an absent end means "to the end of the grid". */
export interface FakeA1Range {
  /** The sheet title, or undefined when the range named no sheet (the first sheet is meant). */
  sheet?: string;
  startRow: number;
  startCol: number;
  endRow?: number;
  endCol?: number;
}

/** Converts column letters (A, Z, AA) to a 0-based index. */
export function fakeColumnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** Converts a 0-based column index to letters. */
export function fakeColumnLetters(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

interface CellRef {
  col?: number;
  row?: number;
}

function parseRef(ref: string): CellRef | null {
  const m = /^([A-Za-z]{0,3})(\d*)$/.exec(ref);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  return {
    col: m[1] ? fakeColumnIndex(m[1]) : undefined,
    row: m[2] ? Number(m[2]) - 1 : undefined,
  };
}

/** Splits `'My sheet'!A1:B2` into its sheet and cell parts, undoing the doubled quotes of a quoted name. */
function splitSheet(range: string): { sheet?: string; cells: string } {
  if (range.startsWith("'")) {
    let i = 1;
    let name = '';
    while (i < range.length) {
      if (range[i] === "'") {
        if (range[i + 1] === "'") {
          name += "'";
          i += 2;
          continue;
        }
        break;
      }
      name += range[i];
      i++;
    }
    const rest = range.slice(i + 1);
    if (rest === '') return { sheet: name, cells: '' };
    if (!rest.startsWith('!')) throw new Error(`Unable to parse range: ${range}`);
    return { sheet: name, cells: rest.slice(1) };
  }
  const bang = range.lastIndexOf('!');
  if (bang >= 0) return { sheet: range.slice(0, bang), cells: range.slice(bang + 1) };
  // A bare word that is not a cell reference is a sheet name ("Sheet1" means the whole sheet).
  if (!/^[A-Za-z]{0,3}\d*(:[A-Za-z]{0,3}\d*)?$/.test(range)) return { sheet: range, cells: '' };
  return { cells: range };
}

/** Parses an A1 range; throws an Error whose message mimics Google's "Unable to parse range". */
export function parseFakeA1(range: string): FakeA1Range {
  const { sheet, cells } = splitSheet(range.trim());
  if (cells === '') return { sheet, startRow: 0, startCol: 0 };
  const [a, b] = cells.split(':');
  const start = parseRef(a ?? '');
  if (!start) throw new Error(`Unable to parse range: ${range}`);
  if (b === undefined) {
    if (start.col === undefined || start.row === undefined) throw new Error(`Unable to parse range: ${range}`);
    return { sheet, startRow: start.row, startCol: start.col, endRow: start.row, endCol: start.col };
  }
  const end = parseRef(b);
  if (!end) throw new Error(`Unable to parse range: ${range}`);
  return {
    sheet,
    startRow: start.row ?? 0,
    startCol: start.col ?? 0,
    endRow: end.row,
    endCol: end.col,
  };
}
