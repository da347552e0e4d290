/**
 * The service account that writes results into the sheet, and the "Check access" button: the service tries the
 * sheet with that account and says whether it may edit it.
 */
import type { AccessCheck } from '../shared/server-rpc';
import { gas } from './apps-script-env';
import { callService } from './service-client';
import { rememberServiceAccountEmail } from './settings';

/** Asks the service which account must be able to edit the sheet, and remembers it. */
export function fetchServiceAccountEmail(): string {
  const { email } = callService<{ email: string }>({ method: 'get', path: '/v1/sheets/service-account' });
  rememberServiceAccountEmail(email);
  return email;
}

/** Checks that the service account can edit this spreadsheet; the message says what to do when it can't. */
export function checkAccess(): AccessCheck {
  const email = fetchServiceAccountEmail();
  const spreadsheetId = gas().SpreadsheetApp.getActiveSpreadsheet().getId();
  const answer = callService<{ canEdit: boolean; message?: string }>({
    method: 'post',
    path: '/v1/sheets/check-access',
    body: { spreadsheetId },
  });
  const message = answer.canEdit
    ? `${email} can edit this spreadsheet: results will be written into it.`
    : (answer.message ??
      `Share this spreadsheet with ${email} as an editor (Share button, top right), then check again.`);
  return { canEdit: answer.canEdit, message, serviceAccountEmail: email };
}
