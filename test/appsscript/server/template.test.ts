import { insertTemplate, TEMPLATE_HEADER } from '../../../appsscript/server/template';
import { saveSettings } from '../../../appsscript/server/settings';
import { PLATFORMS } from '../../../appsscript/shared/sheet-columns';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import type { FakeSheet } from '../fakes/fake-spreadsheet-app';

describe('template sheet', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  beforeEach(() => {
    fakes = createFakes();
    uninstall = installFakes(fakes);
  });
  afterEach(() => uninstall());

  const inserted = (name: string) => fakes.spreadsheet.sheets.find((s) => s.name === name) as FakeSheet;
  const col = (name: string) => TEMPLATE_HEADER.indexOf(name) + 1;

  it('has the contract headers, example rows, a frozen header and dropdowns for Platform and Post type', () => {
    const name = insertTemplate(null);
    const sheet = inserted(name);
    expect(sheet.cells()[0]).toEqual([...TEMPLATE_HEADER]);
    expect(sheet.cells().length).toBeGreaterThanOrEqual(4);
    expect(sheet.frozenRows).toBe(1);
    expect(fakes.spreadsheet.activeSheet).toBe(sheet);
    const platform = sheet.validations.find((v) => v.column === col('Platform'));
    expect(platform).toMatchObject({ row: 2, values: [...PLATFORMS] });
    expect(sheet.validations.find((v) => v.column === col('Post type'))?.values).toContain('reel');
    expect(sheet.validations.find((v) => v.column === col('Account'))).toBeUndefined();
  });

  it('adds an Account dropdown when the service lists the workspace accounts', () => {
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
    fakes.UrlFetchApp.handler = (url) =>
      url.includes('/v1/accounts?workspaceId=ws_1') ? { status: 200, body: { items: [{ id: 'acc_a' }, { id: 'acc_b' }] } } : { status: 404, body: {} };
    const sheet = inserted(insertTemplate());
    expect(sheet.validations.find((v) => v.column === col('Account'))?.values).toEqual(['acc_a', 'acc_b']);
  });

  it('leaves the Account dropdown out when the account list is unavailable, and never reuses a sheet name', () => {
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
    fakes.UrlFetchApp.handler = () => ({ status: 404, body: { error: 'not_found', message: 'No such endpoint.' } });
    const first = insertTemplate();
    const second = insertTemplate();
    expect([first, second]).toEqual(['Postato posts', 'Postato posts 2']);
    expect(inserted(second).validations.find((v) => v.column === col('Account'))).toBeUndefined();
  });
});
