/**
 * State at a glance: the Status column coloured by conditional formatting (red: needs a fix, amber: needs a look,
 * green: on its way or out), a frozen header row, and a filter that shows only the rows needing a fix. The add-on
 * adds what is missing, once: a rule counts as there when a rule on the Status column alone has the same condition,
 * whatever its colour (the user may have recoloured it), and the user's own rules are kept as they are.
 */
import type { SheetStatus } from '../shared/contract';
import type { GasConditionalFormatRule, GasSheet } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';
import { findColumns } from './sheet-reader';

const RED = { background: '#f4c7c3', fontColor: '#a50e0e' };
const AMBER = { background: '#fce8b2', fontColor: '#7a4f01' };
const GREEN = { background: '#b7e1cd', fontColor: '#0d652d' };

/** The Status words the add-on colours, and how. */
export const STATUS_COLOURS: ReadonlyArray<{ status: SheetStatus; background: string; fontColor: string }> = [
  { status: 'FAILED', ...RED },
  { status: 'INVALID', ...RED },
  { status: 'DELIVERY FAILED', ...RED },
  { status: 'REJECTED', ...RED },
  { status: 'CHANGED', ...AMBER },
  { status: 'PENDING APPROVAL', ...AMBER },
  { status: 'SCHEDULED', ...GREEN },
  { status: 'PUBLISHED', ...GREEN },
];

/** Rows whose Status says the user has something to fix; the filter shows only these. */
export const NEEDS_FIX_STATUSES: readonly SheetStatus[] = ['FAILED', 'INVALID', 'DELIVERY FAILED', 'REJECTED'];

/** DocumentProperties key remembering how the filter looked before the toggle, per tab. */
const FILTER_STATE_PREFIX = 'postato.needsFixFilter.';

/** What ensureStatusLook changed. */
export interface StatusLookChange {
  rulesAdded: number;
  frozeHeader: boolean;
}

/** The status word a rule colours when it is a text-equals rule on the Status column alone, else null. */
function statusRuleText(rule: GasConditionalFormatRule, statusColumn: number): string | null {
  const condition = rule.getBooleanCondition();
  if (!condition || String(condition.getCriteriaType()) !== 'TEXT_EQUAL_TO') return null;
  const ranges = rule.getRanges();
  if (ranges.length === 0 || ranges.some((r) => r.getColumn() !== statusColumn || r.getNumColumns() !== 1)) return null;
  const [value] = condition.getCriteriaValues();
  return typeof value === 'string' ? value.trim().toUpperCase() : null;
}

/** Adds the missing Status colours and freezes the header row when nothing is frozen; idempotent. */
export function ensureStatusLook(sheet: GasSheet, statusColumn: number): StatusLookChange {
  const rules = sheet.getConditionalFormatRules();
  const present = new Set(rules.map((r) => statusRuleText(r, statusColumn)).filter((t) => t !== null));
  const missing = STATUS_COLOURS.filter((c) => !present.has(c.status));
  if (missing.length > 0) {
    const range = sheet.getRange(2, statusColumn, Math.max(sheet.getMaxRows() - 1, 1), 1);
    const added = missing.map((c) =>
      gas()
        .SpreadsheetApp.newConditionalFormatRule()
        .whenTextEqualTo(c.status)
        .setBackground(c.background)
        .setFontColor(c.fontColor)
        .setRanges([range])
        .build(),
    );
    // The user's rules first, as they were: Sheets applies the first matching rule, so theirs keep precedence.
    sheet.setConditionalFormatRules([...rules, ...added]);
  }
  const frozeHeader = sheet.getFrozenRows() === 0;
  if (frozeHeader) sheet.setFrozenRows(1);
  return { rulesAdded: missing.length, frozeHeader };
}

/** The 1-based Status column of `sheet`, or a sentence saying there is none yet. */
function statusColumnOf(sheet: GasSheet): number {
  const header = sheet.getRange(1, 1, 1, Math.max(sheet.getLastColumn(), 1)).getValues()[0] ?? [];
  const index = findColumns(header).Status;
  if (index === undefined) {
    throw new AddonError(`The tab “${sheet.getName()}” has no Status column yet. Run a dry run first; it adds one.`);
  }
  return index + 1;
}

interface FilterState {
  /** The add-on made the filter, so turning the toggle off removes it. */
  created: boolean;
  /** The Status values the user's own filter hid before (null: it had no criteria on Status). */
  hiddenBefore: string[] | null;
}

/**
 * Turns "Show rows that need a fix" on (a basic filter hiding every other Status) or off (the filter as it was: the
 * add-on's own filter removed, the user's filter given back its Status criteria). Returns how many rows stay visible.
 */
export function showRowsNeedingFix(on: boolean): { on: boolean; rowsShown: number } {
  const spreadsheet = gas().SpreadsheetApp.getActiveSpreadsheet();
  const sheet = spreadsheet.getActiveSheet();
  const doc = gas().PropertiesService.getDocumentProperties();
  const stateKey = FILTER_STATE_PREFIX + sheet.getSheetId();
  const saved = doc.getProperty(stateKey);
  const column = statusColumnOf(sheet);
  const statuses = sheet
    .getRange(2, column, Math.max(sheet.getLastRow() - 1, 1), 1)
    .getValues()
    .map((r) => String(r[0] ?? '').trim());
  const needsFix = (s: string) => (NEEDS_FIX_STATUSES as readonly string[]).includes(s.toUpperCase());
  const filter = sheet.getFilter();

  if (!on) {
    if (saved !== null) {
      const state = JSON.parse(saved) as FilterState;
      if (filter && state.created) filter.remove();
      else if (filter) {
        filter.setColumnFilterCriteria(
          column,
          state.hiddenBefore === null
            ? null
            : gas().SpreadsheetApp.newFilterCriteria().setHiddenValues(state.hiddenBefore).build(),
        );
      }
      doc.deleteProperty(stateKey);
    }
    return { on: false, rowsShown: statuses.length };
  }

  let state: FilterState = saved !== null ? (JSON.parse(saved) as FilterState) : { created: false, hiddenBefore: null };
  let target = filter;
  if (!target) {
    target = sheet.getDataRange().createFilter();
    if (saved === null) state = { created: true, hiddenBefore: null };
  } else {
    const range = target.getRange();
    if (column < range.getColumn() || column >= range.getColumn() + range.getNumColumns()) {
      throw new AddonError(
        'This tab already has a filter that does not cover the Status column. Remove it (Data › Remove filter) or widen it, then try again.',
      );
    }
    if (saved === null) {
      state = { created: false, hiddenBefore: target.getColumnFilterCriteria(column)?.getHiddenValues() ?? null };
    }
  }
  // Hide every other Status seen in the column (blank included); the values shown are the ones that need a fix.
  const hidden = [...new Set(statuses.filter((s) => !needsFix(s)))];
  target.setColumnFilterCriteria(column, gas().SpreadsheetApp.newFilterCriteria().setHiddenValues(hidden).build());
  doc.setProperty(stateKey, JSON.stringify(state));
  return { on: true, rowsShown: statuses.filter(needsFix).length };
}
