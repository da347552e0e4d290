/**
 * Reads a campaign CSV the way Google Sheets and Excel export it: comma or semicolon separated, with or without a
 * UTF-8 BOM, LF or CRLF line ends, quoted cells spanning lines. csv-parse does the parsing; this module picks the
 * delimiter, keeps the file's format for the results copy and turns parse errors into messages naming the row.
 */
import { parse } from 'csv-parse/sync';
import { CampaignError } from './campaign-errors';

/** How the file was written, so the results copy can be written the same way. */
export interface CsvFormat {
  delimiter: ',' | ';';
  bom: boolean;
  eol: '\r\n' | '\n';
}

/** One data record; rowNumber counts like a spreadsheet (the header is row 1). */
export interface CsvRecord {
  rowNumber: number;
  values: string[];
}

/** A parsed campaign file. */
export interface CampaignCsv {
  format: CsvFormat;
  header: string[];
  records: CsvRecord[];
}

const UTF8_BOM = '\uFEFF';

/** Decodes the bytes as UTF-8, refusing UTF-16 and legacy code pages with what to do in Excel instead. */
function decode(bytes: Buffer, fileLabel: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new CampaignError(
      `${fileLabel} is UTF-16 text (Excel's "Unicode Text"), not a CSV: save it as "CSV UTF-8 (Comma delimited)".`,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CampaignError(
      `${fileLabel} is not UTF-8 text (it was probably saved as "CSV (Comma delimited)" in a legacy code page): in Excel, save it as "CSV UTF-8 (Comma delimited)".`,
    );
  }
}

/** The header line decides: Excel writes `;` in locales whose decimal separator is a comma, Sheets always `,`. */
function detectDelimiter(text: string): ',' | ';' {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const count = (ch: string) => firstLine.split(ch).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

interface CsvParseError extends Error {
  code?: string;
  lines?: number;
  records?: number;
}

/** Turns a csv-parse error into one sentence naming the row (and the line, which differs when cells span lines). */
function parseErrorMessage(err: CsvParseError, fileLabel: string): string {
  const row = (err.records ?? 0) + 1;
  const where = `${fileLabel}, row ${row}${err.lines ? ` (line ${err.lines})` : ''}`;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `${fileLabel}, row ${row}: a quoted cell opened in this row is never closed. Add the closing " (a " inside a quoted cell is written "").`;
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `${where}: a " in the middle of a cell. Quote the whole cell and double the " inside it ("like ""this""").`;
    default:
      return `${where}: the CSV cannot be read (${err.message}).`;
  }
}

/** Parses a campaign CSV; throws a CampaignError naming the row for anything it cannot read. */
export function readCampaignCsv(bytes: Buffer, fileLabel: string): CampaignCsv {
  const decoded = decode(bytes, fileLabel);
  const bom = decoded.startsWith(UTF8_BOM);
  const text = bom ? decoded.slice(1) : decoded;
  if (text.trim() === '') throw new CampaignError(`${fileLabel} is empty: it needs a header row and one row per post.`);
  const delimiter = detectDelimiter(text);
  const eol: CsvFormat['eol'] = (text.split('\n', 1)[0] ?? '').endsWith('\r') ? '\r\n' : '\n';
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: false }) as string[][];
  } catch (err) {
    throw new CampaignError(parseErrorMessage(err as CsvParseError, fileLabel));
  }
  const [header = [], ...data] = rows;
  const width = header.length;
  const records = data.map((raw, i): CsvRecord => {
    const rowNumber = i + 2;
    const extra = raw.slice(width).filter((v) => v.trim() !== '');
    if (extra.length > 0) {
      throw new CampaignError(
        `${fileLabel}, row ${rowNumber}: it has ${raw.length} cells but the header has ${width}. A "${delimiter}" inside a cell needs the cell in quotes.`,
      );
    }
    // Cells keep their own line breaks as LF, the way a sheet holds them (Excel writes CRLF inside quoted cells too).
    const values = Array.from({ length: width }, (_, c) => (raw[c] ?? '').replace(/\r\n?/g, '\n'));
    return { rowNumber, values };
  });
  return { format: { delimiter, bom, eol }, header, records };
}
