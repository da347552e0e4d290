/**
 * The add-on proves the user can edit the spreadsheet when the service asks for it (proof_required): challenge,
 * developer metadata written on the spreadsheet, verify, then the original request again; the metadata is removed.
 */
import { dryRun, runStatus } from '../../../appsscript/server/run-actions';
import { saveSettings } from '../../../appsscript/server/settings';
import type { FakeHttpAnswer } from '../fakes/fake-services';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { MemoryMetadataStore } from '../fakes/fake-spreadsheet-app';
import { sampleCells, scriptedService, type ScriptedService } from '../fakes/sample-sheet';

const PROOF_REQUIRED: FakeHttpAnswer = {
  status: 403,
  body: { error: 'proof_required', message: 'Prove that you can edit this spreadsheet first.' },
};

describe('proof of access from the add-on', () => {
  let fakes: AppsScriptFakes;
  let service: ScriptedService;
  let uninstall: () => void;
  let metadata: MemoryMetadataStore;
  /** What the service found in the spreadsheet's metadata when verify was called. */
  let seenAtVerify: Array<{ key: string; value: string }> = [];
  let proven = false;

  beforeEach(() => {
    proven = false;
    seenAtVerify = [];
    metadata = new MemoryMetadataStore();
    const guarded = (answer: FakeHttpAnswer) => () => (proven ? answer : PROOF_REQUIRED);
    service = scriptedService({
      'POST /v1/sheets/proof/challenge': (body) => ({
        status: 200,
        body: {
          challenge: `psp_for_${(body as { spreadsheetId: string }).spreadsheetId}`,
          metadataKey: 'postato-sheets.proof',
          expiresAt: new Date(Date.now() + 300_000).toISOString(),
        },
      }),
      'POST /v1/sheets/proof/verify': (body) => {
        seenAtVerify = metadata.list().map(({ key, value }) => ({ key, value }));
        const { challenge, spreadsheetId } = body as { challenge: string; spreadsheetId: string };
        proven = seenAtVerify.some((m) => m.key === 'postato-sheets.proof' && m.value === challenge);
        return proven
          ? { status: 200, body: { spreadsheetId, provenUntil: new Date().toISOString() } }
          : { status: 403, body: { error: 'proof_failed', message: 'The service could not confirm it.' } };
      },
      'GET /v1/runs/run_1': guarded({
        status: 200,
        body: {
          runId: 'run_1',
          mode: 'publish',
          state: 'running',
          spreadsheetId: 'x',
          sheetName: 'Posts',
          counts: {},
          startedAt: new Date().toISOString(),
          results: [],
          cursor: '0',
        },
      }),
    });
    fakes = createFakes({ cells: sampleCells(), handler: service.handler, metadata });
    uninstall = installFakes(fakes);
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
  });
  afterEach(() => uninstall());

  const paths = () => service.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);

  it('when the service asks for proof, the add-on writes the challenge on this spreadsheet, verifies, removes it and retries', () => {
    const update = runStatus('run_1', null);
    expect(update.gone).toBe(false);
    expect(paths()).toEqual([
      'get /v1/runs/run_1',
      'post /v1/sheets/proof/challenge',
      'post /v1/sheets/proof/verify',
      'get /v1/runs/run_1',
    ]);
    expect(service.requests[1]!.body).toEqual({ spreadsheetId: fakes.spreadsheet.getId() });
    expect(seenAtVerify).toEqual([{ key: 'postato-sheets.proof', value: `psp_for_${fakes.spreadsheet.getId()}` }]);
    expect(metadata.entries[0]).toBeUndefined();
  });

  it('a request that needs no proof goes out once, with no proof calls', () => {
    dryRun({});
    expect(paths()).toEqual(['post /v1/runs']);
  });

  it('a view-only user is told to ask for edit access, and nothing else is sent', () => {
    fakes.spreadsheet.viewOnly = true;
    expect(() => runStatus('run_1', null)).toThrow(/edit access to this spreadsheet: you can only view it/);
    expect(paths()).toEqual(['get /v1/runs/run_1', 'post /v1/sheets/proof/challenge']);
  });

  it('when verify fails, its message reaches the user and the metadata is still removed', () => {
    const failing = createFakes({
      cells: sampleCells(),
      metadata,
      handler: (url, params) => {
        const route = `${params.method.toUpperCase()} ${new URL(url).pathname}`;
        if (route === 'POST /v1/sheets/proof/challenge')
          return { status: 200, body: { challenge: 'psp_x', metadataKey: 'postato-sheets.proof', expiresAt: '' } };
        if (route === 'POST /v1/sheets/proof/verify')
          return { status: 403, body: { error: 'proof_failed', message: 'Share it with the service account.' } };
        return PROOF_REQUIRED;
      },
    });
    uninstall();
    uninstall = installFakes(failing);
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey() });
    expect(() => runStatus('run_1', null)).toThrow('Share it with the service account.');
    expect(metadata.list()).toEqual([]);
  });
});
