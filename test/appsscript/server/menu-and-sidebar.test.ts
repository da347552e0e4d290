import { ENTRY_POINTS, rpc, triggers } from '../../../appsscript/server/index';
import { MENU_ITEMS } from '../../../appsscript/server/menu';
import { createFakes, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { sampleCells } from '../fakes/sample-sheet';

describe('menu, sidebar and entry points', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  beforeEach(() => {
    fakes = createFakes({ cells: sampleCells() });
    uninstall = installFakes(fakes);
  });
  afterEach(() => uninstall());

  it('onOpen adds the Postato menu with every action', () => {
    triggers.onOpen({});
    const menu = fakes.SpreadsheetApp.ui.menus[0]!;
    expect(menu.added).toBe(true);
    expect(menu.items.filter(Boolean).map((i) => i![0])).toEqual([
      'Open sidebar',
      'Dry run',
      'Publish',
      'Retry failed rows',
      'Reschedule changed rows',
      'Unschedule selected rows',
      'Insert template sheet',
      'Settings',
    ]);
  });

  it('every menu item calls a declared entry point', () => {
    for (const item of MENU_ITEMS) if (item) expect(ENTRY_POINTS[item[1]]).toBeInstanceOf(Function);
  });

  it('a menu item opens the sidebar and leaves its action for the sidebar to take once', () => {
    triggers.menuDryRun();
    expect(fakes.HtmlService.files).toEqual(['sidebar']);
    expect(fakes.SpreadsheetApp.ui.sidebars).toHaveLength(1);
    expect(rpc.rpcTakePendingAction()).toBe('dry-run');
    expect(rpc.rpcTakePendingAction()).toBeNull();
  });

  it('selecting a problem row activates that row', () => {
    expect(rpc.rpcSelectRow('Posts', 5)).toBe(true);
    const selected = fakes.spreadsheet.selection[0]!;
    expect(selected.getRow()).toBe(5);
    expect(() => rpc.rpcSelectRow('Gone', 2)).toThrow(/no longer exists/);
  });
});
