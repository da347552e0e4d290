import { saveSettings, settingsView, readSettings, requireRunSettings } from '../../../appsscript/server/settings';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { FakeSpreadsheet } from '../fakes/fake-spreadsheet-app';

describe('settings', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  beforeEach(() => {
    fakes = createFakes();
    uninstall = installFakes(fakes);
  });
  afterEach(() => uninstall());

  it('stores the API key in user properties and only shows its last four characters', () => {
    const key = fakeApiKey();
    const view = saveSettings({
      workspaceId: 'ws_1',
      apiKey: key,
      timeZone: 'America/Sao_Paulo',
      minGapMinutes: 20,
      jitterSeconds: 30,
    });
    expect(fakes.PropertiesService.user.getProperty('postato.apiKey')).toBe(key);
    expect([...fakes.PropertiesService.user.map.keys()]).toEqual(['postato.apiKey']);
    // The key never goes into the document, where every editor could read it.
    expect(JSON.stringify([...fakes.PropertiesService.document.map])).not.toContain(key);
    expect(JSON.stringify(view)).not.toContain(key);
    expect(view).toMatchObject({
      workspaceId: 'ws_1',
      apiKeySet: true,
      apiKeyHint: `…${key.slice(-4)}`,
      timeZone: 'America/Sao_Paulo',
      minGapMinutes: 20,
      jitterSeconds: 30,
      spreadsheetTimeZone: 'Europe/Lisbon',
    });
  });

  it('keeps the stored key when the form leaves the key blank', () => {
    const key = fakeApiKey();
    saveSettings({ workspaceId: 'ws_1', apiKey: key });
    saveSettings({ workspaceId: 'ws_2', apiKey: '' });
    expect(readSettings()).toMatchObject({ workspaceId: 'ws_2', apiKey: key });
  });

  it('explains what is wrong with a bad key, zone, workspace or gap', () => {
    expect(() => saveSettings({ workspaceId: 'ws_1', apiKey: 'sk_live_123' })).toThrow(/starts with "smcp_"/);
    expect(() => saveSettings({ workspaceId: 'ws_1', timeZone: 'Mars/Olympus' })).toThrow(/not a time zone/);
    expect(() => saveSettings({ workspaceId: '' })).toThrow(/workspace ID/);
    expect(() => saveSettings({ workspaceId: 'ws_1', minGapMinutes: -3 })).toThrow(/whole number between 0 and 1440/);
  });

  it('asks for the settings before a run, naming what is missing', () => {
    expect(() => requireRunSettings()).toThrow(/enter the workspace ID of this spreadsheet and your API key/);
    saveSettings({ workspaceId: 'ws_1' });
    expect(() => requireRunSettings()).toThrow(/enter your Postato API key first/);
  });

  it('workspace, zone, gap and jitter belong to the spreadsheet: every editor uses the same', () => {
    saveSettings({ workspaceId: 'ws_client', apiKey: fakeApiKey(), timeZone: 'Europe/Berlin', minGapMinutes: 30 });
    // A colleague with their own key opens the same spreadsheet.
    fakes.PropertiesService.user.map.clear();
    fakes.PropertiesService.user.setProperty('postato.apiKey', fakeApiKey());
    expect(readSettings()).toMatchObject({ workspaceId: 'ws_client', timeZone: 'Europe/Berlin', minGapMinutes: 30 });
  });

  it('two spreadsheets of one user keep separate workspaces', () => {
    const key = fakeApiKey();
    const first = fakes.spreadsheet;
    saveSettings({ workspaceId: 'ws_client_a', apiKey: key, minGapMinutes: 20 });
    const second = new FakeSpreadsheet('ss-client-b');
    second.addSheet('Posts', []);
    fakes.SpreadsheetApp.spreadsheet = second;
    expect(readSettings()).toMatchObject({ workspaceId: '', apiKey: key, minGapMinutes: null });
    saveSettings({ workspaceId: 'ws_client_b' });
    expect(readSettings().workspaceId).toBe('ws_client_b');
    fakes.SpreadsheetApp.spreadsheet = first;
    expect(readSettings()).toMatchObject({ workspaceId: 'ws_client_a', apiKey: key, minGapMinutes: 20 });
  });

  it('reports shared-secret mode when the script property is set', () => {
    expect(settingsView().usesSharedSecret).toBe(false);
    fakes.PropertiesService.script.setProperty('SHARED_SECRET', 's3cret');
    expect(settingsView().usesSharedSecret).toBe(true);
  });
});
