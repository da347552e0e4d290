/**
 * The small part of the Apps Script services the add-on uses, as TypeScript interfaces. Production code gets the
 * real services from the global scope; tests install typed fakes that implement exactly these interfaces.
 */

/** A cell as getValues returns it: Sheets gives Date objects for date cells. */
export type RawCell = string | number | boolean | Date | null;

export interface GasRange {
  getValues(): RawCell[][];
  setValues(values: RawCell[][]): GasRange;
  getRow(): number;
  getNumRows(): number;
  getColumn(): number;
  getNumColumns(): number;
  activate(): GasRange;
  setDataValidation(rule: GasDataValidation | null): GasRange;
  setFontWeight(weight: 'bold' | 'normal'): GasRange;
  setBackground(color: string): GasRange;
  /** Makes a basic filter over this range (a sheet has at most one). */
  createFilter(): GasFilter;
}

/** The condition of a conditional format rule; getCriteriaType() is a SpreadsheetApp.BooleanCriteria (its name as text). */
export interface GasBooleanCondition {
  getCriteriaType(): unknown;
  getCriteriaValues(): unknown[];
}

export interface GasConditionalFormatRule {
  getRanges(): GasRange[];
  getBooleanCondition(): GasBooleanCondition | null;
}

export interface GasConditionalFormatRuleBuilder {
  whenTextEqualTo(text: string): GasConditionalFormatRuleBuilder;
  setBackground(color: string): GasConditionalFormatRuleBuilder;
  setFontColor(color: string): GasConditionalFormatRuleBuilder;
  setRanges(ranges: GasRange[]): GasConditionalFormatRuleBuilder;
  build(): GasConditionalFormatRule;
}

export interface GasFilterCriteria {
  getHiddenValues(): string[] | null;
}

export interface GasFilterCriteriaBuilder {
  /** Hides the rows whose cell in the column holds one of these values. */
  setHiddenValues(values: string[]): GasFilterCriteriaBuilder;
  build(): GasFilterCriteria;
}

/** A sheet's basic filter. */
export interface GasFilter {
  getRange(): GasRange;
  getColumnFilterCriteria(column: number): GasFilterCriteria | null;
  setColumnFilterCriteria(column: number, criteria: GasFilterCriteria | null): GasFilter;
  remove(): void;
}

export interface GasRangeList {
  getRanges(): GasRange[];
}

export interface GasSheet {
  getName(): string;
  getSheetId(): number;
  getDataRange(): GasRange;
  getRange(row: number, column: number, numRows?: number, numColumns?: number): GasRange;
  getLastRow(): number;
  getLastColumn(): number;
  getMaxRows(): number;
  setFrozenRows(rows: number): void;
  getFrozenRows(): number;
  getConditionalFormatRules(): GasConditionalFormatRule[];
  setConditionalFormatRules(rules: GasConditionalFormatRule[]): void;
  getFilter(): GasFilter | null;
  setColumnWidth(column: number, width: number): GasSheet;
  activate(): GasSheet;
}

export interface GasSpreadsheet {
  getId(): string;
  getName(): string;
  getSheets(): GasSheet[];
  getSpreadsheetTimeZone(): string;
  getActiveSheet(): GasSheet;
  getSheetByName(name: string): GasSheet | null;
  insertSheet(name: string): GasSheet;
  getActiveRangeList(): GasRangeList | null;
  /** Only an editor of the spreadsheet may add developer metadata. */
  addDeveloperMetadata(key: string, value: string, visibility: GasDeveloperMetadataVisibility): GasSpreadsheet;
  getDeveloperMetadata(): GasDeveloperMetadata[];
}

/** SpreadsheetApp.DeveloperMetadataVisibility's values (DOCUMENT: readable by any project with access to the file). */
export type GasDeveloperMetadataVisibility = 'DOCUMENT' | 'PROJECT';

export interface GasDeveloperMetadata {
  getKey(): string;
  getValue(): string | null;
  remove(): void;
}

export interface GasDataValidation {
  readonly values: string[];
}

export interface GasDataValidationBuilder {
  requireValueInList(values: string[], showDropdown?: boolean): GasDataValidationBuilder;
  /** Cells become checkboxes (TRUE/FALSE). */
  requireCheckbox(): GasDataValidationBuilder;
  setAllowInvalid(allow: boolean): GasDataValidationBuilder;
  build(): GasDataValidation;
}

export interface GasMenu {
  addItem(caption: string, functionName: string): GasMenu;
  addSeparator(): GasMenu;
  addToUi(): void;
}

export interface GasHtmlOutput {
  setTitle(title: string): GasHtmlOutput;
  setWidth(width: number): GasHtmlOutput;
  setHeight(height: number): GasHtmlOutput;
}

export interface GasUi {
  createAddonMenu(): GasMenu;
  createMenu(caption: string): GasMenu;
  showSidebar(html: GasHtmlOutput): void;
  /** Opens a dialog over the sheet; the user can't touch the sheet until it closes. */
  showModalDialog(html: GasHtmlOutput, title: string): void;
  alert(message: string): unknown;
}

export interface GasSpreadsheetApp {
  getActiveSpreadsheet(): GasSpreadsheet;
  getUi(): GasUi;
  newDataValidation(): GasDataValidationBuilder;
  newConditionalFormatRule(): GasConditionalFormatRuleBuilder;
  newFilterCriteria(): GasFilterCriteriaBuilder;
  flush(): void;
  readonly DeveloperMetadataVisibility: { readonly DOCUMENT: GasDeveloperMetadataVisibility };
}

export interface GasProperties {
  getProperty(key: string): string | null;
  setProperty(key: string, value: string): GasProperties;
  deleteProperty(key: string): GasProperties;
}

export interface GasPropertiesService {
  getUserProperties(): GasProperties;
  getScriptProperties(): GasProperties;
  getDocumentProperties(): GasProperties;
}

export interface GasFetchParams {
  method: 'get' | 'post';
  contentType?: string;
  payload?: string;
  headers: Record<string, string>;
  muteHttpExceptions: true;
  followRedirects?: boolean;
}

export interface GasHttpResponse {
  getResponseCode(): number;
  getContentText(): string;
}

export interface GasUrlFetchApp {
  fetch(url: string, params: GasFetchParams): GasHttpResponse;
}

export interface GasScriptApp {
  getIdentityToken(): string | null;
  /** The user's OAuth access token for the manifest's scopes (drive.file: the files they picked). */
  getOAuthToken(): string;
}

export interface GasUser {
  /** Empty when Google does not share the address (consumer accounts in some contexts). */
  getEmail(): string;
}

export interface GasSession {
  getTemporaryActiveUserKey(): string;
  getActiveUser(): GasUser;
}

/** The message object form of MailApp.sendEmail. */
export interface GasMailMessage {
  to: string;
  subject: string;
  body: string;
  htmlBody?: string;
  name?: string;
}

export interface GasMailApp {
  sendEmail(message: GasMailMessage): void;
}

export interface GasUtilities {
  getUuid(): string;
}

export interface GasHtmlService {
  createHtmlOutputFromFile(filename: string): GasHtmlOutput;
}

/** A lock of LockService; the document lock keeps two executions of the add-on on one document apart. */
export interface GasLock {
  /** Waits up to `timeoutInMillis` for the lock; false when another execution kept it. */
  tryLock(timeoutInMillis: number): boolean;
  releaseLock(): void;
  hasLock(): boolean;
}

export interface GasLockService {
  getDocumentLock(): GasLock | null;
}

export interface GasCache {
  get(key: string): string | null;
  put(key: string, value: string, expirationInSeconds?: number): void;
  remove(key: string): void;
}

export interface GasCacheService {
  getUserCache(): GasCache;
}

/** Every Apps Script service the add-on touches. */
export interface AppsScriptServices {
  SpreadsheetApp: GasSpreadsheetApp;
  PropertiesService: GasPropertiesService;
  UrlFetchApp: GasUrlFetchApp;
  ScriptApp: GasScriptApp;
  Session: GasSession;
  Utilities: GasUtilities;
  HtmlService: GasHtmlService;
  CacheService: GasCacheService;
  MailApp: GasMailApp;
  LockService: GasLockService;
}
