/**
 * The one place that maps a campaign CSV to the wire contract (appsscript/shared/contract.ts) and results back into
 * it: columns by the sheet contract, blank keys filled the way the add-on fills them, the campaign's `csv:` id, slash
 * dates rewritten in the file's order, and each run result written into the row with its key. A change of the wire
 * contract touches this module only.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RowResult, RunRequest } from '../../appsscript/shared/contract';
import { mapHeader, normaliseHeader, OUTPUT_COLUMNS, type ColumnName, type ColumnMap } from '../plan/sheet-contract';
import { CSV_CAMPAIGN_PREFIX } from '../plan/campaign-source';
import type { CampaignCsv, CsvRecord } from './campaign-csv-reader';
import { CampaignError } from './campaign-errors';
import { decideDateOrder, rewriteSlashDate, type DateOrder, type DateOrderDecision } from './campaign-dates';

/** The column of the results copy that keeps the campaign's id, so later runs of the file are the same campaign. */
export const CAMPAIGN_COLUMN = 'Campaign';

/** The working copy of a campaign file: the header with every output column, and the rows. */
export interface CampaignTable {
  header: string[];
  records: CsvRecord[];
  columns: ColumnMap;
  campaignColumn: number;
}

/** Adds a column at the right (or at the left for Key, where people look for it) and pads every row. */
function addColumn(table: { header: string[]; records: CsvRecord[] }, name: string, atStart = false): void {
  if (atStart) {
    table.header.unshift(name);
    for (const r of table.records) r.values.unshift('');
  } else {
    table.header.push(name);
    for (const r of table.records) r.values.push('');
  }
}

/** Checks the header against the sheet contract and adds Key, the output columns and Campaign when missing. */
export function prepareTable(csv: CampaignCsv, fileLabel: string): CampaignTable {
  const table = { header: [...csv.header], records: csv.records.map((r) => ({ ...r, values: [...r.values] })) };
  const found = mapHeader(table.header);
  if (found.missing.length > 0) {
    throw new CampaignError(
      `${fileLabel}, row 1 (the header): no ${found.missing.join(', ')} column. A campaign needs Platform, Account and Content columns (see "The sheet contract" in the README); the header has: ${table.header.filter((h) => h.trim()).join(', ') || 'nothing'}.`,
    );
  }
  if (found.index.Key === undefined) addColumn(table, 'Key', true);
  const afterKey = mapHeader(table.header);
  for (const column of OUTPUT_COLUMNS) if (afterKey.index[column] === undefined) addColumn(table, column);
  let campaignColumn = table.header.findIndex((h) => normaliseHeader(h) === normaliseHeader(CAMPAIGN_COLUMN));
  if (campaignColumn < 0) {
    addColumn(table, CAMPAIGN_COLUMN);
    campaignColumn = table.header.length - 1;
  }
  return { ...table, columns: mapHeader(table.header), campaignColumn };
}

function cell(table: CampaignTable, record: CsvRecord, column: ColumnName): string {
  const i = table.columns.index[column];
  return i === undefined ? '' : (record.values[i] ?? '').trim();
}

function setCell(table: CampaignTable, record: CsvRecord, column: ColumnName, value: string): void {
  const i = table.columns.index[column];
  if (i !== undefined) record.values[i] = value;
}

/** A row with nothing in it (Excel exports empty rows as a line of delimiters): kept in the copy, never sent. */
function isBlank(table: CampaignTable, record: CsvRecord): boolean {
  return record.values.every((v, i) => i === table.campaignColumn || v.trim() === '');
}

/** Fills blank Key cells with a new `r-…` key, as the add-on does; returns how many it filled. */
export function fillBlankKeys(table: CampaignTable): number {
  let filled = 0;
  for (const r of table.records) {
    if (isBlank(table, r) || cell(table, r, 'Key') !== '') continue;
    setCell(table, r, 'Key', `r-${randomBytes(5).toString('hex')}`);
    filled++;
  }
  return filled;
}

const CAMPAIGN_ID = /^csv:[A-Za-z0-9_-]{8,100}$/;

/**
 * The campaign's id: the one in the Campaign column of a results copy; else derived from the API key, the workspace,
 * the file's name and its first key, so running the same file again is the same campaign (and never posts twice)
 * while other people's files, even with the same keys, never share an id.
 */
export function campaignIdOf(
  table: CampaignTable,
  derive: { apiKey: string; workspaceId: string; baseName: string },
): string {
  const ids = new Map<string, number>();
  for (const r of table.records) {
    const v = (r.values[table.campaignColumn] ?? '').trim();
    if (v !== '' && !ids.has(v)) ids.set(v, r.rowNumber);
  }
  if (ids.size > 1) {
    const [[a, rowA], [b, rowB]] = [...ids.entries()] as [[string, number], [string, number]];
    throw new CampaignError(
      `Rows ${rowA} and ${rowB} belong to different campaigns (${a}, ${b}): keep one campaign per file.`,
    );
  }
  const stored = [...ids.keys()][0];
  if (stored !== undefined) {
    if (!CAMPAIGN_ID.test(stored))
      throw new CampaignError(
        `Row ${ids.get(stored)}, Campaign: "${stored}" is not a campaign id written by this command. Restore it from the results file, or clear the Campaign column to start a new campaign.`,
      );
    return stored;
  }
  const firstKey = table.records.map((r) => cell(table, r, 'Key')).find((k) => k !== '') ?? '';
  const material = JSON.stringify([
    'postato-sheets csv campaign',
    derive.apiKey,
    derive.workspaceId,
    derive.baseName,
    firstKey,
  ]);
  return CSV_CAMPAIGN_PREFIX + createHash('sha256').update(material, 'utf8').digest('hex').slice(0, 32);
}

/** Writes the campaign id into every row of the copy, so it survives sorting, deleting and adding rows. */
export function stampCampaignId(table: CampaignTable, campaignId: string): void {
  for (const r of table.records) if (!isBlank(table, r)) r.values[table.campaignColumn] = campaignId;
}

/** Settings of one request that do not come from the file. */
export interface RequestOptions {
  mode: 'dry-run' | 'publish';
  campaignId: string;
  /** Shown in run reports as the sheet name: the file's name. */
  sheetName: string;
  workspaceId: string;
  timeZone: string;
  dateOrder?: DateOrder;
  delimiter: ',' | ';';
}

/** The run request for the file, and how its slash dates were read. */
export function toRunRequest(
  table: CampaignTable,
  o: RequestOptions,
): { request: RunRequest; dates: DateOrderDecision } {
  const sent = table.records.filter((r) => !isBlank(table, r));
  const scheduled = table.columns.index['Scheduled at'];
  const dates = decideDateOrder(
    sent.map((r) => ({ rowNumber: r.rowNumber, text: cell(table, r, 'Scheduled at') })),
    o.delimiter,
    o.dateOrder,
  );
  // The Campaign column is this command's bookkeeping, not a sheet column: it is not sent.
  const keep = (_: unknown, i: number) => i !== table.campaignColumn;
  const request: RunRequest = {
    mode: o.mode,
    spreadsheetId: o.campaignId,
    sheetName: o.sheetName.slice(0, 200),
    sheetId: 0,
    spreadsheetTimeZone: o.timeZone,
    workspaceId: o.workspaceId,
    header: table.header.filter(keep),
    rows: sent.map((r) => ({
      rowNumber: r.rowNumber,
      values: r.values
        .map((v, i) => (i === scheduled ? rewriteSlashDate({ rowNumber: r.rowNumber, text: v }, dates.order) : v))
        .filter(keep),
    })),
  };
  return { request, dates };
}

/** Writes run results into the rows with their keys, in the sheet's output columns; returns the keys not found. */
export function applyResults(table: CampaignTable, results: Iterable<RowResult>, runId: string): string[] {
  const byKey = new Map<string, CsvRecord>();
  for (const r of table.records) {
    const key = cell(table, r, 'Key');
    if (key !== '' && !byKey.has(key)) byKey.set(key, r);
  }
  const missing: string[] = [];
  for (const result of results) {
    const r = byKey.get(result.key);
    if (!r) {
      missing.push(result.key);
      continue;
    }
    setCell(table, r, 'Status', result.status);
    if (result.postId) setCell(table, r, 'Post ID', result.postId);
    setCell(table, r, 'Error', result.error ?? '');
    if (result.scheduledAtUtc) setCell(table, r, 'Scheduled (UTC)', result.scheduledAtUtc);
    if (result.link) setCell(table, r, 'Link', result.link);
    setCell(table, r, 'Run', runId);
    setCell(table, r, 'Updated', result.updatedAt);
  }
  return missing;
}

/** The header and rows of the copy, as they are written to the results file. */
export function tableRows(table: CampaignTable): string[][] {
  return [table.header, ...table.records.map((r) => r.values)];
}
