/**
 * State at a glance: an action colours the Status column (conditional formatting), freezes the header once and never
 * touches the user's own rules; "Show rows that need a fix" filters the tab and, untoggled, gives it back as it was.
 */
import { dryRun, prepareAction } from '../../../appsscript/server/run-actions';
import { saveSettings } from '../../../appsscript/server/settings';
import { STATUS_COLOURS, ensureStatusLook, showRowsNeedingFix } from '../../../appsscript/server/status-look';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import {
  FakeConditionalFormatRuleBuilder,
  type FakeConditionalFormatRule,
  type FakeFilter,
} from '../fakes/fake-spreadsheet-app';
import { sampleCells, scriptedService } from '../fakes/sample-sheet';

/** Status is column 7 (G) of the sample sheet. */
const STATUS_COLUMN = 7;

/** A rule as text: "G2:1000 TEXT_EQUAL_TO FAILED #f4c7c3". */
function describeRule(rule: FakeConditionalFormatRule): string {
  const ranges = rule.ranges.map((r) => `${r.getColumn()}:${r.getRow()}+${r.getNumRows()}`).join(',');
  return `${ranges} ${rule.criteria?.type} ${String(rule.criteria?.values[0])} ${rule.background}`;
}

describe('state at a glance', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  const sheet = () => fakes.spreadsheet.activeSheet;
  beforeEach(() => {
    fakes = createFakes({ cells: sampleCells(), handler: scriptedService().handler });
    uninstall = installFakes(fakes);
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
  });
  afterEach(() => uninstall());

  it('a dry run colours every status on the Status column and freezes the header; a second adds nothing', () => {
    dryRun({});
    const rules = sheet().conditionalFormatRules;
    expect(rules.map((r) => String(r.criteria?.values[0]))).toEqual(STATUS_COLOURS.map((c) => c.status));
    for (const rule of rules) {
      expect(rule.ranges.map((r) => [r.getColumn(), r.getRow(), r.getNumColumns()])).toEqual([[STATUS_COLUMN, 2, 1]]);
      expect(rule.criteria?.type).toBe('TEXT_EQUAL_TO');
    }
    const colour = (status: string) => rules.find((r) => r.criteria?.values[0] === status)!.background;
    expect([colour('FAILED'), colour('INVALID')]).toEqual(['#f4c7c3', '#f4c7c3']);
    expect([colour('CHANGED'), colour('PENDING APPROVAL')]).toEqual(['#fce8b2', '#fce8b2']);
    expect([colour('SCHEDULED'), colour('PUBLISHED')]).toEqual(['#b7e1cd', '#b7e1cd']);
    expect(sheet().frozenRows).toBe(1);

    prepareAction('publish', {});
    dryRun({});
    expect(sheet().conditionalFormatRules).toHaveLength(STATUS_COLOURS.length);
    expect(sheet().ruleWrites).toBe(1);
  });

  it('keeps the user’s own rules first and as they were, and does not re-add a rule the user recoloured', () => {
    const builder = () => fakes.SpreadsheetApp.newConditionalFormatRule();
    const theirs = [
      (builder() as FakeConditionalFormatRuleBuilder)
        .whenTextContains('urgent')
        .setBackground('#ff00ff')
        .setRanges([sheet().getRange(2, 5, 999, 1)])
        .build(),
      // Our FAILED rule, recoloured by the user: it counts as there.
      builder()
        .whenTextEqualTo('FAILED')
        .setBackground('#000000')
        .setRanges([sheet().getRange(2, STATUS_COLUMN, 500, 1)])
        .build(),
      // A FAILED rule over two columns is the user's own, not ours.
      builder()
        .whenTextEqualTo('INVALID')
        .setBackground('#123456')
        .setRanges([sheet().getRange(2, 6, 999, 2)])
        .build(),
    ];
    sheet().setConditionalFormatRules(theirs);
    const before = theirs.map((r) => describeRule(r as FakeConditionalFormatRule));

    expect(ensureStatusLook(sheet(), STATUS_COLUMN)).toEqual({
      rulesAdded: STATUS_COLOURS.length - 1,
      frozeHeader: true,
    });
    const after = sheet().conditionalFormatRules;
    expect(after.slice(0, 3).map(describeRule)).toEqual(before);
    expect(after.slice(3).map((r) => String(r.criteria?.values[0]))).toEqual(
      STATUS_COLOURS.map((c) => c.status).filter((s) => s !== 'FAILED'),
    );
    expect(ensureStatusLook(sheet(), STATUS_COLUMN)).toEqual({ rulesAdded: 0, frozeHeader: false });
  });

  it('leaves a header the user froze differently as it is', () => {
    sheet().setFrozenRows(3);
    ensureStatusLook(sheet(), STATUS_COLUMN);
    expect(sheet().frozenRows).toBe(3);
  });

  it('"Show rows that need a fix" filters to FAILED/INVALID rows; untoggled, the add-on’s filter is gone', () => {
    sheet().edit(3, STATUS_COLUMN, 'INVALID');
    expect(showRowsNeedingFix(true)).toEqual({ on: true, rowsShown: 2 });
    const filter = sheet().filter!;
    // Rows 3 (INVALID) and 5 (FAILED) stay; row 2 (blank status) and row 4 (empty) are hidden.
    expect(filter.hiddenRows()).toEqual([2, 4]);
    // Toggling on again (the sidebar reopened) keeps one filter and refreshes it.
    sheet().edit(2, STATUS_COLUMN, 'SCHEDULED');
    expect(showRowsNeedingFix(true).rowsShown).toBe(2);
    expect(sheet().filter).toBe(filter);
    expect(filter.hiddenRows()).toEqual([2, 4]);

    expect(showRowsNeedingFix(false).on).toBe(false);
    expect(sheet().filter).toBeNull();
    expect(fakes.PropertiesService.document.getProperty(`postato.needsFixFilter.${sheet().sheetId}`)).toBeNull();
  });

  it('on a tab with the user’s own filter, untoggling gives back their Status criteria and keeps their filter', () => {
    const theirs = sheet().getRange(1, 1, 5, 7).createFilter();
    theirs.setColumnFilterCriteria(
      STATUS_COLUMN,
      fakes.SpreadsheetApp.newFilterCriteria().setHiddenValues(['SCHEDULED']).build(),
    );
    showRowsNeedingFix(true);
    expect(sheet().filter!.hiddenRows()).toEqual([2, 3, 4]);
    showRowsNeedingFix(false);
    expect(sheet().filter).toBe(theirs);
    expect(theirs.getColumnFilterCriteria(STATUS_COLUMN)!.getHiddenValues()).toEqual(['SCHEDULED']);
  });

  it('says what to do when the user’s filter does not cover the Status column, and changes nothing', () => {
    const theirs = sheet().getRange(1, 1, 5, 3).createFilter();
    expect(() => showRowsNeedingFix(true)).toThrow(/filter that does not cover the Status column/);
    expect(sheet().filter).toBe(theirs);
    expect((theirs as FakeFilter).criteria.size).toBe(0);
  });
});
