/**
 * Browser test of the add-on against the real stack: headless Chromium (playwright-core; chromium-executable.ts says
 * which one) opens the built sidebar.html, whose google.script.run is shimmed to the built server bundle running on
 * the Apps Script fakes. Its UrlFetchApp reaches the real service (scripts/demo-stack.ts), which plans with the Postato sandbox and writes
 * results back through the Sheets API into the Sheets fake, the same cells the fake SpreadsheetApp reads.
 * Screenshots go to test-output/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { openAddonInBrowser, type AddonInBrowser } from './addon-in-browser';
import type { SidebarHarness } from './sidebar-harness';

const SHOTS = path.resolve(__dirname, '..', '..', 'test-output');
const SPREADSHEET_ID = 'e2e-spreadsheet-0001';
const SHEET = 'Posts';
const WORKSPACE = 'wks_e2e';
const ACCOUNTS = [
  { id: 'acc_tw', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' as const },
  {
    id: 'acc_li',
    workspaceId: WORKSPACE,
    platform: 'linkedin',
    username: 'brand-company',
    status: 'connected' as const,
  },
];
const CSV = [
  'Key,Platform,Account,Post type,Content',
  ',twitter,acc_tw,tweet,Spring is here',
  ',twitter,acc_tw,tweet,New colours in store',
  ',linkedin,acc_li,post,We are hiring',
  ',linkedin,acc_li,post,',
].join('\n');

describe('sidebar in a browser, against the real service', () => {
  let stack: DemoStack;
  let harness: SidebarHarness;
  let browser: Browser;
  let page: Page;
  let addon: AddonInBrowser | undefined;

  const sheet = () => {
    const [header = [], ...rows] = stack.sheets.getValues(SPREADSHEET_ID, SHEET);
    const col = (name: string) => header.indexOf(name);
    return { header, rows, col };
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await startDemoStack({ sandboxSettings: { accounts: ACCOUNTS } });
    stack.sheets.loadCsv(SPREADSHEET_ID, SHEET, CSV, { timeZone: 'Europe/Lisbon' });
    addon = await openAddonInBrowser(stack, {
      spreadsheetId: SPREADSHEET_ID,
      sheetName: SHEET,
      workspaceId: WORKSPACE,
      timeZone: 'Europe/Lisbon',
    });
    ({ harness, browser, sidebar: page } = addon);
  }, 60_000);

  afterAll(async () => {
    await addon?.close();
    await stack?.close();
  });

  it('dry run shows the service’s summary and the invalid row; clicking it selects the row', async () => {
    await page.click('#btn-dry-run');
    await page.waitForSelector('#summary-stats');
    const stats = await page.textContent('#summary-stats');
    expect(stats).toContain('3ready');
    expect(stats).toContain('1invalid');
    expect(await page.locator('#summary-counts tbody tr').count()).toBeGreaterThanOrEqual(2); // one line per platform, account and day
    expect(await page.textContent('#summary')).not.toContain('accounts were not checked');
    expect(await page.textContent('#summary-target')).toBe(
      `Spreadsheet “Campaign plan” › tab “Posts” › Postato workspace ${WORKSPACE}`,
    );
    const problem = page.locator('#summary-problems li', { hasText: 'INVALID' });
    expect(await problem.textContent()).toMatch(/Content/);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-dry-run.png'), fullPage: true });

    const selected = page.waitForResponse((r) => r.url().endsWith('/rpc/rpcSelectRow'));
    await problem.locator('a.row-link').click();
    await selected;
    expect(await harness.selectedRow()).toBe(5);
    // The dry run filled a key into every post row, in the Sheets fake itself; nothing was sent to Postato.
    const { rows, col } = sheet();
    expect(rows.every((r) => /^r-[0-9a-f]{10}$/.test(r[col('Key')] ?? ''))).toBe(true);
    expect(stack.sandbox.inspect().posts).toHaveLength(0);
  });

  it('publish asks for confirmation naming tab, workspace and counts; progress says closing is safe; the run reaches 100 % and the service writes every row’s result into the sheet', async () => {
    await page.click('#btn-publish');
    await page.waitForSelector('#confirm:not([hidden])');
    expect(await page.textContent('#confirm-text')).toMatch(
      /^Publish 3 posts to 2 accounts over \d+ days?; about .+\?$/,
    );
    expect(await page.textContent('#confirm-target')).toBe(
      `Spreadsheet “Campaign plan” › tab “Posts” › Postato workspace ${WORKSPACE}`,
    );
    expect(await page.textContent('#confirm-counts')).toBe(
      '3 to create · 0 to reschedule · 0 to unschedule · 1 invalid row skipped',
    );
    expect(await page.textContent('#confirm-note')).toBe('1 invalid row will be skipped.');
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-confirm.png'), fullPage: true });

    // Postato answers 429 until released, so the run is visibly in progress while the test looks at it.
    stack.sandbox.update({
      faults: { forced429: { untilMs: stack.sandbox.clock.now() + 120_000, retryAfterSeconds: 1 } },
    });
    await page.click('#btn-confirm-ok');
    await page.waitForSelector('#progress-safe:not([hidden])');
    expect(await page.textContent('#progress-title')).toBe('Publishing');
    expect(await page.textContent('#progress-safe')).toMatch(
      /you can close this sidebar or the spreadsheet, and nothing stops/,
    );
    await page.waitForFunction(() => (document.getElementById('progress-counts')?.textContent ?? '') !== '');
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-progress.png'), fullPage: true });
    stack.sandbox.update({ faults: { forced429: null } });

    await page.waitForSelector('#progress-bar[aria-valuenow="100"]', { timeout: 45_000 });
    // Let the bar's width transition end, so the screenshot shows it full.
    await page.locator('#progress-bar').evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)));
    expect(await page.textContent('#progress-counts')).toMatch(/3 created/);
    expect(await page.textContent('#progress-state')).toMatch(/^Done: 3 posts created/);
    expect(await page.textContent('#progress-title')).toBe('Published');
    expect(await page.isHidden('#progress-safe')).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-published.png'), fullPage: true });

    // The write-back flushes every few hundred ms; drain it so the sheet is final before reading it.
    await stack.service.flusher!.drain(SPREADSHEET_ID);
    const { rows, col } = sheet();
    const posts = stack.sandbox.inspect().posts;
    expect(posts).toHaveLength(3);
    expect(rows.map((r) => r[col('Status')])).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'INVALID']);
    const postIds = rows.slice(0, 3).map((r) => r[col('Post ID')]);
    expect(new Set(postIds)).toEqual(new Set(posts.map((p) => p.id)));
    expect(rows[3]![col('Post ID')] ?? '').toBe('');
    expect(await page.textContent('#progress-counts')).toContain('4 of 4 done · 3 created · 1 failed');
    for (const r of rows.slice(0, 3)) {
      const post = posts.find((p) => p.id === r[col('Post ID')])!;
      expect(new Date(r[col('Scheduled (UTC)')]!).toISOString()).toBe(new Date(post.scheduledAt!).toISOString());
    }
    expect(rows[3]![col('Error')]).toMatch(/^Content: is empty/);
    // Every row names the same run: the one the sidebar followed.
    expect(new Set(rows.map((r) => r[col('Run')])).size).toBe(1);
    expect(rows[0]![col('Run')]).toMatch(/^run_/);
  });

  it('when the run ends, the sidebar shows its report with the invalid row and its reason, and can email it', async () => {
    await page.waitForSelector('#report:not([hidden])');
    expect(await page.textContent('#report-sentence')).toMatch(
      /^Publish of “Posts” finished in .+: 3 posts created, 1 row failed\.$/,
    );
    const failed = page.locator('#report-failed li');
    expect(await failed.count()).toBe(1);
    expect(await failed.first().textContent()).toMatch(/^Row 5 Content: is empty/);
    expect(await page.isHidden('#progress-problems')).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-report.png'), fullPage: true });

    const selected = page.waitForResponse((r) => r.url().endsWith('/rpc/rpcSelectRow'));
    await failed.first().locator('a.row-link').click();
    await selected;
    expect(await harness.selectedRow()).toBe(5);

    await page.click('#btn-email-report');
    await page.waitForSelector('#notice.info');
    expect(await page.textContent('#notice')).toBe('Sent the report to manager@example.com.');
    const mail = await harness.sentMail();
    expect(mail).toHaveLength(1);
    expect(mail[0]!.to).toBe('manager@example.com');
    expect(mail[0]!.subject).toBe('Postato: Publish of “Posts” – 3 posts created, 1 row failed');
    expect(mail[0]!.body).toMatch(/- Row 5: Content: is empty/);
    expect(mail[0]!.body).toContain(`https://docs.google.com/spreadsheets/d/${SPREADSHEET_ID}/edit#gid=`);
  });

  it('the Status column shows each row’s state in colour, and "Show rows that need a fix" filters the tab to them', async () => {
    const view = await harness.sheetView();
    const statusCol = view.cells[0]!.indexOf('Status') + 1;
    const statuses = view.cells.slice(1).map((r) => String(r[statusCol - 1] ?? ''));
    expect(statuses).toEqual(['SCHEDULED', 'SCHEDULED', 'SCHEDULED', 'INVALID']);
    expect(view.frozenRows).toBe(1);

    const sheetPage = await browser.newPage({ viewport: { width: 1400, height: 260 } });
    await sheetPage.goto(`${harness.url}sheet`);
    const background = (row: number) =>
      sheetPage
        .locator(`td[data-row="${row}"][data-col="${statusCol}"]`)
        .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await background(2)).toBe('rgb(183, 225, 205)');
    expect(await background(5)).toBe('rgb(244, 199, 195)');
    await sheetPage.screenshot({ path: path.join(SHOTS, 'sheet-status-colours.png') });

    await page.check('#needs-fix-filter');
    await page.waitForSelector('#notice.info');
    expect(await page.textContent('#notice')).toMatch(/^Showing the 1 row whose Status needs a fix/);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-needs-fix-filter.png'), fullPage: true });
    await sheetPage.reload();
    expect(await sheetPage.locator('tr[data-row]').evaluateAll((trs) => trs.map((tr) => tr.dataset.row))).toEqual([
      '1',
      '5',
    ]);
    await sheetPage.screenshot({ path: path.join(SHOTS, 'sheet-needs-fix-filter.png') });

    await page.uncheck('#needs-fix-filter');
    await page.waitForFunction(() => document.querySelector('#notice')?.textContent === 'Showing every row again.');
    await sheetPage.reload();
    expect(await sheetPage.locator('tr[data-row]').count()).toBe(5);
    expect((await harness.sheetView()).hiddenRows).toEqual([]);
    await sheetPage.close();
  });

  it('the report’s Retry button confirms and publishes the invalid row once it is fixed', async () => {
    expect(await page.textContent('#btn-retry-failed')).toBe('Retry 1 failed row');
    // The manager fixes row 5 in the sheet.
    const { header, rows } = sheet();
    const fixed = [header, ...rows].map((r) => [...r]);
    fixed[4]![header.indexOf('Content')] = 'Now with text';
    stack.sheets.setValues(SPREADSHEET_ID, SHEET, fixed);

    await page.click('#btn-retry-failed');
    await page.waitForSelector('#confirm:not([hidden])');
    expect(await page.textContent('#confirm-text')).toMatch(/^Retry 1 post to 1 account over 1 day; about .+\?$/);
    expect(await page.textContent('#confirm-target')).toContain(`tab “Posts” › Postato workspace ${WORKSPACE}`);
    expect(await page.textContent('#confirm-counts')).toBe('1 to create · 0 to reschedule · 0 to unschedule');
    await page.click('#btn-confirm-ok');
    // The earlier report stays until the new run starts: wait for the retry's own report.
    await page.waitForFunction(
      () => /: 1 post created\.$/.test(document.getElementById('report-sentence')?.textContent ?? ''),
      undefined,
      { timeout: 45_000 },
    );
    expect(await page.isHidden('#btn-retry-failed')).toBe(true);
    await stack.service.flusher!.drain(SPREADSHEET_ID);
    const after = sheet();
    expect(after.rows[3]![after.col('Status')]).toBe('SCHEDULED');
    expect(stack.sandbox.inspect().posts).toHaveLength(4);
  });

  it('shows a service error as a sentence', async () => {
    if (!(await page.locator('#more').evaluate((d) => (d as HTMLDetailsElement).open)))
      await page.click('#more summary');
    await page.click('#btn-retry');
    await page.waitForSelector('#notice.error');
    expect(await page.textContent('#notice')).toBe(
      'No row says FAILED or INVALID in the Status column, so there is nothing to retry.',
    );
  });

  it('a Save error shows next to the Save button, in view', async () => {
    await page.click('#link-settings');
    await page.fill('#set-workspace', 'not a workspace!');
    await page.click('#btn-save-settings');
    await page.waitForSelector('#settings-result.error');
    expect(await page.textContent('#settings-result')).toMatch(/workspace ID may only contain letters/);
    const box = (await page.locator('#settings-result').boundingBox())!;
    const viewport = page.viewportSize()!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-save-error.png') });
    await page.fill('#set-workspace', WORKSPACE);
    await page.click('#btn-save-settings');
    await page.waitForSelector('#settings-result.info');
    expect(await page.textContent('#settings-result')).toMatch(
      /^Settings saved for this spreadsheet\. Connected: workspace wks_e2e has 2 connected accounts\.$/,
    );
  });

  it('Check access asks the service which account writes, and the service checks the sheet through the Sheets API', async () => {
    await page.click('#btn-check-access');
    await page.waitForFunction(() => (document.getElementById('access-result')?.textContent ?? '') !== '');
    expect(await page.textContent('#service-account')).toBe(stack.serviceAccountEmail);
    expect(await page.textContent('#access-result')).toBe(
      `${stack.serviceAccountEmail} can edit this spreadsheet: results will be written into it.`,
    );
  });

  it('Insert template sheet fills the Account dropdown from the workspace accounts the service lists', async () => {
    await page.click('#btn-close-settings');
    if (!(await page.locator('#more').evaluate((d) => (d as HTMLDetailsElement).open)))
      await page.click('#more summary');
    await page.click('#btn-template');
    await page.waitForSelector('#notice.info');
    expect(await page.textContent('#notice')).toMatch(/^Inserted “Postato posts”/);
    const active = await harness.activeSheet();
    expect(active.name).toBe('Postato posts');
    const account = active.validations.find((v) => v.column === active.header.indexOf('Account') + 1);
    expect(account?.values).toEqual(['acc_tw', 'acc_li']);
    await page.screenshot({ path: path.join(SHOTS, 'sidebar-template.png'), fullPage: true });
  });
});
