/**
 * "Test connection" after Save: asks the service for the workspace's Postato accounts with the user's API key, which
 * proves in one call that the service answers, accepts the sign-in, and that Postato accepts the key.
 */
import type { AccountsResponse } from '../shared/contract';
import { plural } from '../shared/format';
import type { ConnectionTest } from '../shared/server-rpc';
import { AddonError } from './apps-script-env';
import { callService } from './service-client';
import { requireRunSettings } from './settings';

/** Tests the saved settings; a failure comes back as a sentence, never as an exception. */
export function testConnection(): ConnectionTest {
  try {
    const settings = requireRunSettings();
    const answer = callService<AccountsResponse>({
      method: 'get',
      path: `/v1/accounts?workspaceId=${encodeURIComponent(settings.workspaceId)}`,
      apiKey: settings.apiKey,
    });
    if (!answer.available) {
      return {
        ok: true,
        message: 'The service and Postato answered; Postato does not list accounts, so the workspace was not checked.',
      };
    }
    const connected = answer.items.filter((a) => a.status === 'connected').length;
    return {
      ok: true,
      message: `Connected: workspace ${settings.workspaceId} has ${plural(connected, 'connected account')}.`,
    };
  } catch (error) {
    if (error instanceof AddonError) return { ok: false, message: error.message };
    throw error;
  }
}
