/**
 * Typed in-memory fakes of SpreadsheetApp, its Spreadsheet, Sheet and Range, with call counters so tests can
 * assert "one getValues". A sheet's cells live in a CellStore, so the browser test can back them with the Sheets fake.
 */
import type {
  GasDeveloperMetadata,
  GasDeveloperMetadataVisibility,
  GasBooleanCondition,
  GasConditionalFormatRule,
  GasConditionalFormatRuleBuilder,
  GasFilter,
  GasFilterCriteria,
  GasFilterCriteriaBuilder,
  GasDataValidation,
  GasLock,
  GasProperties,
  GasDataValidationBuilder,
  GasHtmlOutput,
  GasMenu,
  GasRange,
  GasRangeList,
  GasSheet,
  GasSpreadsheet,
  GasSpreadsheetApp,
  GasUi,
  RawCell,
} from '../../../appsscript/server/apps-script-types';

/** Where a fake sheet keeps its cells. */
export interface CellStore {
  read(): RawCell[][];
  write(row: number, column: number, values: RawCell[][]): void;
}

/** A CellStore in memory. */
export class MemoryCellStore implements CellStore {
  constructor(private cells: RawCell[][] = []) {}
  read(): RawCell[][] {
    return this.cells.map((r) => [...r]);
  }
  write(row: number, column: number, values: RawCell[][]): void {
    values.forEach((line, i) => {
      const target = (this.cells[row - 1 + i] ??= []);
      line.forEach((v, j) => {
        while (target.length < column - 1 + j) target.push('');
        target[column - 1 + j] = v;
      });
    });
    for (let i = 0; i < this.cells.length; i++) this.cells[i] ??= [];
  }
}

/** Where a fake spreadsheet keeps its developer metadata (the browser test keeps it in the Sheets fake). */
export interface MetadataStore {
  add(key: string, value: string, visibility: GasDeveloperMetadataVisibility): void;
  list(): Array<{ id: number; key: string; value: string }>;
  remove(id: number): void;
}

/** A MetadataStore in memory. */
export class MemoryMetadataStore implements MetadataStore {
  private nextId = 1;
  readonly entries: Array<{ id: number; key: string; value: string; visibility: GasDeveloperMetadataVisibility }> = [];
  add(key: string, value: string, visibility: GasDeveloperMetadataVisibility): void {
    this.entries.push({ id: this.nextId++, key, value, visibility });
  }
  list(): Array<{ id: number; key: string; value: string }> {
    return this.entries.map((e) => ({ ...e }));
  }
  remove(id: number): void {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i >= 0) this.entries.splice(i, 1);
  }
}

/** A PropertiesService store (user, script or document properties). */
export class FakeProperties implements GasProperties {
  readonly map = new Map<string, string>();
  getProperty(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setProperty(key: string, value: string): GasProperties {
    if (typeof value !== 'string') throw new Error('Exception: property values must be strings');
    this.map.set(key, value);
    return this;
  }
  deleteProperty(key: string): GasProperties {
    this.map.delete(key);
    return this;
  }
}

/** The document lock of LockService: one execution at a time; `heldElsewhere` imitates another editor's action. */
export class FakeLock implements GasLock {
  held = false;
  heldElsewhere = false;
  acquisitions = 0;
  tryLock(): boolean {
    if (this.heldElsewhere) return false;
    this.held = true;
    this.acquisitions++;
    return true;
  }
  releaseLock(): void {
    this.held = false;
  }
  hasLock(): boolean {
    return this.held;
  }
}

/** One setValues as the fake saw it: where, how large, and whether the document lock was held. */
export interface RecordedWrite {
  row: number;
  column: number;
  numRows: number;
  numColumns: number;
  underLock: boolean;
}

/** Counters of the calls that cost time in real Apps Script. */
export interface CallCounts {
  getValues: number;
  setValues: number;
}

export class FakeRange implements GasRange {
  constructor(
    readonly sheet: FakeSheet,
    readonly row: number,
    readonly column: number,
    readonly numRows: number,
    readonly numColumns: number,
  ) {
    if (row < 1 || column < 1 || numRows < 1 || numColumns < 1) {
      throw new Error(`Exception: The coordinates of the range are outside the dimensions of the sheet.`);
    }
  }
  createFilter(): GasFilter {
    if (this.sheet.filter)
      throw new Error("Exception: You can't create a filter in a sheet that already has a filter.");
    this.sheet.filter = new FakeFilter(this.sheet, this);
    return this.sheet.filter;
  }
  getValues(): RawCell[][] {
    this.sheet.calls.getValues++;
    const cells = this.sheet.store.read();
    const values = Array.from({ length: this.numRows }, (_, i) =>
      Array.from({ length: this.numColumns }, (_, j) => cells[this.row - 1 + i]?.[this.column - 1 + j] ?? ''),
    );
    // A test's stand-in for a colleague who sorts or edits the sheet right after the add-on read it.
    const after = this.sheet.afterGetValues;
    this.sheet.afterGetValues = null;
    after?.();
    return values;
  }
  setValues(values: RawCell[][]): GasRange {
    this.sheet.calls.setValues++;
    if (values.length !== this.numRows || values.some((r) => r.length !== this.numColumns)) {
      throw new Error(`Exception: The number of rows or columns in the data does not match the range.`);
    }
    this.sheet.writes.push({
      row: this.row,
      column: this.column,
      numRows: this.numRows,
      numColumns: this.numColumns,
      underLock: this.sheet.spreadsheet.documentLock.held,
    });
    this.sheet.store.write(this.row, this.column, values);
    return this;
  }
  getRow(): number {
    return this.row;
  }
  getNumRows(): number {
    return this.numRows;
  }
  getColumn(): number {
    return this.column;
  }
  getNumColumns(): number {
    return this.numColumns;
  }
  activate(): GasRange {
    this.sheet.spreadsheet.activeSheet = this.sheet;
    this.sheet.spreadsheet.selection = [this];
    return this;
  }
  setDataValidation(rule: GasDataValidation | null): GasRange {
    this.sheet.validations.push({
      column: this.column,
      row: this.row,
      numRows: this.numRows,
      values: rule?.values ?? null,
    });
    return this;
  }
  setFontWeight(weight: 'bold' | 'normal'): GasRange {
    this.sheet.formats.push(`font-weight ${weight} r${this.row}`);
    return this;
  }
  setBackground(color: string): GasRange {
    this.sheet.formats.push(`background ${color} r${this.row}`);
    return this;
  }
}

export class FakeSheet implements GasSheet {
  readonly calls: CallCounts = { getValues: 0, setValues: 0 };
  readonly validations: Array<{ column: number; row: number; numRows: number; values: string[] | null }> = [];
  readonly formats: string[] = [];
  readonly columnWidths = new Map<number, number>();
  readonly writes: RecordedWrite[] = [];
  /** Runs once, right after the next getValues returned (then clears itself). */
  afterGetValues: (() => void) | null = null;
  frozenRows = 0;
  maxRows = 1000;
  conditionalFormatRules: FakeConditionalFormatRule[] = [];
  /** How many times the rules were replaced (setConditionalFormatRules). */
  ruleWrites = 0;
  filter: FakeFilter | null = null;

  constructor(
    readonly spreadsheet: FakeSpreadsheet,
    readonly name: string,
    readonly sheetId: number,
    readonly store: CellStore = new MemoryCellStore(),
  ) {}

  /** Test helper: the cells as stored, without counting a call. */
  cells(): RawCell[][] {
    return this.store.read();
  }
  /** Test helper: sorts the rows below the header by one column's text, as Data › Sort range does. */
  sortBy(columnIndex: number, descending = false): void {
    const [header = [], ...rows] = this.store.read();
    const width = Math.max(header.length, ...rows.map((r) => r.length));
    rows.sort(
      (a, b) => String(a[columnIndex] ?? '').localeCompare(String(b[columnIndex] ?? '')) * (descending ? -1 : 1),
    );
    this.store.write(
      2,
      1,
      rows.map((r) => Array.from({ length: width }, (_, j) => r[j] ?? '')),
    );
  }
  /** Test helper: sets one cell (1-based), as a user typing would. */
  edit(row: number, column: number, value: RawCell): void {
    this.store.write(row, column, [[value]]);
  }
  getName(): string {
    return this.name;
  }
  getSheetId(): number {
    return this.sheetId;
  }
  getLastRow(): number {
    const cells = this.store.read();
    for (let i = cells.length; i > 0; i--) if (cells[i - 1]!.some((c) => c !== '' && c !== null)) return i;
    return 0;
  }
  getLastColumn(): number {
    let last = 0;
    for (const row of this.store.read()) {
      for (let j = row.length; j > last; j--) if (row[j - 1] !== '' && row[j - 1] !== null) last = j;
    }
    return last;
  }
  getMaxRows(): number {
    return Math.max(this.maxRows, this.getLastRow());
  }
  getDataRange(): GasRange {
    return new FakeRange(this, 1, 1, Math.max(this.getLastRow(), 1), Math.max(this.getLastColumn(), 1));
  }
  getRange(row: number, column: number, numRows = 1, numColumns = 1): GasRange {
    return new FakeRange(this, row, column, numRows, numColumns);
  }
  setFrozenRows(rows: number): void {
    this.frozenRows = rows;
  }
  getFrozenRows(): number {
    return this.frozenRows;
  }
  getConditionalFormatRules(): GasConditionalFormatRule[] {
    return [...this.conditionalFormatRules];
  }
  setConditionalFormatRules(rules: GasConditionalFormatRule[]): void {
    this.ruleWrites++;
    this.conditionalFormatRules = [...(rules as FakeConditionalFormatRule[])];
  }
  getFilter(): GasFilter | null {
    return this.filter;
  }
  setColumnWidth(column: number, width: number): GasSheet {
    this.columnWidths.set(column, width);
    return this;
  }
  activate(): GasSheet {
    this.spreadsheet.activeSheet = this;
    return this;
  }
}

export class FakeSpreadsheet implements GasSpreadsheet {
  readonly sheets: FakeSheet[] = [];
  readonly documentLock = new FakeLock();
  activeSheet!: FakeSheet;
  selection: FakeRange[] = [];

  /** DocumentProperties belong to the spreadsheet: each one has its own. */
  readonly documentProperties = new FakeProperties();
  name = 'Campaign plan';
  /** The user may only view the spreadsheet: Apps Script refuses them any change, developer metadata included. */
  viewOnly = false;
  metadata: MetadataStore = new MemoryMetadataStore();

  constructor(
    readonly id = 'ss-' + Math.random().toString(36).slice(2, 10),
    readonly timeZone = 'Europe/Lisbon',
  ) {}

  /** Test helper: adds a sheet with these cells (or another store) and makes it active. */
  addSheet(name: string, cells: RawCell[][] | CellStore = []): FakeSheet {
    const store = Array.isArray(cells) ? new MemoryCellStore(cells.map((r) => [...r])) : cells;
    const sheet = new FakeSheet(this, name, 1000 + this.sheets.length, store);
    this.sheets.push(sheet);
    this.activeSheet = sheet;
    return sheet;
  }
  /** Test helper: selects whole rows [from, to] of the active sheet. */
  selectRows(...spans: Array<[number, number]>): void {
    this.selection = spans.map(([from, to]) => new FakeRange(this.activeSheet, from, 1, to - from + 1, 1));
  }
  getId(): string {
    return this.id;
  }
  getName(): string {
    return this.name;
  }
  getSheets(): GasSheet[] {
    return [...this.sheets];
  }
  /** Test helper: deletes a tab, as the user can at any time. */
  deleteSheet(name: string): void {
    const i = this.sheets.findIndex((s) => s.name === name);
    if (i >= 0) this.sheets.splice(i, 1);
    if (this.activeSheet?.name === name) this.activeSheet = this.sheets[0]!;
  }
  getSpreadsheetTimeZone(): string {
    return this.timeZone;
  }
  getActiveSheet(): GasSheet {
    return this.activeSheet;
  }
  getSheetByName(name: string): GasSheet | null {
    return this.sheets.find((s) => s.name === name) ?? null;
  }
  insertSheet(name: string): GasSheet {
    if (this.getSheetByName(name)) throw new Error(`Exception: A sheet with the name "${name}" already exists.`);
    const sheet = new FakeSheet(this, name, 1000 + this.sheets.length);
    this.sheets.push(sheet);
    this.activeSheet = sheet;
    return sheet;
  }
  getActiveRangeList(): GasRangeList | null {
    return this.selection.length === 0 ? null : { getRanges: () => [...this.selection] };
  }
  addDeveloperMetadata(key: string, value: string, visibility: GasDeveloperMetadataVisibility): GasSpreadsheet {
    if (this.viewOnly) throw new Error('Exception: You do not have permission to access the requested document.');
    this.metadata.add(key, value, visibility);
    return this;
  }
  getDeveloperMetadata(): GasDeveloperMetadata[] {
    return this.metadata.list().map((m) => ({
      getKey: () => m.key,
      getValue: () => m.value,
      remove: () => {
        if (this.viewOnly) throw new Error('Exception: You do not have permission to access the requested document.');
        this.metadata.remove(m.id);
      },
    }));
  }
}

export class FakeMenu implements GasMenu {
  readonly items: Array<[string, string] | null> = [];
  added = false;
  constructor(readonly caption: string) {}
  addItem(caption: string, functionName: string): GasMenu {
    this.items.push([caption, functionName]);
    return this;
  }
  addSeparator(): GasMenu {
    this.items.push(null);
    return this;
  }
  addToUi(): void {
    this.added = true;
  }
}

export class FakeHtmlOutput implements GasHtmlOutput {
  title = '';
  width = 0;
  height = 0;
  constructor(readonly file: string) {}
  setTitle(title: string): GasHtmlOutput {
    this.title = title;
    return this;
  }
  setWidth(width: number): GasHtmlOutput {
    this.width = width;
    return this;
  }
  setHeight(height: number): GasHtmlOutput {
    this.height = height;
    return this;
  }
}

/** A modal dialog as the fake UI saw it open. */
export interface ShownDialog {
  file: string;
  title: string;
  width: number;
  height: number;
}

export class FakeUi implements GasUi {
  readonly menus: FakeMenu[] = [];
  readonly sidebars: GasHtmlOutput[] = [];
  readonly dialogs: ShownDialog[] = [];
  readonly alerts: string[] = [];
  createAddonMenu(): GasMenu {
    const menu = new FakeMenu('(add-on)');
    this.menus.push(menu);
    return menu;
  }
  createMenu(caption: string): GasMenu {
    const menu = new FakeMenu(caption);
    this.menus.push(menu);
    return menu;
  }
  showSidebar(html: GasHtmlOutput): void {
    this.sidebars.push(html);
  }
  showModalDialog(html: GasHtmlOutput, title: string): void {
    const { file, width, height } = html as FakeHtmlOutput;
    this.dialogs.push({ file, title, width, height });
  }
  alert(message: string): unknown {
    this.alerts.push(message);
    return 'OK';
  }
}

class FakeValidationBuilder implements GasDataValidationBuilder {
  private values: string[] = [];
  requireValueInList(values: string[]): GasDataValidationBuilder {
    this.values = [...values];
    return this;
  }
  /** Apps Script checkboxes hold TRUE/FALSE; the fake records them as that two-value list. */
  requireCheckbox(): GasDataValidationBuilder {
    this.values = ['TRUE', 'FALSE'];
    return this;
  }
  setAllowInvalid(): GasDataValidationBuilder {
    return this;
  }
  build(): GasDataValidation {
    return { values: this.values };
  }
}

export class FakeSpreadsheetApp implements GasSpreadsheetApp {
  readonly ui = new FakeUi();
  readonly DeveloperMetadataVisibility = { DOCUMENT: 'DOCUMENT' as const };
  /** The spreadsheet the add-on runs in; a test may switch it to imitate the same user in another spreadsheet. */
  constructor(public spreadsheet: FakeSpreadsheet) {}
  getActiveSpreadsheet(): GasSpreadsheet {
    return this.spreadsheet;
  }
  getUi(): GasUi {
    return this.ui;
  }
  newDataValidation(): GasDataValidationBuilder {
    return new FakeValidationBuilder();
  }
  newConditionalFormatRule(): FakeConditionalFormatRuleBuilder {
    return new FakeConditionalFormatRuleBuilder();
  }
  newFilterCriteria(): GasFilterCriteriaBuilder {
    return new FakeFilterCriteriaBuilder();
  }
  flush(): void {}
}

/** A conditional format rule as the fake keeps it; getCriteriaType() answers the enum's name, as Apps Script's does. */
export class FakeConditionalFormatRule implements GasConditionalFormatRule {
  constructor(
    readonly ranges: GasRange[],
    readonly criteria: { type: string; values: unknown[] } | null,
    readonly background: string | null,
    readonly fontColor: string | null,
  ) {}
  getRanges(): GasRange[] {
    return [...this.ranges];
  }
  getBooleanCondition(): GasBooleanCondition | null {
    const c = this.criteria;
    return c ? { getCriteriaType: () => c.type, getCriteriaValues: () => [...c.values] } : null;
  }
}

export class FakeConditionalFormatRuleBuilder implements GasConditionalFormatRuleBuilder {
  private criteria: { type: string; values: unknown[] } | null = null;
  private background: string | null = null;
  private fontColor: string | null = null;
  private ranges: GasRange[] = [];
  whenTextEqualTo(text: string): GasConditionalFormatRuleBuilder {
    this.criteria = { type: 'TEXT_EQUAL_TO', values: [text] };
    return this;
  }
  /** Test helper: a rule of another kind, as a user might add (e.g. "text contains"). */
  whenTextContains(text: string): FakeConditionalFormatRuleBuilder {
    this.criteria = { type: 'TEXT_CONTAINS', values: [text] };
    return this;
  }
  setBackground(color: string): GasConditionalFormatRuleBuilder {
    this.background = color;
    return this;
  }
  setFontColor(color: string): GasConditionalFormatRuleBuilder {
    this.fontColor = color;
    return this;
  }
  setRanges(ranges: GasRange[]): GasConditionalFormatRuleBuilder {
    this.ranges = [...ranges];
    return this;
  }
  build(): FakeConditionalFormatRule {
    return new FakeConditionalFormatRule(this.ranges, this.criteria, this.background, this.fontColor);
  }
}

export class FakeFilterCriteria implements GasFilterCriteria {
  constructor(readonly hiddenValues: string[] | null) {}
  getHiddenValues(): string[] | null {
    return this.hiddenValues ? [...this.hiddenValues] : null;
  }
}

export class FakeFilterCriteriaBuilder implements GasFilterCriteriaBuilder {
  private hidden: string[] | null = null;
  setHiddenValues(values: string[]): GasFilterCriteriaBuilder {
    this.hidden = [...values];
    return this;
  }
  build(): FakeFilterCriteria {
    return new FakeFilterCriteria(this.hidden);
  }
}

/** A basic filter: criteria per 1-based column; hiddenRows() says which rows Sheets would hide. */
export class FakeFilter implements GasFilter {
  readonly criteria = new Map<number, FakeFilterCriteria>();
  removed = false;
  constructor(
    readonly sheet: FakeSheet,
    readonly range: FakeRange,
  ) {}
  getRange(): GasRange {
    return this.range;
  }
  getColumnFilterCriteria(column: number): GasFilterCriteria | null {
    return this.criteria.get(column) ?? null;
  }
  setColumnFilterCriteria(column: number, criteria: GasFilterCriteria | null): GasFilter {
    if (column < this.range.column || column >= this.range.column + this.range.numColumns) {
      throw new Error('Exception: The column is outside the filter range.');
    }
    if (criteria === null) this.criteria.delete(column);
    else this.criteria.set(column, criteria as FakeFilterCriteria);
    return this;
  }
  remove(): void {
    this.removed = true;
    this.sheet.filter = null;
  }
  /** Test helper: the 1-based rows below the filter's header that its criteria hide. */
  hiddenRows(): number[] {
    const cells = this.sheet.cells();
    const hidden: number[] = [];
    for (let row = this.range.row + 1; row < this.range.row + this.range.numRows; row++) {
      for (const [column, c] of this.criteria) {
        const value = String(cells[row - 1]?.[column - 1] ?? '');
        if (c.hiddenValues?.includes(value)) {
          hidden.push(row);
          break;
        }
      }
    }
    return hidden;
  }
}
