/**
 * "Refresh statuses": asks the service to read this spreadsheet's waiting posts (pending approval, scheduled, queued)
 * back from Postato, for installs Postato cannot reach with webhooks. The service updates the rows itself.
 */
import type { StatusRefreshRequest, StatusRefreshResponse } from '../shared/contract';
import { gas } from './apps-script-env';
import { callService } from './service-client';
import { requireRunSettings } from './settings';

/** Refreshes this spreadsheet's rows that may still move in Postato; the answer's message is for the sidebar. */
export function refreshStatuses(): StatusRefreshResponse {
  const settings = requireRunSettings();
  const body: StatusRefreshRequest = {
    spreadsheetId: gas().SpreadsheetApp.getActiveSpreadsheet().getId(),
    workspaceId: settings.workspaceId,
  };
  return callService<StatusRefreshResponse>({
    method: 'post',
    path: '/v1/statuses/refresh',
    body,
    apiKey: settings.apiKey,
  });
}
