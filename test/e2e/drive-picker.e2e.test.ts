/**
 * Browser test of "Add media from Drive": headless Chromium clicks the sidebar's button with two rows selected, opens
 * the built Picker dialog (google.script.run shimmed to the built server bundle on the Apps Script fakes, whose sheet
 * is the Sheets fake of the real demo stack), and picks two files in a fake Google Picker served in place of Google's
 * loader (fake-google-picker.ts: Google's servers can't be reached here). As Google's does, picking grants the user's
 * drive.file token the files, in the Drive fake the service reads them from; the dry run then reads the picked files
 * with that token, while a share link typed by hand for a file never picked is refused. Screenshots go to test-output/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { openAddonInBrowser, type AddonInBrowser } from './addon-in-browser';
import { GOOGLE_API_LOADER, fakePickerLoader, type FakeDriveFile } from './fake-google-picker';
import type { SidebarHarness } from './sidebar-harness';

const SHOTS = path.resolve(__dirname, '..', '..', 'test-output');
const SPREADSHEET_ID = 'e2e-picker-0001';
const SHEET = 'Posts';
const WORKSPACE = 'wks_e2e';
const PROJECT_NUMBER = '123456789012';
/** The signed-in user, and the token ScriptApp.getOAuthToken() gives in the Apps Script fakes. */
const USER = 'manager@example.com';
const USER_TOKEN = 'ya29.fake-oauth-token';
const FILES: FakeDriveFile[] = [
  { id: '1PosterAbCdEfGhIjKlMnOp', name: 'poster.jpg', mimeType: 'image/jpeg' },
  { id: '1BannerZyXwVuTsRqPoNmLk', name: 'banner.png', mimeType: 'image/png' },
  { id: '1UnusedQwErTyUiOpAsDfGh', name: 'unused.png', mimeType: 'image/png' },
];
const ACCOUNTS = ['twitter', 'linkedin', 'instagram'].map((platform) => ({
  id: `acc_${platform}`,
  workspaceId: WORKSPACE,
  platform,
  username: 'brand',
  status: 'connected' as const,
}));
/** Row 4 names the third file by a share link typed by hand: it was never picked. */
const CSV = [
  'Key,Platform,Account,Post type,Content,Media',
  ',twitter,acc_twitter,tweet,Spring is here,',
  ',linkedin,acc_linkedin,post,New colours,https://cdn.example.com/a.jpg',
  `,instagram,acc_instagram,feed,Studio,https://drive.google.com/file/d/${FILES[2]!.id}/view?usp=sharing`,
].join('\n');

describe('Add media from Drive in a browser', () => {
  let stack: DemoStack;
  let drive: DriveFake;
  let harness: SidebarHarness;
  let browser: Browser;
  let sidebar: Page;
  let addon: AddonInBrowser | undefined;

  const mediaCells = () => {
    const [header = [], ...rows] = stack.sheets.getValues(SPREADSHEET_ID, SHEET);
    return rows.map((r) => r[header.indexOf('Media')] ?? '');
  };

  /** Opens the dialog's page with Google's loader answered by the fake Picker. */
  async function openPickerPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1051, height: 650 } });
    await page.route(GOOGLE_API_LOADER, (route) =>
      route.fulfill({ contentType: 'text/javascript', body: fakePickerLoader(FILES) }),
    );
    await page.exposeFunction('__grantPicked', (ids: string[]) => ids.forEach((id) => drive.pick(id, USER)));
    await page.goto(`${harness.url}picker`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    return page;
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // A designer's files shared with the manager, who has picked none of them yet.
    drive = await startDriveFake({
      tokens: { [USER_TOKEN]: USER },
      files: FILES.map((f) => ({
        ...f,
        bytes: Buffer.alloc(2048, 7),
        ownerId: 'designer@example.com',
        readers: [USER],
        appNotAuthorizedFor: [USER],
        image: { width: 1200, height: 800 },
      })),
    });
    stack = await startDemoStack({ env: { DRIVE_API_URL: drive.url }, sandboxSettings: { accounts: ACCOUNTS } });
    stack.sheets.loadCsv(SPREADSHEET_ID, SHEET, CSV, { timeZone: 'Europe/Lisbon' });
    addon = await openAddonInBrowser(
      stack,
      { spreadsheetId: SPREADSHEET_ID, sheetName: SHEET, workspaceId: WORKSPACE, timeZone: 'Europe/Lisbon' },
      { GOOGLE_PICKER_API_KEY: 'browser-key-for-tests', GOOGLE_CLOUD_PROJECT_NUMBER: PROJECT_NUMBER },
    );
    ({ harness, browser, sidebar } = addon);
  }, 60_000);

  afterAll(async () => {
    await addon?.close();
    await stack?.close();
    await drive?.close();
  });

  it('with rows 2–3 selected, the button opens the Picker dialog; picking two files puts both into those rows’ Media cells', async () => {
    await harness.selectRows([2, 3]);
    await sidebar.click('#btn-drive-media');
    await sidebar.waitForSelector('#notice.info');
    expect(await sidebar.textContent('#notice')).toBe(
      'Pick the files in the Google Drive window: they go into the Media cells of rows 2–3.',
    );
    expect(await harness.dialogs()).toEqual([
      { file: 'picker', title: 'Add media from Drive', width: 1051, height: 650 },
    ]);

    const dialog = await openPickerPage();
    await dialog.waitForSelector('#fake-picker');
    // Built as Google's docs say for an Apps Script dialog under drive.file.
    const calls = await dialog.evaluate(() => (window as unknown as { __pickerCalls: unknown[][] }).__pickerCalls);
    expect(calls).toEqual(
      expect.arrayContaining([
        ['setOAuthToken', 'ya29.fake-oauth-token'],
        ['setDeveloperKey', 'browser-key-for-tests'],
        ['setAppId', PROJECT_NUMBER],
        ['setOrigin', new URL(harness.url).origin],
        ['addView', 'docs-images-and-videos', false, null],
        ['addView', 'docs-images-and-videos', true, null],
        // PDFs too, for LinkedIn document posts: a Drive view narrowed to them, in My Drive and in shared drives.
        ['addView', 'all', false, 'application/pdf'],
        ['addView', 'all', true, 'application/pdf'],
        ['enableFeature', 'multiselectEnabled'],
      ]),
    );
    await dialog.check(`#fake-picker input[value="${FILES[0]!.id}"]`);
    await dialog.check(`#fake-picker input[value="${FILES[1]!.id}"]`);
    await dialog.screenshot({ path: path.join(SHOTS, 'picker-choosing.png') });
    await dialog.click('#fake-picker-select');
    await dialog.waitForSelector('#picker-status.info');
    expect(await dialog.textContent('#picker-status')).toBe(
      "Added 2 files to the Media cells of rows 2–3. Run a dry run to check them against each platform's rules.",
    );
    await dialog.screenshot({ path: path.join(SHOTS, 'picker-added.png') });

    const twoRefs = `drive:${FILES[0]!.id}\ndrive:${FILES[1]!.id}`;
    expect(mediaCells()).toEqual([
      twoRefs,
      `https://cdn.example.com/a.jpg\n${twoRefs}`,
      `https://drive.google.com/file/d/${FILES[2]!.id}/view?usp=sharing`,
    ]);
    await dialog.click('#picker-done');
    expect(await dialog.getAttribute('html', 'data-closed')).toBe('true');
    await dialog.close();
  });

  it('the dry run reads the picked files with the user’s token; the link typed by hand for a file never picked says to pick it', async () => {
    await sidebar.click('#btn-dry-run');
    await sidebar.waitForSelector('#summary-stats');
    const stats = await sidebar.textContent('#summary-stats');
    expect(stats).toContain('2ready');
    expect(stats).toContain('1invalid');
    const problem = sidebar.locator('#summary-problems li', { hasText: 'INVALID' });
    expect(await problem.textContent()).toMatch(
      new RegExp(
        `^INVALIDRow 4 Media: .*${FILES[2]!.id} was typed or pasted in by hand: pick it once with "Add media from Drive"`,
      ),
    );
    await sidebar.screenshot({ path: path.join(SHOTS, 'picker-dry-run.png'), fullPage: true });
    // The service read each picked file's metadata from Drive with the user's token; no bytes moved in a dry run.
    for (const file of FILES.slice(0, 2)) {
      expect(drive.statsOf(file.id)).toMatchObject({ downloads: 0, denied: 0 });
      expect(drive.statsOf(file.id).metadataReads).toBeGreaterThan(0);
    }
    expect(drive.statsOf(FILES[2]!.id).denied).toBeGreaterThan(0);
  });

  it('Cancel in the Picker closes the dialog and writes nothing', async () => {
    const before = mediaCells();
    await harness.selectRows([4, 4]);
    const dialog = await openPickerPage();
    await dialog.click('#fake-picker-cancel');
    await dialog.waitForSelector('html[data-closed="true"]', { state: 'attached' });
    expect(mediaCells()).toEqual(before);
    await dialog.close();
  });

  it('a selection with the header row is refused in the sidebar with what to do, and no dialog opens', async () => {
    await harness.selectRows([1, 3]);
    await sidebar.click('#btn-drive-media');
    await sidebar.waitForSelector('#notice.error');
    expect(await sidebar.textContent('#notice')).toBe(
      'Select only post rows (rows 2 to 4 of “Posts”): the selection includes the header row.',
    );
    expect(await harness.dialogs()).toHaveLength(1);
  });
});
