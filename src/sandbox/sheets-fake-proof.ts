/**
 * Proves a caller can edit a spreadsheet the way the add-on does, for the demo and tests that drive the service over
 * HTTP: ask for a challenge, write it as developer metadata on the spreadsheet as the user (through the Sheets fake's
 * API, so a view-only user is refused there), then ask the service to verify it.
 */
import type { SheetsFake } from './sheets-fake';
import type { SheetProofChallenge } from '../../appsscript/shared/contract';

/** One JSON request to the service as the caller: fetch on a listening server, or supertest on an app. */
export type ServiceSender = (path: string, body: unknown) => Promise<{ status: number; body: unknown }>;

/** A sender over fetch to a listening service with the caller's headers. */
export function fetchSender(baseUrl: string, headers: Record<string, string>): ServiceSender {
  return async (path, body) => {
    const res = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}

/** Writes developer metadata on the spreadsheet as `userEmail`, through the fake's batchUpdate; answers the status. */
export async function writeMetadataAs(
  sheets: SheetsFake,
  userEmail: string,
  spreadsheetId: string,
  metadataKey: string,
  metadataValue: string,
): Promise<number> {
  const res = await fetch(`${sheets.url}/v4/spreadsheets/${encodeURIComponent(spreadsheetId)}:batchUpdate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sheets.issueUserToken(userEmail)}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      requests: [
        {
          createDeveloperMetadata: {
            developerMetadata: { metadataKey, metadataValue, location: { spreadsheet: true }, visibility: 'DOCUMENT' },
          },
        },
      ],
    }),
  });
  await res.text();
  return res.status;
}

/** Asks the service for a challenge for the spreadsheet; fails the test unless it is handed out. */
export async function requestChallenge(send: ServiceSender, spreadsheetId: string): Promise<SheetProofChallenge> {
  const res = await send('/v1/sheets/proof/challenge', { spreadsheetId });
  if (res.status !== 200) throw new Error(`challenge answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as SheetProofChallenge;
}

/** The whole proof as an editor; resolves once the service answered 200 to verify, throws otherwise. */
export async function proveSheetAccess(
  send: ServiceSender,
  sheets: SheetsFake,
  spreadsheetId: string,
  editorEmail = 'editor@example.com',
): Promise<void> {
  const c = await requestChallenge(send, spreadsheetId);
  const written = await writeMetadataAs(sheets, editorEmail, spreadsheetId, c.metadataKey, c.challenge);
  if (written !== 200) throw new Error(`writing the challenge as ${editorEmail} answered ${written}`);
  const verified = await send('/v1/sheets/proof/verify', { spreadsheetId, challenge: c.challenge });
  if (verified.status !== 200) throw new Error(`verify answered ${verified.status}: ${JSON.stringify(verified.body)}`);
}
