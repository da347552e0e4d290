/**
 * Opens the sidebar and hands it the action a menu item asked for (kept briefly in the user cache, because a
 * sidebar built from a static file can't take arguments).
 */
import type { SidebarAction } from '../shared/server-rpc';
import type { GasSheet } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';

const PENDING_ACTION_KEY = 'postato.pendingAction';
const PENDING_ACTION_TTL_SECONDS = 120;

/** Shows the sidebar; when `action` is given, the sidebar starts it as soon as it loads. */
export function showSidebar(action?: SidebarAction): void {
  const cache = gas().CacheService.getUserCache();
  if (action) cache.put(PENDING_ACTION_KEY, action, PENDING_ACTION_TTL_SECONDS);
  else cache.remove(PENDING_ACTION_KEY);
  const html = gas().HtmlService.createHtmlOutputFromFile('sidebar').setTitle('Postato');
  gas().SpreadsheetApp.getUi().showSidebar(html);
}

/** Returns and clears the action a menu item left for the sidebar. */
export function takePendingAction(): SidebarAction | null {
  const cache = gas().CacheService.getUserCache();
  const action = cache.get(PENDING_ACTION_KEY);
  if (action) cache.remove(PENDING_ACTION_KEY);
  return (action as SidebarAction | null) ?? null;
}

/** Selects a row of a sheet, so clicking a problem in the sidebar shows its row. */
export function selectRow(sheetName: string, rowNumber: number): boolean {
  const ss = gas().SpreadsheetApp.getActiveSpreadsheet();
  const sheet: GasSheet | null = ss.getSheetByName(sheetName);
  if (!sheet) throw new AddonError(`The sheet "${sheetName}" no longer exists. Run the dry run again.`);
  if (!Number.isInteger(rowNumber) || rowNumber < 1 || rowNumber > sheet.getMaxRows()) {
    throw new AddonError(`Row ${rowNumber} is not in the sheet "${sheetName}" any more. Run the dry run again.`);
  }
  sheet.activate();
  sheet.getRange(rowNumber, 1, 1, Math.max(sheet.getLastColumn(), 1)).activate();
  return true;
}
