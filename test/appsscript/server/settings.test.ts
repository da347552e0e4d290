import { saveSettings, settingsView, readSettings, requireRunSettings } from '../../../appsscript/server/settings';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';

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
    expect(fakes.PropertiesService.document.map.size).toBe(0);
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

  it('asks for the settings before a run when the key is missing', () => {
    saveSettings({ workspaceId: 'ws_1' });
    expect(() => requireRunSettings()).toThrow(/Settings and enter your workspace ID and API key/);
  });

  it('reports shared-secret mode when the script property is set', () => {
    expect(settingsView().usesSharedSecret).toBe(false);
    fakes.PropertiesService.script.setProperty('SHARED_SECRET', 's3cret');
    expect(settingsView().usesSharedSecret).toBe(true);
  });
});
