/** Builds the A1 ranges the Sheets client sends: quoted sheet names, column letters, whole rows and columns. */

/** Converts a 0-based column index to letters (0 → A, 26 → AA). */
export function columnLetters(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** Quotes a sheet title for A1 notation; quoting every title is always valid and avoids guessing which need it. */
export function quoteSheetName(title: string): string {
  return `'${title.replace(/'/g, "''")}'`;
}

/** The whole header row of a sheet (`'Posts'!1:1`). */
export function headerRowRange(sheetName: string): string {
  return `${quoteSheetName(sheetName)}!1:1`;
}

/** A whole column from row 1 (`'Posts'!C:C`). */
export function columnRange(sheetName: string, col: number): string {
  const l = columnLetters(col);
  return `${quoteSheetName(sheetName)}!${l}:${l}`;
}

/** Cells of one row from column `fromCol` to `toCol` inclusive (1-based row). */
export function rowSpanRange(sheetName: string, row: number, fromCol: number, toCol: number): string {
  return `${quoteSheetName(sheetName)}!${columnLetters(fromCol)}${row}:${columnLetters(toCol)}${row}`;
}
