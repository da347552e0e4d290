/** The "Postato" menu: built in onOpen (which may run without authorization, so it touches nothing else). */
import { gas } from './apps-script-env';

/** Menu captions and the top-level function each one calls, in menu order (null = separator). */
export const MENU_ITEMS: ReadonlyArray<readonly [caption: string, functionName: string] | null> = [
  ['Open sidebar', 'showSidebar'],
  null,
  ['Dry run', 'menuDryRun'],
  ['Publish', 'menuPublish'],
  ['Retry failed rows', 'menuRetryFailed'],
  ['Reschedule changed rows', 'menuReschedule'],
  ['Unschedule selected rows', 'menuUnschedule'],
  null,
  ['Insert template sheet', 'menuInsertTemplate'],
  ['Settings', 'menuSettings'],
];

/** Adds the Postato menu (under Extensions for an installed add-on). */
export function buildMenu(): void {
  const menu = gas().SpreadsheetApp.getUi().createAddonMenu();
  for (const item of MENU_ITEMS) {
    if (item === null) menu.addSeparator();
    else menu.addItem(item[0], item[1]);
  }
  menu.addToUi();
}
