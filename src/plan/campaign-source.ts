/**
 * Where a campaign lives. A run's `spreadsheetId` names a Google spreadsheet, except for campaigns sent as a CSV file
 * (`npm run campaign`): those carry a `csv:` id, have no sheet, and their results are read only through the API.
 */

/** Prefix of the `spreadsheetId` of a CSV campaign. Google spreadsheet ids never contain `:`, so no sheet can match. */
export const CSV_CAMPAIGN_PREFIX = 'csv:';

/** True when the campaign is a Google spreadsheet the service may read and write; false for a CSV campaign. */
export function hasGoogleSheet(spreadsheetId: string): boolean {
  return !spreadsheetId.startsWith(CSV_CAMPAIGN_PREFIX);
}
