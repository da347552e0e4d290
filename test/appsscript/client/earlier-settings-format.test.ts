import { earlierSettingsLine } from '../../../appsscript/client/earlier-settings-format';

describe('the offer of earlier settings', () => {
  it('names the workspace, zone, gap and jitter it would apply, and that it applies to this spreadsheet', () => {
    const line = earlierSettingsLine(
      { workspaceId: 'ws_old', timeZone: 'America/Sao_Paulo', minGapMinutes: 20, jitterSeconds: null },
      'Europe/Lisbon',
    );
    expect(line).toContain('workspace ws_old · times in America/Sao_Paulo · 20 min gap · default jitter');
    expect(line).toContain('Use them for this spreadsheet?');
  });

  it('says which zone a blank zone means', () => {
    const line = earlierSettingsLine(
      { workspaceId: 'ws_old', timeZone: '', minGapMinutes: null, jitterSeconds: 0 },
      'Europe/Lisbon',
    );
    expect(line).toContain('times in the spreadsheet’s zone (Europe/Lisbon) · default gap · 0 s jitter');
  });
});
