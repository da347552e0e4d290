/**
 * A fake of the part of Google Sheets API v4 the service uses, as a real HTTP server on loopback: spreadsheets.get,
 * values.get, values.batchGet, values.batchUpdate, values.append, batchUpdate (addSheet, createDeveloperMetadata,
 * deleteDeveloperMetadata), developerMetadata.search and an OAuth token endpoint, with per-caller quotas, editor and
 * viewer permissions, injected 429/5xx faults and hooks that move rows between calls. Values are stored as text (RAW);
 * nothing is ever evaluated.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerify, randomBytes } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { systemClock, type Clock } from '../clock';
import { parseFakeA1, fakeColumnLetters, type FakeA1Range } from './sheets-fake-a1';

/** A stored cell: plain text, or a formula (only USER_ENTERED input starting with "=" becomes one). */
type Cell = string | { formula: string };

interface FakeSheet {
  sheetId: number;
  title: string;
  rows: Cell[][];
}

/** Developer metadata on the spreadsheet itself (the only location the fake supports). */
export interface FakeDeveloperMetadata {
  metadataId: number;
  metadataKey: string;
  metadataValue: string;
  visibility: 'DOCUMENT' | 'PROJECT';
}

interface FakeSpreadsheet {
  spreadsheetId: string;
  timeZone: string;
  sheets: FakeSheet[];
  /** Callers allowed to edit the spreadsheet; undefined = everyone. */
  sharedWith?: Set<string>;
  /** Callers allowed to view it only (reads pass, writes get 403). */
  viewers: Set<string>;
  metadata: FakeDeveloperMetadata[];
}

/** Fault injection settings: shares (0..1) of API calls answered 429 or 503, from a seeded generator. */
export interface SheetsFakeFaults {
  share429: number;
  share5xx: number;
  seed?: number;
  /** Which calls faults hit (default: writes only, the path whose retries matter most). */
  applyTo?: 'writes' | 'all';
}

export interface SheetsFakeOptions {
  port?: number;
  /** Requests per caller per window, counted separately for reads and writes (Google: 60 per user per minute). */
  quotaPerMinute?: number;
  /** Length of the quota window; tests compress it (default 60 000 ms). */
  windowMs?: number;
  faults?: SheetsFakeFaults;
  /** PEM public key used to verify JWT-bearer assertions at POST /token; without it only the shape is checked. */
  serviceAccountPublicKey?: string;
  clock?: Clock;
}

/** One request the fake received. */
export interface SheetsFakeRequest {
  method: string;
  path: string;
  kind: 'read' | 'write' | 'token' | 'other';
  caller: string;
  at: number;
  status: number;
}

/** Row operations a test applies to a sheet between calls (row numbers are 1-based sheet rows; row 1 is the header). */
export interface SheetsFakeMutations {
  /** Sorts the data rows (2..n) by the text of a column (0-based index or header name). */
  sortBy(col: number | string, descending?: boolean): void;
  /** Inserts an empty row (or the given values) at sheet row n, pushing later rows down. */
  insertRowAt(n: number, values?: string[]): void;
  deleteRow(n: number): void;
  moveRow(from: number, to: number): void;
}

export interface SheetsFake {
  url: string;
  /** Token endpoint for service-account JSON (`token_uri`). */
  tokenUrl: string;
  loadCsv(spreadsheetId: string, sheetName: string, csvText: string, opts?: { timeZone?: string }): void;
  /** The sheet as text, formulas shown as their source; trailing empty cells kept as ''. */
  getValues(spreadsheetId: string, sheetName: string): string[][];
  setValues(spreadsheetId: string, sheetName: string, values: string[][]): void;
  /** A1 addresses of cells that hold formulas (RAW writes never create one). */
  formulaCells(spreadsheetId: string, sheetName: string): string[];
  mutate(spreadsheetId: string, sheetName: string): SheetsFakeMutations;
  /** Runs fn once, just before the next API call is handled. */
  beforeNextCall(fn: () => void): void;
  /** Runs fn before every API call (null to stop); it gets the 0-based call number. */
  beforeEachCall(fn: ((callNumber: number) => void) | null): void;
  /** Restricts a spreadsheet to these editors (service-account emails or user tokens' emails); null opens it again. */
  shareWith(spreadsheetId: string, callers: string[] | null): void;
  /** Gives these callers view-only access: they may read, but any write (values or metadata) gets 403. */
  shareViewOnly(spreadsheetId: string, callers: string[]): void;
  /** The spreadsheet's developer metadata, as stored. */
  developerMetadata(spreadsheetId: string): FakeDeveloperMetadata[];
  /** Adds metadata on the spreadsheet as an editor would through Apps Script (the browser test's add-on does). */
  addDeveloperMetadata(spreadsheetId: string, m: Omit<FakeDeveloperMetadata, 'metadataId'>): FakeDeveloperMetadata;
  deleteDeveloperMetadata(spreadsheetId: string, metadataId: number): void;
  /** Issues an OAuth access token for a user, as Google would after consent. */
  issueUserToken(email: string): string;
  /** Makes a token invalid (expired): calls with it get 401. */
  revokeToken(token: string): void;
  requestLog: SheetsFakeRequest[];
  /** Requests by kind, the most of each kind in any quota window (`windowMs`), and refusals; of one caller if named. */
  stats(caller?: string): {
    reads: number;
    writes: number;
    maxWritesInAnyMinute: number;
    maxReadsInAnyMinute: number;
    rejected429: number;
    rejected5xx: number;
  };
  update(settings: Partial<Pick<SheetsFakeOptions, 'quotaPerMinute' | 'windowMs' | 'faults'>>): void;
  close(): Promise<void>;
}

const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';

/** mulberry32: a small seeded generator so fault patterns repeat from run to run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly statusText: string,
  ) {
    super(message);
  }
}

function cellText(c: Cell | undefined): string {
  if (c === undefined) return '';
  return typeof c === 'string' ? c : c.formula;
}

/** What a FORMATTED_VALUE read shows: the fake never evaluates, so a formula shows as an error value. */
function formatted(c: Cell | undefined): string {
  if (c === undefined) return '';
  return typeof c === 'string' ? c : '#ERROR!';
}

/** The most requests of a list (in time order) that fall into any one window of `windowMs`. */
function maxInAnyWindow(entries: SheetsFakeRequest[], windowMs: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < entries.length; hi++) {
    while (entries[hi]!.at - entries[lo]!.at >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

function base64UrlDecode(s: string): Buffer {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Starts the fake on 127.0.0.1 (port 0 = any free port). */
export async function startSheetsFake(options: SheetsFakeOptions = {}): Promise<SheetsFake> {
  const clock = options.clock ?? systemClock;
  let quotaPerMinute = options.quotaPerMinute ?? 60;
  let windowMs = options.windowMs ?? 60_000;
  let faults: SheetsFakeFaults = options.faults ?? { share429: 0, share5xx: 0 };
  let random = seededRandom(faults.seed ?? 1);
  const spreadsheets = new Map<string, FakeSpreadsheet>();
  const tokens = new Map<string, string>(); // access token -> caller
  const requestLog: SheetsFakeRequest[] = [];
  const nextCallHooks: Array<() => void> = [];
  let eachCallHook: ((n: number) => void) | null = null;
  let callNumber = 0;
  let nextSheetId = 1000;
  let nextMetadataId = 1;

  function spreadsheet(id: string): FakeSpreadsheet {
    const s = spreadsheets.get(id);
    if (!s) throw new HttpError(404, 'Requested entity was not found.', 'NOT_FOUND');
    return s;
  }
  function sheetOf(ss: FakeSpreadsheet, title: string | undefined): FakeSheet {
    const sheet = title === undefined ? ss.sheets[0] : ss.sheets.find((s) => s.title === title);
    if (!sheet) throw new HttpError(400, `Unable to parse range: ${title ?? ''}`, 'INVALID_ARGUMENT');
    return sheet;
  }
  function sheetFor(spreadsheetId: string, title: string): FakeSheet {
    const ss = spreadsheets.get(spreadsheetId);
    if (!ss) throw new Error(`No spreadsheet ${spreadsheetId} in the fake`);
    const sheet = ss.sheets.find((s) => s.title === title);
    if (!sheet) throw new Error(`No sheet ${title} in ${spreadsheetId}`);
    return sheet;
  }
  function width(sheet: FakeSheet): number {
    return sheet.rows.reduce((m, r) => Math.max(m, r.length), 0);
  }

  function a1Of(sheet: FakeSheet, r: FakeA1Range, lastRow: number, lastCol: number): string {
    const q = `'${sheet.title.replace(/'/g, "''")}'`;
    return `${q}!${fakeColumnLetters(r.startCol)}${r.startRow + 1}:${fakeColumnLetters(lastCol)}${lastRow + 1}`;
  }

  /** values.get semantics: trailing empty cells of a row and trailing empty rows are left out. */
  function readRange(
    ss: FakeSpreadsheet,
    range: string,
    render: string,
  ): { range: string; majorDimension: 'ROWS'; values?: string[][] } {
    let r: FakeA1Range;
    try {
      r = parseFakeA1(range);
    } catch (e) {
      throw new HttpError(400, (e as Error).message, 'INVALID_ARGUMENT');
    }
    const sheet = sheetOf(ss, r.sheet);
    const endRow = Math.min(r.endRow ?? Number.MAX_SAFE_INTEGER, sheet.rows.length - 1);
    const endCol = Math.min(r.endCol ?? Number.MAX_SAFE_INTEGER, width(sheet) - 1);
    const values: string[][] = [];
    for (let i = r.startRow; i <= endRow; i++) {
      const row: string[] = [];
      for (let j = r.startCol; j <= endCol; j++) {
        const c = sheet.rows[i]?.[j];
        row.push(render === 'FORMULA' ? cellText(c) : formatted(c));
      }
      while (row.length && row[row.length - 1] === '') row.pop();
      values.push(row);
    }
    while (values.length && values[values.length - 1]!.length === 0) values.pop();
    const shownEndRow = Math.max(r.startRow, r.endRow ?? r.startRow + Math.max(values.length, 1) - 1);
    const shownEndCol = Math.max(r.startCol, r.endCol ?? Math.max(width(sheet) - 1, r.startCol));
    const out: { range: string; majorDimension: 'ROWS'; values?: string[][] } = {
      range: a1Of(sheet, r, shownEndRow, shownEndCol),
      majorDimension: 'ROWS',
    };
    if (values.length) out.values = values;
    return out;
  }

  function writeRange(
    ss: FakeSpreadsheet,
    range: string,
    values: unknown,
    inputOption: string,
  ): { updatedRange: string; updatedRows: number; updatedColumns: number; updatedCells: number } {
    let r: FakeA1Range;
    try {
      r = parseFakeA1(range);
    } catch (e) {
      throw new HttpError(400, (e as Error).message, 'INVALID_ARGUMENT');
    }
    const sheet = sheetOf(ss, r.sheet);
    if (!Array.isArray(values))
      throw new HttpError(400, 'Invalid values: expected a list of rows.', 'INVALID_ARGUMENT');
    let cells = 0;
    let maxCols = 0;
    values.forEach((rowVals, i) => {
      if (!Array.isArray(rowVals))
        throw new HttpError(400, 'Invalid values: expected a list of rows.', 'INVALID_ARGUMENT');
      const rowIndex = r.startRow + i;
      if (r.endRow !== undefined && rowIndex > r.endRow) {
        throw new HttpError(
          400,
          `Requested writing within range [${range}], but tried writing to row [${rowIndex + 1}]`,
          'INVALID_ARGUMENT',
        );
      }
      maxCols = Math.max(maxCols, rowVals.length);
      rowVals.forEach((v: unknown, j: number) => {
        const colIndex = r.startCol + j;
        if (r.endCol !== undefined && colIndex > r.endCol) {
          throw new HttpError(
            400,
            `Requested writing within range [${range}], but tried writing to column [${fakeColumnLetters(colIndex)}]`,
            'INVALID_ARGUMENT',
          );
        }
        if (v === null || v === undefined) return; // null leaves the cell as it is, as in the real API
        const text = typeof v === 'string' ? v : String(v);
        while (sheet.rows.length <= rowIndex) sheet.rows.push([]);
        const row = sheet.rows[rowIndex]!;
        while (row.length <= colIndex) row.push('');
        // RAW stores the text exactly; USER_ENTERED would parse "=..." as a formula (which the fake never evaluates).
        row[colIndex] = inputOption === 'USER_ENTERED' && text.startsWith('=') ? { formula: text } : text;
        cells++;
      });
    });
    const lastRow = r.startRow + Math.max(values.length, 1) - 1;
    const lastCol = r.startCol + Math.max(maxCols, 1) - 1;
    return {
      updatedRange: a1Of(sheet, r, lastRow, lastCol),
      updatedRows: values.length,
      updatedColumns: maxCols,
      updatedCells: cells,
    };
  }

  function checkQuota(caller: string, kind: 'read' | 'write'): void {
    const since = clock.now() - windowMs;
    let n = 0;
    for (let i = requestLog.length - 1; i >= 0; i--) {
      const e = requestLog[i]!;
      if (e.at <= since) break;
      if (e.caller === caller && e.kind === kind && e.status !== 429) n++;
    }
    if (n >= quotaPerMinute) {
      const metric = kind === 'read' ? 'Read requests' : 'Write requests';
      throw new HttpError(
        429,
        `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute per user' of service 'sheets.googleapis.com'.`,
        'RESOURCE_EXHAUSTED',
      );
    }
  }

  function injectFault(kind: 'read' | 'write'): void {
    if ((faults.applyTo ?? 'writes') === 'writes' && kind !== 'write') return;
    const x = random();
    if (x < faults.share429) throw new HttpError(429, 'Quota exceeded (injected by the fake).', 'RESOURCE_EXHAUSTED');
    if (x < faults.share429 + faults.share5xx)
      throw new HttpError(503, 'The service is currently unavailable.', 'UNAVAILABLE');
  }

  function authenticate(req: http.IncomingMessage): string {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const caller = m ? tokens.get(m[1]!) : undefined;
    if (!caller) {
      throw new HttpError(
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        'UNAUTHENTICATED',
      );
    }
    return caller;
  }

  function handleToken(body: string): unknown {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      throw new HttpError(400, 'unsupported_grant_type', 'INVALID_ARGUMENT');
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) throw new HttpError(400, 'invalid_grant: malformed assertion', 'INVALID_ARGUMENT');
    let payload: { iss?: string; aud?: string; scope?: string; exp?: number };
    try {
      payload = JSON.parse(base64UrlDecode(parts[1]!).toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_grant: malformed assertion', 'INVALID_ARGUMENT');
    }
    if (!payload.iss || !payload.scope)
      throw new HttpError(400, 'invalid_grant: assertion lacks iss or scope', 'INVALID_ARGUMENT');
    if (payload.aud !== GOOGLE_TOKEN_AUD && payload.aud !== tokenUrl)
      throw new HttpError(400, 'invalid_grant: wrong audience', 'INVALID_ARGUMENT');
    if (options.serviceAccountPublicKey) {
      const ok = createVerify('RSA-SHA256')
        .update(`${parts[0]}.${parts[1]}`)
        .verify(options.serviceAccountPublicKey, base64UrlDecode(parts[2]!));
      if (!ok) throw new HttpError(400, 'invalid_grant: Invalid JWT Signature.', 'INVALID_ARGUMENT');
    }
    const accessToken = `ya29.fake-${randomBytes(16).toString('hex')}`;
    tokens.set(accessToken, payload.iss);
    return { access_token: accessToken, expires_in: 3600, token_type: 'Bearer' };
  }

  /** Editors may read and write; viewers may only read; anyone else gets 403 (unless the sheet is open to all). */
  function checkShared(ss: FakeSpreadsheet, caller: string, access: 'read' | 'write' = 'write'): void {
    if (ss.viewers.has(caller) && !ss.sharedWith?.has(caller)) {
      if (access === 'read') return;
      throw new HttpError(403, 'The caller does not have permission', 'PERMISSION_DENIED');
    }
    if (ss.sharedWith && !ss.sharedWith.has(caller)) {
      throw new HttpError(403, 'The caller does not have permission', 'PERMISSION_DENIED');
    }
  }

  /** A developerMetadataLookup (key, value, id) matched against one metadata entry; location filters are ignored. */
  function lookupMatches(lookup: Record<string, unknown> | undefined, m: FakeDeveloperMetadata): boolean {
    if (!lookup) return false;
    if (lookup.metadataId !== undefined && Number(lookup.metadataId) !== m.metadataId) return false;
    if (lookup.metadataKey !== undefined && lookup.metadataKey !== m.metadataKey) return false;
    if (lookup.metadataValue !== undefined && lookup.metadataValue !== m.metadataValue) return false;
    if (lookup.visibility !== undefined && lookup.visibility !== m.visibility) return false;
    return true;
  }

  /** Creates metadata on the spreadsheet (batchUpdate createDeveloperMetadata); only spreadsheet-level locations. */
  function createMetadata(ss: FakeSpreadsheet, request: Record<string, unknown> | undefined): FakeDeveloperMetadata {
    const d = (request?.developerMetadata ?? {}) as Record<string, unknown>;
    const location = (d.location ?? {}) as Record<string, unknown>;
    if (location.spreadsheet !== true) {
      throw new HttpError(400, 'The fake supports developer metadata on the spreadsheet only.', 'INVALID_ARGUMENT');
    }
    if (typeof d.metadataKey !== 'string' || d.metadataKey === '')
      throw new HttpError(400, 'createDeveloperMetadata needs a metadataKey.', 'INVALID_ARGUMENT');
    if (d.visibility !== 'DOCUMENT' && d.visibility !== 'PROJECT')
      throw new HttpError(400, 'createDeveloperMetadata needs a visibility.', 'INVALID_ARGUMENT');
    const m: FakeDeveloperMetadata = {
      metadataId: nextMetadataId++,
      metadataKey: d.metadataKey,
      metadataValue: typeof d.metadataValue === 'string' ? d.metadataValue : '',
      visibility: d.visibility,
    };
    ss.metadata.push(m);
    return m;
  }

  function metadataJson(m: FakeDeveloperMetadata): unknown {
    return { ...m, location: { locationType: 'SPREADSHEET', spreadsheet: true } };
  }

  /** The sheet an A1 range names; a range that does not parse is a 400, as Google answers it. */
  function sheetOfRange(ss: FakeSpreadsheet, a1: string): FakeSheet {
    try {
      return sheetOf(ss, parseFakeA1(a1).sheet);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, (e as Error).message, 'INVALID_ARGUMENT');
    }
  }

  /** A request's JSON body (`{}` when empty); one that does not parse is a 400, as Google answers it. */
  function jsonPayload<T>(body: string): T {
    try {
      return JSON.parse(body || '{}') as T;
    } catch {
      throw new HttpError(400, 'Invalid JSON payload received.', 'INVALID_ARGUMENT');
    }
  }

  /** Only RAW and USER_ENTERED are valid value input options; anything else is a 400, as Google answers it. */
  function checkValueInputOption(input: unknown): asserts input is 'RAW' | 'USER_ENTERED' {
    if (input !== 'RAW' && input !== 'USER_ENTERED') {
      throw new HttpError(400, "Invalid valueInputOption: expected 'RAW' or 'USER_ENTERED'.", 'INVALID_ARGUMENT');
    }
  }

  /** A request to one spreadsheet: its id, the range its path names (values routes) and what it carried. */
  interface SpreadsheetRequest {
    id: string;
    range: string;
    url: URL;
    body: string;
  }

  /**
   * The Sheets API routes the fake serves, first match wins: each runs on the spreadsheet its path names (group 1,
   * group 2 the range), after the caller's read or write access to it is checked.
   */
  const spreadsheetRoutes: Array<{
    method: 'GET' | 'POST';
    path: RegExp;
    kind: 'read' | 'write';
    handle(ss: FakeSpreadsheet, req: SpreadsheetRequest): unknown;
  }> = [
    {
      method: 'GET',
      path: /^\/v4\/spreadsheets\/([^/:]+)$/,
      kind: 'read',
      handle: (ss, _req) => {
        return {
          spreadsheetId: ss.spreadsheetId,
          properties: { title: ss.spreadsheetId, timeZone: ss.timeZone, locale: 'en_US' },
          sheets: ss.sheets.map((s) => ({
            properties: {
              sheetId: s.sheetId,
              title: s.title,
              index: ss.sheets.indexOf(s),
              sheetType: 'GRID',
              gridProperties: { rowCount: Math.max(1000, s.rows.length), columnCount: Math.max(26, width(s)) },
            },
          })),
        };
      },
    },
    {
      method: 'GET',
      path: /^\/v4\/spreadsheets\/([^/:]+)\/values:batchGet$/,
      kind: 'read',
      handle: (ss, { id, url }) => {
        const render = url.searchParams.get('valueRenderOption') ?? 'FORMATTED_VALUE';
        return {
          spreadsheetId: id,
          valueRanges: url.searchParams.getAll('ranges').map((r) => readRange(ss, r, render)),
        };
      },
    },
    {
      method: 'POST',
      path: /^\/v4\/spreadsheets\/([^/:]+)\/values:batchUpdate$/,
      kind: 'write',
      handle: (ss, { id, body }) => {
        const parsed = jsonPayload<{
          valueInputOption?: string;
          data?: Array<{ range: string; values: unknown }>;
          includeValuesInResponse?: boolean;
          responseValueRenderOption?: string;
        }>(body);
        const input = parsed.valueInputOption;
        checkValueInputOption(input);
        const data = parsed.data ?? [];
        // Validate every range before changing anything: a batch is all or nothing.
        for (const d of data) sheetOfRange(ss, d.range);
        const snapshot = ss.sheets.map((s) => s.rows.map((r) => [...r]));
        try {
          const responses = data.map((d) => ({ spreadsheetId: id, ...writeRange(ss, d.range, d.values, input) }));
          // Google: with includeValuesInResponse, each response's updatedData holds every value of the requested
          // range after the whole batch (cells the request left alone included), trailing empty rows and columns
          // left out.
          if (parsed.includeValuesInResponse) {
            const render = parsed.responseValueRenderOption ?? 'FORMATTED_VALUE';
            responses.forEach((r, i) => Object.assign(r, { updatedData: readRange(ss, data[i]!.range, render) }));
          }
          return {
            spreadsheetId: id,
            totalUpdatedRows: responses.reduce((a, r) => a + r.updatedRows, 0),
            totalUpdatedColumns: responses.reduce((a, r) => Math.max(a, r.updatedColumns), 0),
            totalUpdatedCells: responses.reduce((a, r) => a + r.updatedCells, 0),
            totalUpdatedSheets: new Set(data.map((d) => parseFakeA1(d.range).sheet)).size,
            responses,
          };
        } catch (e) {
          ss.sheets.forEach((s, i) => (s.rows = snapshot[i]!));
          throw e;
        }
      },
    },
    {
      method: 'POST',
      path: /^\/v4\/spreadsheets\/([^/:]+)\/values\/(.+):append$/,
      kind: 'write',
      handle: (ss, { id, range, url, body }) => {
        const input = url.searchParams.get('valueInputOption');
        checkValueInputOption(input);
        const parsed = jsonPayload<{ values?: unknown }>(body);
        const sheet = sheetOfRange(ss, range);
        // Appends go below the last row that holds anything, like Google's table detection on a simple sheet.
        let last = sheet.rows.length - 1;
        while (last >= 0 && (sheet.rows[last] ?? []).every((c) => cellText(c) === '')) last--;
        const values = Array.isArray(parsed.values) ? (parsed.values as unknown[]) : [];
        const cols = Math.max(1, ...values.map((r) => (Array.isArray(r) ? r.length : 1)));
        const at = `'${sheet.title.replace(/'/g, "''")}'!A${last + 2}:${fakeColumnLetters(cols - 1)}${last + 1 + Math.max(values.length, 1)}`;
        const updates = { spreadsheetId: id, ...writeRange(ss, at, values, input) };
        return { spreadsheetId: id, tableRange: last >= 0 ? `'${sheet.title}'!A1:A${last + 1}` : undefined, updates };
      },
    },
    {
      method: 'POST',
      path: /^\/v4\/spreadsheets\/([^/:]+):batchUpdate$/,
      kind: 'write',
      handle: (ss, { id, body }) => {
        const parsed = jsonPayload<{
          requests?: Array<{
            addSheet?: { properties?: { title?: string } };
            createDeveloperMetadata?: Record<string, unknown>;
            deleteDeveloperMetadata?: { dataFilter?: { developerMetadataLookup?: Record<string, unknown> } };
          }>;
        }>(body);
        const replies = (parsed.requests ?? []).map((r) => {
          if (r.createDeveloperMetadata) {
            return {
              createDeveloperMetadata: {
                developerMetadata: metadataJson(createMetadata(ss, r.createDeveloperMetadata)),
              },
            };
          }
          if (r.deleteDeveloperMetadata) {
            const lookup = r.deleteDeveloperMetadata.dataFilter?.developerMetadataLookup;
            const gone = ss.metadata.filter((m) => lookupMatches(lookup, m));
            ss.metadata = ss.metadata.filter((m) => !gone.includes(m));
            return { deleteDeveloperMetadata: { deletedDeveloperMetadata: gone.map(metadataJson) } };
          }
          const title = r.addSheet?.properties?.title;
          if (!r.addSheet)
            throw new HttpError(
              400,
              'The fake supports only addSheet, createDeveloperMetadata and deleteDeveloperMetadata in batchUpdate.',
              'INVALID_ARGUMENT',
            );
          if (!title) throw new HttpError(400, 'addSheet needs properties.title.', 'INVALID_ARGUMENT');
          if (ss.sheets.some((x) => x.title === title)) {
            throw new HttpError(
              400,
              `Invalid requests[0].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`,
              'INVALID_ARGUMENT',
            );
          }
          const sheetId = Math.max(0, ...ss.sheets.map((x) => x.sheetId)) + 1;
          ss.sheets.push({ sheetId, title, rows: [] });
          return { addSheet: { properties: { sheetId, title, index: ss.sheets.length - 1, sheetType: 'GRID' } } };
        });
        return { spreadsheetId: id, replies };
      },
    },
    {
      method: 'POST',
      path: /^\/v4\/spreadsheets\/([^/:]+)\/developerMetadata:search$/,
      kind: 'read',
      handle: (ss, { body }) => {
        const parsed = jsonPayload<{ dataFilters?: Array<{ developerMetadataLookup?: Record<string, unknown> }> }>(
          body,
        );
        const filters = parsed.dataFilters ?? [];
        if (filters.some((f) => !f.developerMetadataLookup))
          throw new HttpError(400, 'The fake supports developerMetadataLookup filters only.', 'INVALID_ARGUMENT');
        // PROJECT metadata is visible only to the project that created it; the fake has one project per caller.
        const matched = ss.metadata
          .filter(
            (m) => m.visibility === 'DOCUMENT' && filters.some((f) => lookupMatches(f.developerMetadataLookup, m)),
          )
          .map((m) => ({ developerMetadata: metadataJson(m), dataFilters: filters }));
        return matched.length ? { matchedDeveloperMetadata: matched } : {};
      },
    },
    {
      method: 'GET',
      path: /^\/v4\/spreadsheets\/([^/:]+)\/values\/(.+)$/,
      kind: 'read',
      handle: (ss, { range, url }) => {
        return readRange(ss, range, url.searchParams.get('valueRenderOption') ?? 'FORMATTED_VALUE');
      },
    },
  ];

  function route(
    method: string,
    url: URL,
    body: string,
    caller: () => string,
  ): { kind: SheetsFakeRequest['kind']; run: () => unknown } {
    const p = decodeURIComponent(url.pathname);
    if (method === 'POST' && p === '/token') return { kind: 'token', run: () => handleToken(body) };
    for (const r of spreadsheetRoutes) {
      const m = method === r.method ? r.path.exec(p) : null;
      if (!m) continue;
      const req = { id: m[1]!, range: m[2] ?? '', url, body };
      return {
        kind: r.kind,
        run: () => {
          const ss = spreadsheet(req.id);
          checkShared(ss, caller(), r.kind);
          return r.handle(ss, req);
        },
      };
    }
    return {
      kind: 'other',
      run: () => {
        throw new HttpError(404, `The fake does not serve ${method} ${p}.`, 'NOT_FOUND');
      },
    };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? 'GET';
      let callerName = 'anonymous';
      const entry: SheetsFakeRequest = {
        method,
        path: url.pathname,
        kind: 'other',
        caller: callerName,
        at: clock.now(),
        status: 200,
      };
      let status = 200;
      let payload: unknown;
      try {
        const { kind, run } = route(method, url, body, () => callerName);
        entry.kind = kind;
        if (kind === 'read' || kind === 'write') {
          const hooks = nextCallHooks.splice(0);
          for (const h of hooks) h();
          eachCallHook?.(callNumber);
          callNumber++;
          callerName = authenticate(req);
          entry.caller = callerName;
          checkQuota(callerName, kind);
          injectFault(kind);
        }
        payload = run();
      } catch (e) {
        if (e instanceof HttpError) {
          status = e.code;
          payload = { error: { code: e.code, message: e.message, status: e.statusText } };
        } else {
          status = 500;
          payload = {
            error: { code: 500, message: `Internal error in the fake: ${(e as Error).message}`, status: 'INTERNAL' },
          };
        }
      }
      entry.status = status;
      requestLog.push(entry);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const tokenUrl = `${url}/token`;

  function mutations(spreadsheetId: string, sheetName: string): SheetsFakeMutations {
    const sheet = () => sheetFor(spreadsheetId, sheetName);
    return {
      sortBy(col, descending = false) {
        const s = sheet();
        const idx = typeof col === 'number' ? col : (s.rows[0] ?? []).findIndex((c) => cellText(c) === col);
        if (idx < 0) throw new Error(`No column ${String(col)}`);
        const [header, ...data] = s.rows;
        data.sort((a, b) => cellText(a[idx]).localeCompare(cellText(b[idx])) * (descending ? -1 : 1));
        s.rows = [header ?? [], ...data];
      },
      insertRowAt(n, values = []) {
        sheet().rows.splice(n - 1, 0, [...values]);
      },
      deleteRow(n) {
        sheet().rows.splice(n - 1, 1);
      },
      moveRow(from, to) {
        const rows = sheet().rows;
        const [row] = rows.splice(from - 1, 1);
        rows.splice(to - 1, 0, row ?? []);
      },
    };
  }

  return {
    url,
    tokenUrl,
    requestLog,
    loadCsv(spreadsheetId, sheetName, csvText, opts = {}) {
      const rows = parseCsv(csvText, { relax_column_count: true, skip_empty_lines: false }) as string[][];
      const ss = spreadsheets.get(spreadsheetId) ?? {
        spreadsheetId,
        timeZone: opts.timeZone ?? 'America/New_York',
        sheets: [],
        viewers: new Set<string>(),
        metadata: [],
      };
      if (opts.timeZone) ss.timeZone = opts.timeZone;
      const existing = ss.sheets.find((s) => s.title === sheetName);
      if (existing) existing.rows = rows;
      else ss.sheets.push({ sheetId: nextSheetId++, title: sheetName, rows });
      spreadsheets.set(spreadsheetId, ss);
    },
    getValues(spreadsheetId, sheetName) {
      return sheetFor(spreadsheetId, sheetName).rows.map((r) => r.map(cellText));
    },
    setValues(spreadsheetId, sheetName, values) {
      sheetFor(spreadsheetId, sheetName).rows = values.map((r) => [...r]);
    },
    formulaCells(spreadsheetId, sheetName) {
      const out: string[] = [];
      sheetFor(spreadsheetId, sheetName).rows.forEach((r, i) =>
        r.forEach((c, j) => {
          if (typeof c !== 'string') out.push(`${fakeColumnLetters(j)}${i + 1}`);
        }),
      );
      return out;
    },
    mutate: mutations,
    beforeNextCall(fn) {
      nextCallHooks.push(fn);
    },
    beforeEachCall(fn) {
      eachCallHook = fn;
    },
    shareWith(spreadsheetId, callers) {
      spreadsheet(spreadsheetId).sharedWith = callers ? new Set(callers) : undefined;
    },
    shareViewOnly(spreadsheetId, callers) {
      const ss = spreadsheet(spreadsheetId);
      for (const c of callers) {
        ss.viewers.add(c);
        ss.sharedWith?.delete(c);
      }
    },
    developerMetadata(spreadsheetId) {
      return spreadsheet(spreadsheetId).metadata.map((m) => ({ ...m }));
    },
    addDeveloperMetadata(spreadsheetId, m) {
      return {
        ...createMetadata(spreadsheet(spreadsheetId), { developerMetadata: { ...m, location: { spreadsheet: true } } }),
      };
    },
    deleteDeveloperMetadata(spreadsheetId, metadataId) {
      const ss = spreadsheet(spreadsheetId);
      ss.metadata = ss.metadata.filter((x) => x.metadataId !== metadataId);
    },
    issueUserToken(email) {
      const t = `ya29.user-${randomBytes(16).toString('hex')}`;
      tokens.set(t, email);
      return t;
    },
    revokeToken(token) {
      tokens.delete(token);
    },
    stats(caller) {
      const log = caller === undefined ? requestLog : requestLog.filter((e) => e.caller === caller);
      const writes = log.filter((e) => e.kind === 'write');
      const reads = log.filter((e) => e.kind === 'read');
      return {
        reads: reads.length,
        writes: writes.length,
        maxWritesInAnyMinute: maxInAnyWindow(writes, windowMs),
        maxReadsInAnyMinute: maxInAnyWindow(reads, windowMs),
        rejected429: log.filter((e) => e.status === 429).length,
        rejected5xx: log.filter((e) => e.status >= 500).length,
      };
    },
    update(settings) {
      if (settings.quotaPerMinute !== undefined) quotaPerMinute = settings.quotaPerMinute;
      if (settings.windowMs !== undefined) windowMs = settings.windowMs;
      if (settings.faults) {
        faults = settings.faults;
        random = seededRandom(faults.seed ?? 1);
      }
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((e) => (e ? reject(e) : resolve()));
      });
    },
  };
}
