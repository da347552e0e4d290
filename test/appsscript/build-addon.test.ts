/** Builds the add-on into a temp folder, checks the artifacts, and smoke-tests the server bundle in node:vm. */
import type { ActionPreview } from '../../appsscript/shared/server-rpc';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { CLOUD_PROJECT_NUMBER_PROPERTY, PICKER_API_KEY_PROPERTY } from '../../appsscript/server/drive-picker';
import { buildAddon, entryStubs, normaliseServiceUrl } from '../../scripts/build-addon';
import { createFakes, fakeApiKey } from './fakes/fake-services';
import { sampleCells, scriptedService } from './fakes/sample-sheet';

describe('build:addon', () => {
  let outDir: string;
  let result: Awaited<ReturnType<typeof buildAddon>>;
  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'postato-addon-'));
    result = await buildAddon({ serviceUrl: 'https://sheets.example.com/', outDir });
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes a manifest with V8, the minimal scopes and the service URL in urlFetchWhitelist', () => {
    const manifest = JSON.parse(readFileSync(path.join(outDir, 'appsscript.json'), 'utf8'));
    expect(manifest.runtimeVersion).toBe('V8');
    expect([...manifest.oauthScopes].sort()).toEqual([
      'https://www.googleapis.com/auth/drive.file',
      'https://www.googleapis.com/auth/script.container.ui',
      'https://www.googleapis.com/auth/script.external_request',
      'https://www.googleapis.com/auth/script.send_mail',
      'https://www.googleapis.com/auth/spreadsheets.currentonly',
      'https://www.googleapis.com/auth/userinfo.email',
      'openid',
    ]);
    expect(manifest.urlFetchWhitelist).toEqual(['https://sheets.example.com/']);
    expect(result.warnings).toEqual([]);
  });

  it('lists exactly the scopes the README justifies, each with its reason', () => {
    const manifest = JSON.parse(readFileSync(path.join(outDir, 'appsscript.json'), 'utf8'));
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    // The README's scope list: one "- `scope`: why it is needed" line per scope, under "Why each OAuth scope".
    const list = /Why each OAuth scope[^\n]*\n\n((?:- .+\n(?: {2}.+\n)*)+)/.exec(readme)?.[1] ?? '';
    const justified = [...list.matchAll(/^- `([a-z._]+)`: (.+)/gm)].map((m) => {
      expect(m[2]!.length).toBeGreaterThan(30);
      return m[1] === 'openid' ? m[1] : `https://www.googleapis.com/auth/${m[1]}`;
    });
    expect(justified.sort()).toEqual([...manifest.oauthScopes].sort());
  });

  it('warns about an http service URL and rejects a non-URL', () => {
    expect(normaliseServiceUrl('http://127.0.0.1:8080').warnings[0]).toMatch(/Use https in production/);
    expect(() => normaliseServiceUrl('not a url')).toThrow(/is not a URL/);
  });

  it('makes a self-contained sidebar: inlined JS and CSS, nothing loaded from elsewhere', () => {
    const html = readFileSync(path.join(outDir, 'sidebar.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html).not.toContain('INLINE_JS');
    expect(html).not.toContain('INLINE_CSS');
    expect(html).toContain('button.action');
    expect(html).toContain('rpcDryRun');
  });

  it('makes the Picker dialog self-contained except for Google’s Picker loader, its one remote script', () => {
    const html = readFileSync(path.join(outDir, 'picker.html'), 'utf8');
    expect([...html.matchAll(/<script[^>]+src="([^"]+)"/gi)].map((m) => m[1])).toEqual([
      'https://apis.google.com/js/api.js',
    ]);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect(html).not.toContain('INLINE_JS');
    expect(html).not.toContain('INLINE_CSS');
    expect(html).toContain('rpcDrivePickerSetup');
    expect(html).toContain('rpcAddDriveMedia');
    expect(html).toContain('setAppId');
  });

  it('declares one real top-level function per entry point', () => {
    const code = readFileSync(path.join(outDir, 'Code.js'), 'utf8');
    for (const name of result.entryPoints) expect(code).toMatch(new RegExp(`^function ${name}\\(\\)`, 'm'));
    expect(entryStubs(['a'])).toBe('function a() { return PostatoAddon.ENTRY_POINTS.a.apply(null, arguments); }');
  });

  it('runs every entry function of the bundle in node:vm against the fakes', () => {
    const service = scriptedService();
    const fakes = createFakes({
      // With a Media column, so Add media from Drive has somewhere to write.
      cells: sampleCells().map((row, i) => [
        ...row.map((c) => (c instanceof Date ? '2030-01-15 09:30' : c)),
        i ? '' : 'Media',
      ]),
      handler: service.handler,
    });
    fakes.PropertiesService.script.setProperty(PICKER_API_KEY_PROPERTY, 'browser-key-for-tests');
    fakes.PropertiesService.script.setProperty(CLOUD_PROJECT_NUMBER_PROPERTY, '123456789012');
    const picked = { id: '1AbCdEfGhIjKlMnOpQrStUv', name: 'poster.jpg', mimeType: 'image/jpeg' };
    const context = vm.createContext({ ...fakes, console });
    vm.runInContext(readFileSync(path.join(outDir, 'Code.js'), 'utf8'), context, { filename: 'Code.js' });
    const call = (name: string, ...args: unknown[]): unknown => {
      const fn = (context as Record<string, unknown>)[name];
      expect(typeof fn).toBe('function');
      const value = vm.runInContext(`${name}.apply(null, __args)`, Object.assign(context, { __args: args }));
      return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    };
    const answers = new Map<string, unknown>();
    const args: Record<string, unknown[] | (() => unknown[])> = {
      rpcSaveSettings: [{ workspaceId: 'ws_1', apiKey: fakeApiKey() }],
      rpcEarlierSettings: ['forget'],
      rpcShowRowsNeedingFix: [true],
      rpcDryRun: [{}],
      rpcPrepareAction: ['publish', {}],
      // Starts what the confirmation above was shown for, as the sidebar does.
      rpcStartRun: () => [{ action: 'publish', target: (answers.get('rpcPrepareAction') as ActionPreview).target }],
      rpcRunStatus: ['run_1', null],
      rpcCancel: ['run_1'],
      rpcSelectRow: ['Posts', 2],
      rpcEmailReport: ['run_1'],
      // Runs after rpcSelectRow, which selected row 2.
      rpcAddDriveMedia: () => [answers.get('rpcOpenDrivePicker'), [picked]],
    };
    // Settings first, so the run actions have what they need; the template entries last, as they switch sheets.
    const last = ['rpcInsertTemplate', 'menuInsertTemplate'];
    const order = [
      'rpcSaveSettings',
      ...result.entryPoints.filter((n) => n !== 'rpcSaveSettings' && !last.includes(n)),
      ...last,
    ];
    for (const name of order) {
      const given = args[name] ?? [];
      answers.set(name, call(name, ...(typeof given === 'function' ? given() : given)));
    }
    expect(answers.get('rpcDryRun')).toMatchObject({ sheetName: 'Posts', response: { mode: 'dry-run' } });
    expect(answers.get('rpcPrepareAction')).toMatchObject({ action: 'publish', target: { sheetName: 'Posts' } });
    expect(answers.get('rpcStartRun')).toMatchObject({ run: { runId: 'run_1' } });
    expect(answers.get('rpcInsertTemplate')).toBe('Postato posts');
    expect(answers.get('rpcEmailReport')).toMatchObject({ sent: true, to: 'manager@example.com' });
    expect(answers.get('rpcDrivePickerSetup')).toMatchObject({
      appId: '123456789012',
      target: { rows: [{ rowNumber: 2 }] },
    });
    expect(answers.get('rpcAddDriveMedia')).toMatchObject({ rows: [2], added: 1 });
    expect(fakes.SpreadsheetApp.ui.dialogs.map((d) => d.file)).toEqual(['picker']);
    expect(fakes.MailApp.sent.map((m) => m.subject)).toEqual([
      'Postato: Publish of “Posts” – 2 posts created, 2 rows failed, 1 skipped',
    ]);
    expect(service.requests.at(0)!.headers.authorization).toBe('Bearer eyJ.fake-identity-token.sig');
    expect(fakes.UrlFetchApp.calls[0]!.url.startsWith('https://sheets.example.com/v1/')).toBe(true);
    expect(fakes.SpreadsheetApp.ui.menus.length).toBeGreaterThanOrEqual(2);
    expect(fakes.SpreadsheetApp.ui.alerts[0]).toMatch(/Inserted the template sheet/);
  });
});
