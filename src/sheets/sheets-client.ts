/**
 * The Sheets client: the one place that calls Google Sheets API v4 through googleapis. It reads metadata and the
 * key column, writes values with `valueInputOption: RAW`, retries 429/5xx itself (googleapis never retries POST),
 * takes a budget slot for every attempt (the write budget for writes, the read budget for reads: Google counts both
 * per user and minute), and falls back from a user's token to the service account. A backoff between attempts ends
 * when the service closes, as a wait for the budget does.
 */
import { google, type sheets_v4 } from 'googleapis';
import { AppError } from '../errors';
import { sleep as realSleep } from '../clock';
import { columnRange, headerRowRange, quoteSheetName } from './a1-notation';
import {
  createServiceAccountAuth,
  createUserAuth,
  nativeFetch,
  type ServiceAccountAuth,
  type ServiceAccountKey,
} from './sheets-credentials';
import {
  SheetsKeyColumnMissingError,
  SheetsUnauthenticatedError,
  gaxiosStatus,
  translateSheetsError,
} from './sheets-errors';
import { BudgetClosedError, unlimitedWriteBudget, type WriteBudget } from './write-budget';
import type { Metrics } from '../metrics';

/** Spreadsheet facts the service needs. */
export interface SpreadsheetMetadata {
  timeZone: string;
  sheets: Array<{ sheetId: number; title: string }>;
}

/** The header row, the key column and any other named columns of one sheet, as text, indexed by 0-based row. */
export interface SheetColumns {
  header: string[];
  /** 0-based index of the Key column. */
  keyColumn: number;
  /** keys[i] is the key in sheet row i + 1 (keys[0] is the header cell itself). */
  keys: string[];
  /** Requested columns that exist, by header name, each indexed like `keys`. */
  columns: Map<string, string[]>;
}

/** One range and its rows of values for a batch write. */
export interface WriteRange {
  range: string;
  /** Rows of cells; null leaves a cell as it is (so one range can span cells that do not change). */
  values: Array<Array<string | null>>;
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface SheetsClient {
  /** The service account's email (what users share their sheet with); '' when none is configured. */
  readonly serviceAccountEmail: string;
  getMetadata(spreadsheetId: string): Promise<SpreadsheetMetadata>;
  /** One batchGet of the header row and the Key column (found by name, case-insensitive). */
  readHeaderAndKeys(spreadsheetId: string, sheetName: string): Promise<SheetColumns>;
  /** Like readHeaderAndKeys, plus the named columns that exist, still in one batchGet once the layout is known. */
  readColumns(spreadsheetId: string, sheetName: string, columnNames: string[]): Promise<SheetColumns>;
  /**
   * One values.batchUpdate with RAW input, retried on 429/5xx; every attempt takes a write-budget slot. With `echo`,
   * the answer carries what each range holds right after the write (includeValuesInResponse: the whole requested
   * range, cells left alone included), so a caller can check where its write landed without another read.
   */
  batchWrite(
    spreadsheetId: string,
    data: WriteRange[],
    opts?: { signal?: AbortSignal; echo?: boolean },
  ): Promise<{ updatedCells: number; echo?: string[][][] }>;
  /**
   * Values of the document-visible developer metadata on the spreadsheet itself with this key (one
   * developerMetadata.search, a read). The service account sees only what any project with access to the document sees.
   */
  findSpreadsheetMetadata(spreadsheetId: string, metadataKey: string): Promise<string[]>;
  /** Whether the service can use the spreadsheet; the message says whom to share it with when it cannot. */
  checkAccess(spreadsheetId: string): Promise<{ canEdit: boolean; message?: string }>;
  /** The first row of a tab as text (one values.batchGet, a read); [] when the row is empty. */
  readHeaderRow(spreadsheetId: string, sheetName: string): Promise<string[]>;
  /** Appends rows below the last row of a tab (values.append, RAW, INSERT_ROWS); each attempt takes a budget slot. */
  appendRows(spreadsheetId: string, sheetName: string, rows: string[][]): Promise<{ updatedRange: string }>;
  /** Adds a tab (batchUpdate addSheet) and returns its sheetId; each attempt takes a budget slot. */
  addSheet(spreadsheetId: string, title: string): Promise<{ sheetId: number }>;
}

export interface SheetsClientOptions {
  /** SHEETS_API_URL: the Sheets fake in tests and the demo; Google's endpoint when absent. */
  rootUrl?: string;
  credentials: {
    /** The service account's key (or a ready JWT client with its email). */
    serviceAccount?: ServiceAccountKey | { auth: ServiceAccountAuth; email: string };
    /** An access token the add-on forwarded for the user; used until Google refuses it with 401. */
    userAccessToken?: string;
  };
  /** Budget of write requests (every write attempt takes a slot). */
  budget?: WriteBudget;
  /** Budget of read requests (every read attempt takes a slot); Google limits reads per user like writes. */
  readBudget?: WriteBudget;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  /** Counts every request attempt by kind (read/write) and outcome (ok/error); optional. */
  metrics?: Pick<Metrics, 'sheetsRequests'>;
  /**
   * Aborted when the service stops: a request waiting out a retry backoff (up to maxDelayMs) then throws
   * BudgetClosedError at once, so its caller leaves the work in the ledger as for a closed budget.
   */
  closed?: AbortSignal;
  /** Test seam: how to wait between attempts (default: a real, abortable sleep). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 20_000 };

/** Finds the Key column in a header row (case-insensitive, surrounding spaces ignored). */
export function findColumn(header: string[], name: string): number {
  const want = name.trim().toLowerCase();
  return header.findIndex((h) => h.trim().toLowerCase() === want);
}

/** Flattens a single-column batchGet answer (rows of one cell, empty rows as []) into a text array. */
function flattenColumn(values: unknown[][] | null | undefined): string[] {
  return (values ?? []).map((r) => (r[0] === undefined || r[0] === null ? '' : String(r[0])));
}

/** Creates a Sheets client; see SheetsClientOptions. */
export function createSheetsClient(opts: SheetsClientOptions): SheetsClient {
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const budget = opts.budget ?? unlimitedWriteBudget;
  const readBudget = opts.readBudget ?? unlimitedWriteBudget;
  const sleep = opts.sleep ?? realSleep;
  // gaxios' own retries are off: this client decides what is retried, and counts every write attempt.
  const common = {
    rootUrl: opts.rootUrl,
    retry: false,
    timeout: opts.timeoutMs ?? 30_000,
    fetchImplementation: nativeFetch,
  };

  const sa = opts.credentials.serviceAccount;
  const saAuth = sa ? ('auth' in sa ? sa.auth : createServiceAccountAuth(sa)) : undefined;
  const serviceAccountEmail = sa ? ('auth' in sa ? sa.email : sa.client_email) : '';
  const saApi = saAuth ? google.sheets({ version: 'v4', auth: saAuth, ...common }) : undefined;
  let userApi = opts.credentials.userAccessToken
    ? google.sheets({ version: 'v4', auth: createUserAuth(opts.credentials.userAccessToken), ...common })
    : undefined;
  if (!saApi && !userApi) {
    throw new AppError(
      'sheets_not_configured',
      'No Google credentials for Sheets: set GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_APPLICATION_CREDENTIALS.',
    );
  }
  // Last known header per sheet, so a flush needs one batchGet: the header comes back alongside and confirms it.
  const headerCache = new Map<string, string[]>();

  /** Runs one request with the user's token while it works, then with the service account. */
  async function once<T>(fn: (api: sheets_v4.Sheets) => Promise<T>, what: string): Promise<T> {
    if (userApi) {
      try {
        return await fn(userApi);
      } catch (err) {
        if (gaxiosStatus(err) !== 401 || !saApi) throw translateSheetsError(err, { serviceAccountEmail, what });
        userApi = undefined; // expired or revoked: the service account takes over for good
      }
    }
    if (!saApi) throw new SheetsUnauthenticatedError();
    try {
      return await fn(saApi);
    } catch (err) {
      throw translateSheetsError(err, { serviceAccountEmail, what });
    }
  }

  /** Counts one request attempt in the sheetsRequests metric. */
  async function counted<T>(kind: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      opts.metrics?.sheetsRequests.inc({ kind, outcome: 'ok' });
      return r;
    } catch (err) {
      opts.metrics?.sheetsRequests.inc({ kind, outcome: 'error' });
      throw err;
    }
  }

  /** One request attempt under a slot of its kind's budget, released when the request ends. */
  async function budgeted<T>(fn: () => Promise<T>, signal?: AbortSignal, kind: 'read' | 'write' = 'write'): Promise<T> {
    const slot = await (kind === 'read' ? readBudget : budget).take(signal);
    try {
      return await counted(kind, fn);
    } finally {
      slot.release();
    }
  }

  /**
   * Runs `attempt` until it succeeds, fails for good or runs out of attempts, with full-jitter exponential backoff in
   * between (a uniform delay below min(maxDelay, base * 2^(n-1)) after the n-th attempt). Written here rather than
   * with exponential-backoff, whose delay cannot be cut short: a stopping service would wait it out.
   */
  async function withRetries<T>(attempt: () => Promise<T>, onlyOn?: (e: AppError) => boolean): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const retryable = err instanceof AppError && err.retryable && (!onlyOn || onlyOn(err));
        if (!retryable || n >= retry.attempts) throw err;
        const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (n - 1));
        if (opts.closed?.aborted) throw backoffClosed();
        // Only the close signal ends a backoff early.
        await sleep(Math.floor(Math.random() * ceiling), opts.closed).catch(() => {
          throw backoffClosed();
        });
      }
    }
  }

  async function batchGet(
    spreadsheetId: string,
    ranges: string[],
    what: string,
  ): Promise<sheets_v4.Schema$ValueRange[]> {
    const res = await withRetries(() =>
      budgeted(
        () =>
          once(
            (api) =>
              api.spreadsheets.values.batchGet({
                spreadsheetId,
                ranges,
                valueRenderOption: 'FORMATTED_VALUE',
                majorDimension: 'ROWS',
              }),
            what,
          ),
        undefined,
        'read',
      ),
    );
    return res.data.valueRanges ?? [];
  }

  async function readColumns(spreadsheetId: string, sheetName: string, columnNames: string[]): Promise<SheetColumns> {
    const cacheKey = `${spreadsheetId}\u0000${sheetName}`;
    const what = `The sheet "${sheetName}"`;
    for (let round = 0; round < 3; round++) {
      const cached = headerCache.get(cacheKey);
      if (!cached) {
        // Layout unknown: one read of the whole sheet gives the header and every column at once (a header-only
        // read first would cost a second request of the per-minute read quota).
        const [whole] = await batchGet(spreadsheetId, [quoteSheetName(sheetName)], what);
        const grid = (whole?.values ?? []).map((r) => r.map((v) => (v === undefined || v === null ? '' : String(v))));
        const header = grid[0] ?? [];
        headerCache.set(cacheKey, header);
        const keyColumn = findColumn(header, 'Key');
        if (keyColumn < 0) {
          headerCache.delete(cacheKey);
          throw new SheetsKeyColumnMissingError(sheetName);
        }
        const columns = new Map<string, string[]>();
        for (const n of columnNames) {
          const index = findColumn(header, n);
          if (index >= 0)
            columns.set(
              header[index]!,
              grid.map((r) => r[index] ?? ''),
            );
        }
        return { header, keyColumn, keys: grid.map((r) => r[keyColumn] ?? ''), columns };
      }
      const keyColumn = findColumn(cached, 'Key');
      if (keyColumn < 0) {
        headerCache.delete(cacheKey); // the user may add it; read afresh next time
        throw new SheetsKeyColumnMissingError(sheetName);
      }
      const wanted = columnNames.map((n) => ({ name: n, index: findColumn(cached, n) })).filter((c) => c.index >= 0);
      const ranges = [
        headerRowRange(sheetName),
        columnRange(sheetName, keyColumn),
        ...wanted.map((c) => columnRange(sheetName, c.index)),
      ];
      const [head, keyRange, ...rest] = await batchGet(spreadsheetId, ranges, what);
      const header = (head?.values?.[0] ?? []).map((v) => String(v ?? ''));
      if (header.length !== cached.length || header.some((h, i) => h !== cached[i])) {
        // Columns moved since the last read: the column ranges may be wrong, so read again with the new layout.
        headerCache.set(cacheKey, header);
        continue;
      }
      const keys = flattenColumn(keyRange?.values);
      const columns = new Map<string, string[]>();
      wanted.forEach((c, i) => columns.set(cached[c.index]!, flattenColumn(rest[i]?.values)));
      return { header, keyColumn, keys, columns };
    }
    throw new SheetsUnavailableLayout(sheetName);
  }

  return {
    serviceAccountEmail,

    async getMetadata(spreadsheetId) {
      const res = await withRetries(() =>
        budgeted(
          () =>
            once(
              (api) =>
                api.spreadsheets.get({
                  spreadsheetId,
                  fields: 'properties.timeZone,sheets.properties.sheetId,sheets.properties.title',
                }),
              'The spreadsheet',
            ),
          undefined,
          'read',
        ),
      );
      return {
        timeZone: res.data.properties?.timeZone ?? 'Etc/UTC',
        sheets: (res.data.sheets ?? []).map((s) => ({
          sheetId: s.properties?.sheetId ?? 0,
          title: s.properties?.title ?? '',
        })),
      };
    },

    readHeaderAndKeys: (spreadsheetId, sheetName) => readColumns(spreadsheetId, sheetName, []),
    async readHeaderRow(spreadsheetId, sheetName) {
      const [row1] = await batchGet(spreadsheetId, [headerRowRange(sheetName)], `The sheet "${sheetName}"`);
      return (row1?.values?.[0] ?? []).map((v) => (v === undefined || v === null ? '' : String(v)));
    },
    readColumns,

    async batchWrite(spreadsheetId, data, o = {}) {
      if (data.length === 0) return { updatedCells: 0, ...(o.echo ? { echo: [] } : {}) };
      const res = await withRetries(() =>
        budgeted(
          () =>
            once(
              (api) =>
                api.spreadsheets.values.batchUpdate({
                  spreadsheetId,
                  requestBody: {
                    valueInputOption: 'RAW',
                    data: data.map((d) => ({ range: d.range, majorDimension: 'ROWS', values: d.values })),
                    ...(o.echo ? { includeValuesInResponse: true, responseValueRenderOption: 'FORMATTED_VALUE' } : {}),
                  },
                }),
              'The spreadsheet',
            ),
          o.signal,
        ),
      );
      const updatedCells = res.data.totalUpdatedCells ?? 0;
      if (!o.echo) return { updatedCells };
      const echo = data.map((_, i) =>
        (res.data.responses?.[i]?.updatedData?.values ?? []).map((r) =>
          r.map((v) => (v === undefined || v === null ? '' : String(v))),
        ),
      );
      return { updatedCells, echo };
    },

    async appendRows(spreadsheetId, sheetName, rows) {
      const range = `'${sheetName.replace(/'/g, "''")}'!A1`;
      // values.append is not idempotent: a retry after a lost answer or a 5xx could add the row twice, so only 429
      // (which proves nothing was written) is retried here; the caller decides about the rest.
      const res = await withRetries(
        () =>
          budgeted(() =>
            once(
              (api) =>
                api.spreadsheets.values.append({
                  spreadsheetId,
                  range,
                  valueInputOption: 'RAW',
                  insertDataOption: 'INSERT_ROWS',
                  requestBody: { majorDimension: 'ROWS', values: rows },
                }),
              'The spreadsheet',
            ),
          ),
        (e) => e.code === 'sheets_rate_limited',
      );
      return { updatedRange: res.data.updates?.updatedRange ?? '' };
    },

    async addSheet(spreadsheetId, title) {
      const res = await withRetries(() =>
        budgeted(() =>
          once(
            (api) =>
              api.spreadsheets.batchUpdate({
                spreadsheetId,
                requestBody: { requests: [{ addSheet: { properties: { title } } }] },
              }),
            'The spreadsheet',
          ),
        ),
      );
      return { sheetId: res.data.replies?.[0]?.addSheet?.properties?.sheetId ?? 0 };
    },

    async findSpreadsheetMetadata(spreadsheetId, metadataKey) {
      const res = await withRetries(() =>
        budgeted(
          () =>
            once(
              (api) =>
                api.spreadsheets.developerMetadata.search({
                  spreadsheetId,
                  requestBody: {
                    dataFilters: [
                      {
                        developerMetadataLookup: {
                          metadataKey,
                          locationType: 'SPREADSHEET',
                          visibility: 'DOCUMENT',
                        },
                      },
                    ],
                  },
                }),
              'The spreadsheet',
            ),
          undefined,
          'read',
        ),
      );
      return (res.data.matchedDeveloperMetadata ?? [])
        .map((m) => m.developerMetadata)
        .filter((d) => d?.metadataKey === metadataKey && d.location?.spreadsheet === true)
        .map((d) => d!.metadataValue ?? '');
    },

    async checkAccess(spreadsheetId) {
      try {
        await withRetries(() =>
          budgeted(
            () => once((api) => api.spreadsheets.get({ spreadsheetId, fields: 'spreadsheetId' }), 'The spreadsheet'),
            undefined,
            'read',
          ),
        );
        return { canEdit: true };
      } catch (err) {
        if (
          err instanceof AppError &&
          ['sheets_forbidden', 'sheets_not_found', 'sheets_unauthenticated'].includes(err.code)
        ) {
          return { canEdit: false, message: err.message };
        }
        throw err;
      }
    },
  };
}

/** What a request throws instead of waiting out its backoff once the service is stopping. */
function backoffClosed(): BudgetClosedError {
  return new BudgetClosedError('The service is stopping: this Sheets request would have to wait before it is retried.');
}

/** The header kept changing between reads, so no layout could be trusted. */
class SheetsUnavailableLayout extends AppError {
  constructor(sheetName: string) {
    super(
      'sheets_layout_unstable',
      `The columns of "${sheetName}" kept moving while the service read them; it will try again shortly.`,
      {
        status: 503,
        retryable: true,
      },
    );
  }
}
