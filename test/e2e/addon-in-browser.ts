/**
 * The built add-on in headless Chromium against a demo stack (scripts/demo-stack.ts): the bundle built for the stack's
 * service, the Apps Script harness over one tab of the stack's Sheets fake, and the sidebar page loaded and ready.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildAddon } from '../../scripts/build-addon';
import type { DemoStack } from '../../scripts/demo-stack';
import { launchChromium } from './chromium-executable';
import { sheetsFakeCells } from './sheets-fake-cells';
import { startSidebarHarness, type SidebarHarness } from './sidebar-harness';

/** The add-on as a user sees it: the harness, the browser and the open sidebar. */
export interface AddonInBrowser {
  harness: SidebarHarness;
  browser: Browser;
  sidebar: Page;
  /** Closes the browser and the harness and removes the bundle (the stack is the caller's). */
  close(): Promise<void>;
}

/** Builds the add-on for `stack`, serves it on the harness for one tab and opens its sidebar in Chromium. */
export async function openAddonInBrowser(
  stack: DemoStack,
  tab: { spreadsheetId: string; sheetName: string; workspaceId: string; timeZone: string },
  scriptProperties: Record<string, string> = {},
): Promise<AddonInBrowser> {
  const bundleDir = mkdtempSync(path.join(tmpdir(), 'postato-addon-e2e-'));
  let harness: SidebarHarness | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await harness?.close();
    rmSync(bundleDir, { recursive: true, force: true });
  };
  try {
    await buildAddon({ serviceUrl: stack.url, outDir: bundleDir });
    harness = await startSidebarHarness({
      bundleDir,
      cells: sheetsFakeCells(stack.sheets, tab.spreadsheetId, tab.sheetName),
      spreadsheetId: tab.spreadsheetId,
      sheetName: tab.sheetName,
      timeZone: tab.timeZone,
      userProperties: { 'postato.apiKey': stack.apiKey },
      documentProperties: { 'postato.workspaceId': tab.workspaceId },
      scriptProperties: { SHARED_SECRET: stack.headers['x-shared-secret']!, ...scriptProperties },
    });
    browser = await launchChromium();
    const sidebar = await browser.newPage({ viewport: { width: 300, height: 900 } });
    await sidebar.goto(harness.url);
    await sidebar.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    return { harness, browser, sidebar, close };
  } catch (err) {
    await close();
    throw err;
  }
}
