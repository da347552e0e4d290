/**
 * Browser test of the sidebar: headless Debian chromium (playwright-core) opens the built sidebar.html, whose
 * google.script.run is shimmed to the built server bundle running against the Apps Script fakes. It runs a dry run,
 * selects a problem row, publishes, follows the progress bar to 100 % and checks the sheet. Screenshots go to
 * test-output/. The service is a stand-in (fake-sheets-service.ts) until src/service.ts exists.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildAddon } from '../../scripts/build-addon';
import { MemoryCellStore } from '../appsscript/fakes/fake-spreadsheet-app';
import { fakeApiKey } from '../appsscript/fakes/fake-services';
import { startFakeSheetsService, type FakeSheetsService } from './fake-sheets-service';
import { startSidebarHarness, type SidebarHarness } from './sidebar-harness';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '..', '..', 'test-output');
const describeIfBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

describeIfBrowser('sidebar in a browser', () => {
  const cells = new MemoryCellStore([
    ['Key', 'Platform', 'Account', 'Post type', 'Content'],
    ['', 'twitter', 'acc_tw', 'tweet', 'Spring is here'],
    ['', 'twitter', 'acc_tw', 'tweet', 'New colours in store'],
    ['', 'linkedin', 'acc_li', 'post', 'We are hiring'],
    ['', 'linkedin', 'acc_li', 'post', ''],
  ]);
  let service: FakeSheetsService;
  let harness: SidebarHarness;
  let browser: Browser;
  let page: Page;
  let bundleDir: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const sharedSecret = randomBytes(16).toString('hex');
    service = await startFakeSheetsService({ cells, sharedSecret });
    bundleDir = mkdtempSync(path.join(tmpdir(), 'postato-addon-e2e-'));
    await buildAddon({ serviceUrl: service.url, outDir: bundleDir });
    harness = await startSidebarHarness({
      bundleDir,
      cells,
      spreadsheetId: 'ss-e2e',
      sheetName: 'Posts',
      timeZone: 'Europe/Lisbon',
      userProperties: { 'postato.workspaceId': 'ws_e2e', 'postato.apiKey': fakeApiKey() },
      scriptProperties: { SHARED_SECRET: sharedSecret },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 300, height: 900 } });
    await page.goto(harness.url);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await service?.close();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it('dry run shows the summary, the counts table and the invalid row; clicking it selects the row', async () => {
    await page.click('#btn-dry-run');
    await page.waitForSelector('#summary-stats');
    const stats = await page.textContent('#summary-stats');
    expect(stats).toContain('3ready');
    expect(stats).toContain('1invalid');
    expect(await page.locator('#summary-counts tbody tr').count()).toBe(2); // twitter on day 1, linkedin on day 2
    const problem = page.locator('#summary-problems li', { hasText: 'INVALID' });
    expect(await problem.textContent()).toContain('Content: Content is empty');
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-dry-run.png'), fullPage: true });

    const selected = page.waitForResponse((r) => r.url().endsWith('/rpc/rpcSelectRow'));
    await problem.locator('a.row-link').click();
    await selected;
    expect(await harness.selectedRow()).toBe(5);
    // The dry run filled a key into every post row.
    expect(cells.read().slice(1).every((r) => /^r-[0-9a-f]{10}$/.test(String(r[0])))).toBe(true);
  });

  it('publish asks for confirmation with the numbers, then follows the run to 100 %', async () => {
    await page.click('#btn-publish');
    await page.waitForSelector('#confirm:not([hidden])');
    expect(await page.textContent('#confirm-text')).toMatch(/^Publish 3 posts to 2 accounts over 2 days; about 3 seconds\?$/);
    expect(await page.textContent('#confirm-note')).toBe('1 invalid row will be skipped.');
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-confirm.png'), fullPage: true });

    await page.click('#btn-confirm-ok');
    await page.waitForSelector('#progress-bar[aria-valuenow="100"]', { timeout: 30_000 });
    expect(await page.textContent('#progress-counts')).toContain('4 of 4 done · 3 created · 1 skipped');
    expect(await page.textContent('#progress-state')).toMatch(/^Done: 3 posts created/);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-published.png'), fullPage: true });

    const sheet = cells.read();
    const header = sheet[0]!.map(String);
    const status = header.indexOf('Status');
    const postId = header.indexOf('Post ID');
    expect(sheet.slice(1).map((r) => r[status])).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'INVALID']);
    expect(sheet.slice(1, 4).every((r) => String(r[postId]).startsWith('pst_r-'))).toBe(true);
    expect(service.requests.every((r) => r.headers['x-shared-secret'] !== undefined)).toBe(true);
  });

  it('shows a service error as a sentence', async () => {
    await page.click('#more summary');
    await page.click('#btn-retry');
    await page.waitForSelector('#notice.error');
    expect(await page.textContent('#notice')).toBe('No row says FAILED in the Status column, so there is nothing to retry.');
  });
});
