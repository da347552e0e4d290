import { actionCounts, confirmLabel, settingsLine, targetLine } from '../../../appsscript/client/confirm-format';
import type { ActionTarget } from '../../../appsscript/shared/server-rpc';

const target: ActionTarget = {
  spreadsheetId: 'ss-1',
  spreadsheetName: 'Client A – June',
  sheetId: 7,
  sheetName: 'Posts',
  workspaceId: 'wks_a',
  timeZone: 'Europe/Berlin',
  minGapMinutes: 20,
  jitterSeconds: null,
};

describe('confirmation texts', () => {
  it('name the spreadsheet, the tab and the workspace', () => {
    expect(targetLine(target)).toBe('Spreadsheet “Client A – June” › tab “Posts” › Postato workspace wks_a');
    expect(settingsLine(target)).toBe('Times in Europe/Berlin · 20 min gap · default jitter');
  });

  it('count what the action creates, reschedules and unschedules', () => {
    expect(actionCounts({ counts: { create: 3, reschedule: 0, unschedule: 0, invalid: 1 } })).toBe(
      '3 to create · 0 to reschedule · 0 to unschedule · 1 invalid row skipped',
    );
    expect(actionCounts({ counts: { create: 0, reschedule: 2, unschedule: 0, invalid: 0 } })).toBe(
      '0 to create · 2 to reschedule · 0 to unschedule',
    );
    expect(confirmLabel('retry-failed')).toBe('Retry');
  });
});
