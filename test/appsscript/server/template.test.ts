import { accountChoices, insertTemplate, TEMPLATE_HEADER } from '../../../appsscript/server/template';
import { POSTATO_API_KEY_HEADER, type AccountsResponse } from '../../../appsscript/shared/contract';
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
    // An Approved checkbox column between the inputs and the outputs, unticked in the examples.
    expect(col('Approved')).toBeGreaterThan(col('Options'));
    expect(col('Approved')).toBeLessThan(col('Status'));
    expect(sheet.validations.find((v) => v.column === col('Approved'))?.values).toEqual(['TRUE', 'FALSE']);
    expect(
      sheet
        .cells()
        .slice(1)
        .map((r) => r[col('Approved') - 1]),
    ).not.toContain(true);
  });

  it('adds an Account dropdown when the service lists the workspace accounts', () => {
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
    fakes.UrlFetchApp.handler = (url) =>
      url.includes('/v1/accounts?workspaceId=ws_1')
        ? { status: 200, body: { items: [{ id: 'acc_a' }, { id: 'acc_b' }] } }
        : { status: 404, body: {} };
    const sheet = inserted(insertTemplate());
    expect(sheet.validations.find((v) => v.column === col('Account'))?.values).toEqual(['acc_a', 'acc_b']);
  });

  it('asks GET /v1/accounts for the saved workspace with the Postato key in its header, and reads the service’s answer shape', () => {
    const apiKey = fakeApiKey();
    saveSettings({ workspaceId: 'wks_01-AB', apiKey });
    const answer: AccountsResponse = {
      available: true,
      items: [
        { id: 'acc_x', platform: 'twitter', username: 'brand', status: 'connected' },
        { id: 'acc_li', platform: 'linkedin', username: 'brand-co', displayName: 'Brand Co', status: 'token_expired' },
      ],
    };
    fakes.UrlFetchApp.handler = () => ({ status: 200, body: answer });
    expect(accountChoices()).toEqual(['acc_x', 'acc_li']);
    const call = fakes.UrlFetchApp.calls[0]!;
    expect(call.params.method).toBe('get');
    expect(call.url.endsWith('/v1/accounts?workspaceId=wks_01-AB')).toBe(true);
    expect(call.params.headers?.[POSTATO_API_KEY_HEADER]).toBe(apiKey);
  });

  it('asks nothing when no workspace or key is saved, and gives no choices when the service says the list is not available', () => {
    expect(accountChoices()).toBeNull();
    expect(fakes.UrlFetchApp.calls).toHaveLength(0);
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
    fakes.UrlFetchApp.handler = () => ({
      status: 200,
      body: { items: [], available: false } satisfies AccountsResponse,
    });
    expect(accountChoices()).toBeNull();
    expect(fakes.UrlFetchApp.calls).toHaveLength(1);
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
