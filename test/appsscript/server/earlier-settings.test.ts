/**
 * Settings saved before they belonged to each spreadsheet (per user, in UserProperties) are offered to a spreadsheet
 * that has none, applied only when the user adopts them there, and then forgotten, so another spreadsheet of the same
 * user (perhaps another client's) never gets them unasked. The API key stays per user throughout.
 */
import { chooseEarlierSettings } from '../../../appsscript/server/earlier-settings';
import { readSettings, requireRunSettings, saveSettings, settingsView } from '../../../appsscript/server/settings';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { FakeSpreadsheet } from '../fakes/fake-spreadsheet-app';

/** What an earlier version of the add-on left in this user's UserProperties. */
function saveAsEarlierVersionDid(fakes: AppsScriptFakes, apiKey: string): void {
  const user = fakes.PropertiesService.user;
  user.setProperty('postato.workspaceId', 'ws_old');
  user.setProperty('postato.apiKey', apiKey);
  user.setProperty('postato.timeZone', 'America/Sao_Paulo');
  user.setProperty('postato.minGapMinutes', '20');
  user.setProperty('postato.jitterSeconds', '30');
}

function openAnotherSpreadsheet(fakes: AppsScriptFakes, id: string): FakeSpreadsheet {
  const other = new FakeSpreadsheet(id);
  other.addSheet('Posts', []);
  fakes.SpreadsheetApp.spreadsheet = other;
  return other;
}

describe('earlier per-user settings', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  let apiKey: string;
  beforeEach(() => {
    fakes = createFakes();
    uninstall = installFakes(fakes);
    apiKey = fakeApiKey();
    saveAsEarlierVersionDid(fakes, apiKey);
  });
  afterEach(() => uninstall());

  it('are offered to a spreadsheet without settings, and not used by a run until the user adopts them', () => {
    expect(settingsView()).toMatchObject({
      workspaceId: '',
      apiKeySet: true,
      earlier: { workspaceId: 'ws_old', timeZone: 'America/Sao_Paulo', minGapMinutes: 20, jitterSeconds: 30 },
    });
    expect(readSettings()).toMatchObject({ workspaceId: '', timeZone: '', minGapMinutes: null, jitterSeconds: null });
    expect(() => requireRunSettings()).toThrow(/use your earlier settings here, or enter this spreadsheet’s workspace/);
    expect(fakes.PropertiesService.document.map.size).toBe(0);
  });

  it('adopted, they become this spreadsheet’s settings and are forgotten for the user; the key stays theirs', () => {
    const view = chooseEarlierSettings('use-here');
    expect(view).toMatchObject({
      workspaceId: 'ws_old',
      timeZone: 'America/Sao_Paulo',
      minGapMinutes: 20,
      jitterSeconds: 30,
      apiKeySet: true,
      earlier: null,
    });
    expect(requireRunSettings()).toMatchObject({ workspaceId: 'ws_old', apiKey, minGapMinutes: 20 });
    expect(Object.fromEntries(fakes.PropertiesService.document.map)).toEqual({
      'postato.workspaceId': 'ws_old',
      'postato.timeZone': 'America/Sao_Paulo',
      'postato.minGapMinutes': '20',
      'postato.jitterSeconds': '30',
    });
    expect([...fakes.PropertiesService.user.map.keys()]).toEqual(['postato.apiKey']);
    expect(fakes.spreadsheet.documentLock.acquisitions).toBe(1);
    expect(fakes.spreadsheet.documentLock.held).toBe(false);

    // Another spreadsheet of this user (another client) neither gets them nor is offered them.
    openAnotherSpreadsheet(fakes, 'ss-client-b');
    expect(settingsView()).toMatchObject({ workspaceId: '', apiKeySet: true, earlier: null });
    expect(() => requireRunSettings()).toThrow(/has no Postato workspace yet/);
  });

  it('stay on offer to each spreadsheet without settings until used or forgotten, never applied by opening one', () => {
    openAnotherSpreadsheet(fakes, 'ss-client-b');
    expect(settingsView().earlier?.workspaceId).toBe('ws_old');
    expect(readSettings().workspaceId).toBe('');
    // This spreadsheet gets its own settings typed in: the offer goes away here, and the earlier ones stay unused.
    saveSettings({ workspaceId: 'ws_client_b' });
    expect(settingsView()).toMatchObject({ workspaceId: 'ws_client_b', earlier: null });
    expect(fakes.PropertiesService.user.getProperty('postato.workspaceId')).toBe('ws_old');
  });

  it('are not adopted over settings a colleague saved after the offer was shown', () => {
    expect(settingsView().earlier).not.toBeNull();
    // A colleague saves this spreadsheet's settings while the offer is on screen.
    fakes.PropertiesService.document.setProperty('postato.workspaceId', 'ws_colleague');
    expect(() => chooseEarlierSettings('use-here')).toThrow(/has its own settings now \(workspace ws_colleague\)/);
    expect(readSettings()).toMatchObject({ workspaceId: 'ws_colleague', timeZone: '', minGapMinutes: null });
    // Still the user's to use elsewhere.
    expect(fakes.PropertiesService.user.getProperty('postato.workspaceId')).toBe('ws_old');
  });

  it('wait for the document lock, and change nothing when another execution keeps it', () => {
    fakes.spreadsheet.documentLock.heldElsewhere = true;
    expect(() => chooseEarlierSettings('use-here')).toThrow(/still running/);
    expect(fakes.PropertiesService.document.map.size).toBe(0);
    expect(fakes.PropertiesService.user.getProperty('postato.workspaceId')).toBe('ws_old');
  });

  it('forgotten, they are gone for every spreadsheet and nothing is applied; the key stays', () => {
    const view = chooseEarlierSettings('forget');
    expect(view).toMatchObject({ workspaceId: '', apiKeySet: true, earlier: null });
    expect(fakes.PropertiesService.document.map.size).toBe(0);
    expect([...fakes.PropertiesService.user.map.keys()]).toEqual(['postato.apiKey']);
    expect(() => chooseEarlierSettings('use-here')).toThrow(/no earlier settings/);
  });

  it('a spreadsheet that has its own settings is not offered them', () => {
    saveSettings({ workspaceId: 'ws_here' });
    expect(settingsView()).toMatchObject({ workspaceId: 'ws_here', earlier: null });
  });
});
