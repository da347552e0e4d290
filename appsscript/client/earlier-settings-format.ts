/** The sentence that offers a user's earlier per-user settings to a spreadsheet that has none of its own. */
import type { EarlierSettings } from '../shared/server-rpc';

/** "Before settings belonged to each spreadsheet, you used workspace wks_1 · times in … · 20 min gap · 30 s jitter." */
export function earlierSettingsLine(earlier: EarlierSettings, spreadsheetTimeZone: string): string {
  const zone = earlier.timeZone === '' ? `the spreadsheet’s zone (${spreadsheetTimeZone})` : earlier.timeZone;
  const gap = earlier.minGapMinutes === null ? 'default gap' : `${earlier.minGapMinutes} min gap`;
  const jitter = earlier.jitterSeconds === null ? 'default jitter' : `${earlier.jitterSeconds} s jitter`;
  return (
    `Before settings belonged to each spreadsheet, you used workspace ${earlier.workspaceId} · times in ${zone} · ` +
    `${gap} · ${jitter}. Use them for this spreadsheet? Every editor of it then publishes with them; your other ` +
    `spreadsheets ask for their own.`
  );
}
