/**
 * Typed fakes of PropertiesService, UrlFetchApp, ScriptApp, Session, Utilities, HtmlService, CacheService, MailApp and
 * LockService, and installFakes(), which puts a full set on a global object the way Apps Script provides them.
 */
import { randomUUID } from 'node:crypto';
import type {
  AppsScriptServices,
  GasCache,
  GasCacheService,
  GasFetchParams,
  GasHtmlOutput,
  GasHtmlService,
  GasHttpResponse,
  GasLock,
  GasLockService,
  GasMailApp,
  GasMailMessage,
  GasProperties,
  GasPropertiesService,
  GasScriptApp,
  GasSession,
  GasUrlFetchApp,
  GasUser,
  GasUtilities,
  RawCell,
} from '../../../appsscript/server/apps-script-types';
import {
  FakeHtmlOutput,
  FakeProperties,
  FakeSpreadsheet,
  FakeSpreadsheetApp,
  type CellStore,
  type MetadataStore,
} from './fake-spreadsheet-app';

export { FakeProperties };

export class FakePropertiesService implements GasPropertiesService {
  readonly user = new FakeProperties();
  readonly script = new FakeProperties();
  constructor(private readonly app: FakeSpreadsheetApp) {}
  /** The DocumentProperties of the spreadsheet the add-on currently runs in. */
  get document(): FakeProperties {
    return this.app.spreadsheet.documentProperties;
  }
  getUserProperties(): GasProperties {
    return this.user;
  }
  getScriptProperties(): GasProperties {
    return this.script;
  }
  getDocumentProperties(): GasProperties {
    return this.document;
  }
}

/** A recorded UrlFetchApp call. */
export interface FetchCall {
  url: string;
  params: GasFetchParams;
}

/** What a fake route answers: a status and a JSON body (or raw text). */
export interface FakeHttpAnswer {
  status: number;
  body?: unknown;
  text?: string;
}

export type FetchHandler = (url: string, params: GasFetchParams) => FakeHttpAnswer;

export class FakeUrlFetchApp implements GasUrlFetchApp {
  readonly calls: FetchCall[] = [];
  constructor(
    public handler: FetchHandler = () => ({ status: 404, body: { error: 'not_found', message: 'No such endpoint.' } }),
  ) {}
  fetch(url: string, params: GasFetchParams): GasHttpResponse {
    this.calls.push({ url, params });
    const answer = this.handler(url, params);
    const text = answer.text ?? JSON.stringify(answer.body ?? {});
    return { getResponseCode: () => answer.status, getContentText: () => text };
  }
}

export class FakeScriptApp implements GasScriptApp {
  constructor(public identityToken: string | null = 'eyJ.fake-identity-token.sig') {}
  getIdentityToken(): string | null {
    return this.identityToken;
  }
  oauthToken = 'ya29.fake-oauth-token';
  getOAuthToken(): string {
    return this.oauthToken;
  }
}

export class FakeSession implements GasSession {
  /** The signed-in user's address; '' imitates Google withholding it (consumer accounts in some contexts). */
  email = 'manager@example.com';
  constructor(readonly userKey = 'user-key-' + randomUUID().slice(0, 8)) {}
  getTemporaryActiveUserKey(): string {
    return this.userKey;
  }
  getActiveUser(): GasUser {
    return { getEmail: () => this.email };
  }
}

/** Records every sendEmail; `failWith` makes the next sends throw, the way MailApp does when the quota is used up. */
export class FakeMailApp implements GasMailApp {
  readonly sent: GasMailMessage[] = [];
  failWith: string | null = null;
  sendEmail(message: GasMailMessage): void {
    if (this.failWith !== null) throw new Error(this.failWith);
    if (!message.to || !message.subject) throw new Error('Exception: Invalid argument: recipient or subject missing');
    this.sent.push({ ...message });
  }
}

/** LockService: the document lock belongs to the fake spreadsheet, so its writes can tell whether it was held. */
export class FakeLockService implements GasLockService {
  constructor(private readonly spreadsheet: FakeSpreadsheet) {}
  getDocumentLock(): GasLock {
    return this.spreadsheet.documentLock;
  }
}

export class FakeUtilities implements GasUtilities {
  getUuid(): string {
    return randomUUID();
  }
}

export class FakeHtmlService implements GasHtmlService {
  readonly files: string[] = [];
  createHtmlOutputFromFile(filename: string): GasHtmlOutput {
    this.files.push(filename);
    return new FakeHtmlOutput(filename);
  }
}

export class FakeCache implements GasCache {
  readonly map = new Map<string, string>();
  get(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  put(key: string, value: string): void {
    this.map.set(key, value);
  }
  remove(key: string): void {
    this.map.delete(key);
  }
}

export class FakeCacheService implements GasCacheService {
  readonly user = new FakeCache();
  getUserCache(): GasCache {
    return this.user;
  }
}

/** A full set of fakes, each with its concrete type so tests can inspect them. */
export interface AppsScriptFakes extends AppsScriptServices {
  SpreadsheetApp: FakeSpreadsheetApp;
  PropertiesService: FakePropertiesService;
  UrlFetchApp: FakeUrlFetchApp;
  ScriptApp: FakeScriptApp;
  Session: FakeSession;
  Utilities: FakeUtilities;
  HtmlService: FakeHtmlService;
  CacheService: FakeCacheService;
  MailApp: FakeMailApp;
  LockService: FakeLockService;
  spreadsheet: FakeSpreadsheet;
}

/** Creates fakes around one spreadsheet whose active sheet holds `cells` (or lives in `store`). */
export function createFakes(
  opts: {
    cells?: RawCell[][];
    store?: CellStore;
    metadata?: MetadataStore;
    sheetName?: string;
    timeZone?: string;
    handler?: FetchHandler;
  } = {},
): AppsScriptFakes {
  const spreadsheet = new FakeSpreadsheet(undefined, opts.timeZone ?? 'Europe/Lisbon');
  if (opts.metadata) spreadsheet.metadata = opts.metadata;
  spreadsheet.addSheet(opts.sheetName ?? 'Posts', opts.store ?? opts.cells ?? []);
  const app = new FakeSpreadsheetApp(spreadsheet);
  return {
    SpreadsheetApp: app,
    PropertiesService: new FakePropertiesService(app),
    UrlFetchApp: new FakeUrlFetchApp(opts.handler),
    ScriptApp: new FakeScriptApp(),
    Session: new FakeSession(),
    Utilities: new FakeUtilities(),
    HtmlService: new FakeHtmlService(),
    CacheService: new FakeCacheService(),
    MailApp: new FakeMailApp(),
    LockService: new FakeLockService(spreadsheet),
    spreadsheet,
  };
}

const SERVICE_NAMES = [
  'SpreadsheetApp',
  'PropertiesService',
  'UrlFetchApp',
  'ScriptApp',
  'Session',
  'Utilities',
  'HtmlService',
  'CacheService',
  'MailApp',
  'LockService',
] as const;

/** Puts the fakes on `target` (globalThis by default) as Apps Script globals; returns a function that removes them. */
export function installFakes(fakes: AppsScriptServices, target: object = globalThis): () => void {
  const record = target as Record<string, unknown>;
  for (const name of SERVICE_NAMES) record[name] = fakes[name];
  return () => {
    for (const name of SERVICE_NAMES) delete record[name];
  };
}

/** A fake Postato API key, made at runtime so no key-shaped string sits in the repository. */
export function fakeApiKey(): string {
  return 'smcp_' + randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
}
