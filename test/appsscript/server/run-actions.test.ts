import type { RunRequest } from '../../../appsscript/shared/contract';
import {
  activeRun,
  cancelRun,
  dryRun,
  lastRunReport,
  prepareAction,
  previewSentence,
  runStatus,
  startRun,
} from '../../../appsscript/server/run-actions';
import { saveSettings } from '../../../appsscript/server/settings';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import {
  dryRunAnswerFor,
  sampleCells,
  scriptedService,
  statusAnswer,
  type ScriptedService,
} from '../fakes/sample-sheet';

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
  const confirmPublish = () => {
    const preview = prepareAction('publish', {});
    return startRun({ action: preview.action, target: preview.target, onlyKeys: preview.onlyKeys });
  };

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
    expect(view.target).toMatchObject({
      spreadsheetName: 'Campaign plan',
      sheetName: 'Posts',
      sheetId: fakes.spreadsheet.activeSheet.sheetId,
      workspaceId: 'ws_1',
      timeZone: 'Europe/Lisbon',
      minGapMinutes: 10,
    });
  });

  it('limits the dry run to the selected rows', () => {
    fakes.spreadsheet.selectRows([3, 4]);
    dryRun({ selectedOnly: true });
    expect(lastBody().onlyKeys).toEqual(['r-existing']);
    fakes.spreadsheet.selectRows([4, 4]);
    expect(() => dryRun({ selectedOnly: true })).toThrow(/No post rows are selected/);
  });

  it('Send as draft acts on the selected rows only, even with "Only selected rows" off, and starts a draft run', () => {
    fakes.spreadsheet.selectRows([3, 4]);
    const preview = prepareAction('draft', {});
    expect(preview.onlyKeys).toEqual(['r-existing']);
    expect(preview.question).toMatch(/^Send as drafts /);
    startRun({ action: 'draft', target: preview.target, onlyKeys: preview.onlyKeys });
    expect(lastBody()).toMatchObject({ mode: 'draft', onlyKeys: ['r-existing'] });
  });

  it('the publish confirmation names spreadsheet, tab and workspace and counts posts, accounts and days', () => {
    const preview = prepareAction('publish', {});
    expect(preview).toMatchObject({
      action: 'publish',
      posts: 3,
      accounts: 3,
      days: 2,
      seconds: 72,
      counts: { create: 3, reschedule: 0, unschedule: 0, invalid: 0 },
      target: { spreadsheetName: 'Campaign plan', sheetName: 'Posts', workspaceId: 'ws_1' },
    });
    expect(preview.question).toBe('Publish 3 posts to 3 accounts over 2 days; about 72 seconds?');
    expect(previewSentence(1, 1, 1, 1)).toBe('1 post to 1 account over 1 day; about 1 second');
  });

  it('switching tabs between the dry run and Confirm publishes the confirmed tab', () => {
    const confirmedTab = fakes.spreadsheet.activeSheet;
    const preview = prepareAction('publish', {});
    // Clicking a row link in another tab, or inserting the template, makes another tab active.
    fakes.spreadsheet.addSheet(
      'Other client',
      sampleCells().map((r) => r.map((c) => (c === 'Hello' ? 'Other' : c))),
    );
    expect(fakes.spreadsheet.activeSheet).not.toBe(confirmedTab);
    startRun({ action: 'publish', target: preview.target });
    expect(lastBody()).toMatchObject({ mode: 'publish', sheetName: 'Posts', sheetId: confirmedTab.sheetId });
    expect(lastBody().rows.map((r) => r.values[4])).toEqual(['Hello', 'Hiring', 'Studio']);
    expect(activeRun()).toMatchObject({ sheetName: 'Posts', sheetId: confirmedTab.sheetId, workspaceId: 'ws_1' });
  });

  it('publish refuses clearly when the confirmed tab is gone, and sends nothing', () => {
    const preview = prepareAction('publish', {});
    fakes.spreadsheet.addSheet('Other', sampleCells());
    fakes.spreadsheet.deleteSheet('Posts');
    const before = service.requests.length;
    expect(() => startRun({ action: 'publish', target: preview.target })).toThrow(
      /The tab “Posts” you confirmed is no longer in this spreadsheet, so nothing was sent/,
    );
    expect(service.requests).toHaveLength(before);
  });

  it('publish refuses when the spreadsheet’s workspace changed after the confirmation', () => {
    const preview = prepareAction('publish', {});
    saveSettings({ workspaceId: 'ws_2' });
    expect(() => startRun({ action: 'publish', target: preview.target })).toThrow(
      /workspace changed from ws_1 to ws_2 after you confirmed/,
    );
  });

  it('publish sends the start the dry run resolved, so both plan the same times', () => {
    service = scriptedService({
      'POST /v1/runs': (body) =>
        (body as RunRequest).mode === 'dry-run'
          ? {
              status: 200,
              body: {
                mode: 'dry-run',
                rows: [],
                summary: { toSend: 0, invalid: 0, estimatedPublishSeconds: 0 },
                settings: { startAt: '2030-01-15T10:00:00Z' },
              },
            }
          : { status: 202, body: { runId: 'run_1', joined: false } },
    });
    fakes.UrlFetchApp.handler = service.handler;
    confirmPublish();
    expect(lastBody().settings?.startAt).toBe('2030-01-15T10:00:00Z');
  });

  it('remembers the started run until its status says it ended', () => {
    const started = confirmPublish();
    expect(started.run).toMatchObject({ runId: 'run_1', mode: 'publish', sheetName: 'Posts' });
    expect(activeRun()?.runId).toBe('run_1');
    expect(runStatus('run_1', null)).toMatchObject({ gone: false, status: { state: 'running' } });
    expect(activeRun()?.runId).toBe('run_1');
    service = scriptedService({ 'GET /v1/runs/run_1': () => ({ status: 200, body: statusAnswer('run_1', 'done') }) });
    fakes.UrlFetchApp.handler = service.handler;
    runStatus('run_1', 'c-1');
    expect(service.requests.at(-1)!.path).toBe('/v1/runs/run_1?since=c-1');
    expect(activeRun()).toBeNull();
  });

  it('a run the service no longer knows is forgotten, and its answer carries the last report kept', () => {
    // An earlier run ended and left its report.
    confirmPublish();
    service = scriptedService({ 'GET /v1/runs/run_1': () => ({ status: 200, body: statusAnswer('run_1', 'done') }) });
    fakes.UrlFetchApp.handler = service.handler;
    runStatus('run_1', null);
    // A new run the service then lost (purged, or a service that lost its ledger).
    service = scriptedService({
      'POST /v1/runs': (body) =>
        (body as RunRequest).mode === 'dry-run'
          ? { status: 200, body: dryRunAnswerFor(body as RunRequest) }
          : { status: 202, body: { runId: 'run_lost', joined: false } },
      'GET /v1/runs/run_lost': () => ({ status: 404, body: { error: 'not_found', message: 'No run run_lost.' } }),
    });
    fakes.UrlFetchApp.handler = service.handler;
    confirmPublish();
    expect(activeRun()?.runId).toBe('run_lost');
    const update = runStatus('run_lost', null);
    expect(update).toMatchObject({ gone: true, runId: 'run_lost', last: { report: { runId: 'run_1' } } });
    expect(update.gone && update.message).toMatch(/no longer knows the run run_lost/);
    expect(activeRun()).toBeNull();
  });

  it('after the run ended, a reopened sidebar gets its report; nothing before any run, nothing when the report is gone', () => {
    expect(lastRunReport()).toBeNull();
    confirmPublish();
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
    confirmPublish();
    expect(cancelRun('run_1')?.state).toBe('cancelled');
    expect(activeRun()).toBeNull();
  });

  it('retry confirms the failed rows and the invalid rows fixed since, and sends exactly those', () => {
    fakes.spreadsheet.activeSheet.edit(3, 7, 'INVALID');
    const preview = prepareAction('retry-failed', {});
    expect(preview.onlyKeys).toEqual(['r-existing', 'r-failed']);
    expect(preview.question).toMatch(/^Retry \d+ posts? to /);
    expect(lastBody()).toMatchObject({ mode: 'dry-run', onlyKeys: ['r-existing', 'r-failed'] });
    startRun({ action: 'retry-failed', target: preview.target, onlyKeys: preview.onlyKeys });
    expect(lastBody()).toMatchObject({ mode: 'publish', onlyKeys: ['r-existing', 'r-failed'] });
    fakes.spreadsheet.selectRows([2, 2]);
    expect(() => prepareAction('retry-failed', { selectedOnly: true })).toThrow(
      /None of the selected rows says FAILED or INVALID/,
    );
  });

  it('reschedule confirms the changed rows with their old and new times', () => {
    service = scriptedService({
      'POST /v1/runs': (body) => {
        const req = body as RunRequest;
        if (req.mode !== 'dry-run') return { status: 202, body: { runId: 'run_1', joined: false } };
        const rows = req.rows.map((r) => ({
          rowNumber: r.rowNumber,
          key: String(r.values[0]),
          status: 'READY',
          messages: [],
          plannedAt: '2030-02-01T10:00:00Z',
          ...(r.rowNumber === 3 ? { changed: true, postId: 'pst_3' } : {}),
        }));
        return { status: 200, body: { mode: 'dry-run', rows, summary: { toSend: 0, invalid: 0, changed: 1 } } };
      },
    });
    fakes.UrlFetchApp.handler = service.handler;
    dryRun({}); // adds the output columns
    const header = fakes.spreadsheet.activeSheet.cells()[0]!;
    fakes.spreadsheet.activeSheet.edit(3, header.indexOf('Scheduled (UTC)') + 1, '2030-01-20T09:00:00.000Z');
    const preview = prepareAction('reschedule', {});
    expect(preview.moves).toEqual([
      { rowNumber: 3, key: 'r-existing', from: '2030-01-20T09:00:00.000Z', to: '2030-02-01T10:00:00Z' },
    ]);
    expect(preview.counts).toEqual({ create: 0, reschedule: 1, unschedule: 0, invalid: 0 });
    expect(preview.question).toBe('Update 1 scheduled post in Postato to the sheet’s new times and text?');
    startRun({ action: 'reschedule', target: preview.target, onlyKeys: preview.onlyKeys });
    expect(lastBody()).toMatchObject({ mode: 'reschedule', onlyKeys: ['r-existing'] });
  });

  it('unschedule counts the selected rows that have a post, and acts only on them', () => {
    dryRun({});
    const header = fakes.spreadsheet.activeSheet.cells()[0]!;
    fakes.spreadsheet.activeSheet.edit(3, header.indexOf('Post ID') + 1, 'pst_3');
    expect(() => prepareAction('unschedule', {})).toThrow(/No post rows are selected/);
    fakes.spreadsheet.selectRows([2, 3]);
    const preview = prepareAction('unschedule', {});
    expect(preview.counts.unschedule).toBe(1);
    expect(preview.question).toBe('Cancel the scheduled 1 post of the selected rows in Postato?');
    startRun({ action: 'unschedule', target: preview.target, onlyKeys: preview.onlyKeys });
    expect(lastBody()).toMatchObject({ mode: 'unschedule', onlyKeys: ['r-existing'] });
  });

  it('publish sends nothing when a row moved while its key was being filled, and says which', () => {
    const preview = prepareAction('publish', {});
    fakes.spreadsheet.activeSheet.edit(2, 1, '');
    fakes.spreadsheet.activeSheet.afterGetValues = () => fakes.spreadsheet.activeSheet.edit(2, 5, 'Hello, edited');
    const before = service.requests.length;
    expect(() => startRun({ action: 'publish', target: preview.target })).toThrow(
      /Row 2 moved or changed while the add-on was filling row keys/,
    );
    expect(service.requests).toHaveLength(before);
    expect(fakes.spreadsheet.activeSheet.cells()[1]![0]).toBe('');
  });

  it('refuses to run before the settings are filled in', () => {
    fakes.PropertiesService.user.map.clear();
    fakes.PropertiesService.document.map.clear();
    expect(() => dryRun({})).toThrow(/Open Postato › Settings/);
    expect(service.requests).toHaveLength(0);
  });
});
