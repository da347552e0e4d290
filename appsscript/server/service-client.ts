/**
 * The one way the add-on talks to the postato-sheets service: UrlFetchApp with muteHttpExceptions, the caller's
 * Google identity token (or a self-hosted install's shared secret), and every failure turned into a plain sentence.
 */
import {
  DRIVE_ACCESS_TOKEN_HEADER,
  POSTATO_API_KEY_HEADER,
  PROOF_REQUIRED,
  SHARED_SECRET_HEADER,
  type ErrorBody,
} from '../shared/contract';
import { AddonError, gas, serviceUrl } from './apps-script-env';
import { sharedSecret } from './settings';
import { PROOF_PATHS, proveSheetAccess } from './sheet-proof';

/** One request to the service. */
export interface ServiceRequest {
  method: 'get' | 'post';
  /** Path and query, starting with "/". */
  path: string;
  body?: unknown;
  /** The user's Postato API key, sent in its own header when the call needs it. */
  apiKey?: string;
}

const KEY_PATTERN = /smcp_[0-9a-fA-F]+/g;

/** Media cells naming Google Drive files (share links or drive:<id>), anywhere in a run request. */
const DRIVE_MEDIA = /drive\.google\.com|drive\.usercontent\.google\.com|(^|[\s,"])drive:/i;

/**
 * A run request whose rows name Drive files carries the user's short-lived OAuth token (its drive.file grant), so the
 * service can read those files and upload them to Postato; other requests never carry it.
 */
function driveTokenFor(request: ServiceRequest): string | null {
  if (request.method !== 'post' || request.path !== '/v1/runs' || request.body === undefined) return null;
  if (!DRIVE_MEDIA.test(JSON.stringify(request.body))) return null;
  return gas().ScriptApp.getOAuthToken() || null;
}

/** Removes anything that looks like a Postato API key from a message before the user sees it. */
export function scrubSecrets(text: string): string {
  return text.replace(KEY_PATTERN, 'smcp_…');
}

function authHeaders(): Record<string, string> {
  const secret = sharedSecret();
  if (secret !== null) {
    return { [SHARED_SECRET_HEADER]: secret, 'x-user-id': gas().Session.getTemporaryActiveUserKey() };
  }
  const token = gas().ScriptApp.getIdentityToken();
  if (!token) {
    throw new AddonError(
      'Google did not provide your sign-in to the add-on. Reload the spreadsheet, open Postato again and allow the requested permissions.',
    );
  }
  return { authorization: `Bearer ${token}` };
}

/** The sentence shown when the service answered with an error and no usable message. */
export function defaultMessageFor(status: number): string {
  if (status === 401)
    return "The service did not accept your sign-in. Reload the spreadsheet and try again; if it keeps happening, ask your admin to check the add-on's OAuth client ID on the service.";
  if (status === 403)
    return 'You are not allowed to use this Postato Sheets service. Ask your admin to add your account.';
  if (status === 404)
    return 'The service does not know this request. The run may have ended or belong to someone else; reload the sidebar.';
  if (status === 413)
    return 'The service refused the request as too large. Ask whoever runs the service to raise its BODY_LIMIT.';
  if (status === 429) return 'The service is busy with your earlier requests. Wait a minute and try again.';
  if (status >= 500) return `The Postato Sheets service had a problem (HTTP ${status}). Try again in a minute.`;
  return `The service refused the request (HTTP ${status}). Check your settings and the sheet, then try again.`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An error answer of the service: the sentence for the user plus the HTTP status, for callers that act on it. */
export class ServiceError extends AddonError {
  constructor(
    message: string,
    readonly status: number,
    /** The service's error code (e.g. proof_required), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/**
 * Sends one request and returns the parsed JSON body, or throws an AddonError with a sentence for the user. When the
 * service first wants proof that the user can edit this spreadsheet, the proof is made and the request sent again.
 */
export function callService<T>(request: ServiceRequest): T {
  try {
    return sendOnce<T>(request);
  } catch (error) {
    if (!(error instanceof ServiceError) || error.code !== PROOF_REQUIRED || PROOF_PATHS.includes(request.path))
      throw error;
    proveSheetAccess((path, body) => sendOnce({ method: 'post', path, body }));
    return sendOnce<T>(request);
  }
}

function sendOnce<T>(request: ServiceRequest): T {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (request.apiKey !== undefined) headers[POSTATO_API_KEY_HEADER] = request.apiKey;
  const driveToken = driveTokenFor(request);
  if (driveToken) headers[DRIVE_ACCESS_TOKEN_HEADER] = driveToken;
  const url = serviceUrl() + request.path;
  let response;
  try {
    response = gas().UrlFetchApp.fetch(url, {
      method: request.method,
      headers,
      muteHttpExceptions: true,
      followRedirects: false,
      ...(request.body === undefined ? {} : { contentType: 'application/json', payload: JSON.stringify(request.body) }),
    });
  } catch {
    // UrlFetchApp's own message can echo the request; the user only needs to know the service was unreachable.
    // The request goes out from Google's servers, not from the user's machine, so their connection is not the cause.
    throw new AddonError(
      `Google could not reach the Postato Sheets service at ${serviceUrl()}. The service may be down or restarting; try again in a minute, and if it keeps failing, tell whoever runs the service.`,
    );
  }
  const status = response.getResponseCode();
  const body = parseJson(response.getContentText());
  if (status >= 200 && status < 300) {
    if (body === undefined)
      throw new AddonError('The service sent an answer the add-on could not read. Try again in a minute.');
    return body as T;
  }
  const { message, error } = (body as Partial<ErrorBody> | undefined) ?? {};
  throw new ServiceError(
    scrubSecrets(typeof message === 'string' && message.trim() !== '' ? message : defaultMessageFor(status)),
    status,
    typeof error === 'string' ? error : undefined,
  );
}
