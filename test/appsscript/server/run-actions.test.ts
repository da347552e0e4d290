import type { RunRequest } from '../../../appsscript/shared/contract';
import {
  activeRun,
  cancelRun,
  dryRun,
  lastRunReport,
  preparePublish,
  previewSentence,
  runStatus,
  startRun,
} from '../../../appsscript/server/run-actions';
import { saveSettings } from '../../../appsscript/server/settings';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { sampleCells, scriptedService, statusAnswer, type ScriptedService } from '../fakes/sample-sheet';

describe('run actions', () => {
  let fakes: AppsScriptFakes;
  let service: ScriptedService;
  let uninstall: () => void;
  let apiKey: string;
  beforeEach(() => {
    service = scriptedService();
    fakes = createFakes({ cells: sampleCells(), handler: service.handler });
    uninstall = installFakes(fakes);
    apiKey = fakeApiKey();
    saveSettings({ workspaceId: 'ws_1', apiKey, minGapMinutes: 10 });
  });
  afterEach(() => uninstall());

  const lastBody = () => service.requests.at(-1)!.body as RunRequest;

  it('dry run sends the whole sheet with workspace, zone and settings, and the key in its header only', () => {
    const view = dryRun({});
    const body = lastBody();
    expect(body).toMatchObject({
      mode: 'dry-run',
      workspaceId: 'ws_1',
      sheetName: 'Posts',
      spreadsheetTimeZone: 'Europe/Lisbon',
      settings: { minGapMinutes: 10 },
    });
    expect(body.rows).toHaveLength(3);
    expect(body.onlyKeys).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain(apiKey);
    expect(service.requests.at(-1)!.headers['x-postato-api-key']).toBe(apiKey);
    expect(view.keysFilled).toBe(1);
    expect(view.response.summary.toSend).toBe(3);
  });

  it('limits the dry run to the selected rows', () => {
    fakes.spreadsheet.selectRows([3, 4]);
    dryRun({ selectedOnly: true });
    expect(lastBody().onlyKeys).toEqual(['r-existing']);
    fakes.spreadsheet.selectRows([4, 4]);
    expect(() => dryRun({ selectedOnly: true })).toThrow(/No post rows are selected/);
  });

  it('publish preview counts posts, accounts and days in one sentence', () => {
    const preview = preparePublish({});
    expect(preview).toMatchObject({ posts: 3, accounts: 3, days: 2, seconds: 72 });
    expect(preview.sentence).toBe('3 posts to 3 accounts over 2 days; about 72 seconds');
    expect(previewSentence(143, 6, 3, 72)).toBe('143 posts to 6 accounts over 3 days; about 72 seconds');
    expect(previewSentence(1, 1, 1, 1)).toBe('1 post to 1 account over 1 day; about 1 second');
  });

  it('publish reuses the start the dry run resolved, so both plan the same times', () => {
    service = scriptedService({
      'POST /v1/runs': (body) =>
        (body as RunRequest).mode === 'dry-run'
          ? {
              status: 200,
              body: {
                mode: 'dry-run',
                rows: [],
                summary: { toSend: 0 },
                settings: { startAt: '2030-01-15T10:00:00Z' },
              },
            }
          : { status: 202, body: { runId: 'run_1', joined: false } },
    });
    fakes.UrlFetchApp.handler = service.handler;
    dryRun({});
    startRun('publish', {});
    expect(lastBody().settings?.startAt).toBe('2030-01-15T10:00:00Z');
  });

  it('remembers the started run until its status says it ended', () => {
    const started = startRun('publish', {});
    expect(started.run).toMatchObject({ runId: 'run_1', mode: 'publish', sheetName: 'Posts' });
    expect(activeRun()?.runId).toBe('run_1');
    expect(runStatus('run_1', null).state).toBe('running');
    expect(activeRun()?.runId).toBe('run_1');
    service = scriptedService({ 'GET /v1/runs/run_1': () => ({ status: 200, body: statusAnswer('run_1', 'done') }) });
    fakes.UrlFetchApp.handler = service.handler;
    runStatus('run_1', 'c-1');
    expect(service.requests.at(-1)!.path).toBe('/v1/runs/run_1?since=c-1');
    expect(activeRun()).toBeNull();
  });

  it('after the run ended, a reopened sidebar gets its report; nothing before any run, nothing when the report is gone', () => {
    expect(lastRunReport()).toBeNull();
    startRun('publish', {});
    expect(lastRunReport()).toBeNull(); // still running: the sidebar follows it instead
    service = scriptedService({ 'GET /v1/runs/run_1': () => ({ status: 200, body: statusAnswer('run_1', 'done') }) });
    fakes.UrlFetchApp.handler = service.handler;
    runStatus('run_1', null);
    const last = lastRunReport();
    expect(last).toMatchObject({ sheetName: 'Posts', report: { runId: 'run_1' } });
    expect(service.requests.at(-1)!.path).toBe('/v1/runs/run_1/report');
    service = scriptedService({
      'GET /v1/runs/run_1/report': () => ({
        status: 404,
        body: { error: 'not_found', message: 'No run run_1 is visible to you.' },
      }),
    });
    fakes.UrlFetchApp.handler = service.handler;
    expect(lastRunReport()).toBeNull();
  });

  it('cancel forgets the run and returns its status', () => {
    startRun('publish', {});
    expect(cancelRun('run_1')?.state).toBe('cancelled');
    expect(activeRun()).toBeNull();
  });

  it('retry failed rows sends only the rows whose Status says FAILED', () => {
    startRun('publish', { failedOnly: true });
    expect(lastBody()).toMatchObject({ mode: 'publish', onlyKeys: ['r-failed'] });
    fakes.spreadsheet.selectRows([2, 3]);
    expect(() => startRun('publish', { failedOnly: true, selectedOnly: true })).toThrow(
      /None of the selected rows says FAILED/,
    );
  });

  it('unschedule acts only on selected rows', () => {
    expect(() => startRun('unschedule', {})).toThrow(/Select the rows whose posts should be cancelled/);
    fakes.spreadsheet.selectRows([3, 3]);
    startRun('unschedule', { selectedOnly: true });
    expect(lastBody()).toMatchObject({ mode: 'unschedule', onlyKeys: ['r-existing'] });
  });

  it('reschedule sends every row and lets the service pick the changed ones', () => {
    startRun('reschedule', {});
    expect(lastBody().mode).toBe('reschedule');
    expect(lastBody().onlyKeys).toBeUndefined();
  });

  it('publish sends nothing when a row moved while its key was being filled, and says which', () => {
    fakes.spreadsheet.activeSheet.afterGetValues = () => fakes.spreadsheet.activeSheet.edit(2, 5, 'Hello, edited');
    expect(() => startRun('publish', {})).toThrow(/Row 2 moved or changed while the add-on was filling row keys/);
    expect(service.requests).toHaveLength(0);
    expect(fakes.spreadsheet.activeSheet.cells()[1]![0]).toBe('');
  });

  it('refuses to run before the settings are filled in', () => {
    fakes.PropertiesService.user.map.clear();
    expect(() => dryRun({})).toThrow(/Open Postato › Settings/);
    expect(service.requests).toHaveLength(0);
  });
});
