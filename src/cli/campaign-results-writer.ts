/**
 * Writes the results copy of a campaign file (FILE.results.csv) in the file's own format: the same delimiter, BOM and
 * line ends, so Excel opens it as it opened the original. csv-stringify does the quoting; the file is replaced
 * atomically, so an interrupted write never leaves half a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { CsvFormat } from './campaign-csv-reader';

const RESULTS_SUFFIX = '.results.csv';

/** True when the path is already a results copy (running on it updates it in place). */
export function isResultsFile(file: string): boolean {
  return file.toLowerCase().endsWith(RESULTS_SUFFIX);
}

/** FILE.csv → FILE.results.csv; a results file is its own results file. */
export function resultsPathFor(file: string): string {
  if (isResultsFile(file)) return file;
  return file.replace(/\.csv$/i, '') + RESULTS_SUFFIX;
}

/** The campaign's name: the file name without `.results.csv` / `.csv`. */
export function campaignBaseName(file: string): string {
  return path
    .basename(file)
    .replace(/\.results\.csv$/i, '')
    .replace(/\.csv$/i, '');
}

/** Serialises rows in the given format. */
export function toCsvText(rows: string[][], format: CsvFormat): string {
  const body = stringify(rows, {
    delimiter: format.delimiter,
    record_delimiter: format.eol === '\r\n' ? 'windows' : 'unix',
  });
  return (format.bom ? '\uFEFF' : '') + body;
}

/** Writes the file through a temporary file in the same folder and a rename. */
export function writeResultsFile(file: string, rows: string[][], format: CsvFormat): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, toCsvText(rows, format), 'utf8');
  fs.renameSync(tmp, file);
}
