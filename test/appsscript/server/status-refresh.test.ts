/** The add-on's "Refresh statuses": what it sends the service, and what the user reads when settings are missing. */
import { refreshStatuses } from '../../../appsscript/server/status-refresh';
import { saveSettings } from '../../../appsscript/server/settings';
import { createFakes, fakeApiKey, installFakes } from '../fakes/fake-services';
import { sampleCells, scriptedService } from '../fakes/sample-sheet';

describe('refresh statuses', () => {
  it('sends the spreadsheet and workspace, with the key in its header only, and returns the service answer', () => {
    const answer = { checked: 2, changed: 1, unavailable: 0, more: false, message: 'Checked 2 posts in Postato.' };
    const service = scriptedService({ 'POST /v1/statuses/refresh': () => ({ status: 200, body: answer }) });
    const uninstall = installFakes(createFakes({ cells: sampleCells(), handler: service.handler }));
    try {
      const apiKey = fakeApiKey();
      saveSettings({ workspaceId: 'ws_1', apiKey });
      expect(refreshStatuses()).toEqual(answer);
      const sent = service.requests.at(-1)!;
      expect(sent.path).toBe('/v1/statuses/refresh');
      expect(sent.body).toEqual({ spreadsheetId: expect.any(String) as string, workspaceId: 'ws_1' });
      expect(JSON.stringify(sent.body)).not.toContain(apiKey);
      expect(sent.headers['x-postato-api-key']).toBe(apiKey);
    } finally {
      uninstall();
    }
  });

  it('when no API key is saved, then nothing is sent and the user is told what to fill in', () => {
    const service = scriptedService();
    const uninstall = installFakes(createFakes({ cells: sampleCells(), handler: service.handler }));
    try {
      expect(() => refreshStatuses()).toThrow(/Settings/);
      expect(service.requests).toHaveLength(0);
    } finally {
      uninstall();
    }
  });
});
