/**
 * Errors of the Sheets client. GaxiosErrors are translated here, where they enter, into these AppErrors; their
 * messages say what to fix and never carry a token, key or request header.
 */
import { AppError } from '../errors';

/** The service account may not edit the spreadsheet (Google answered 403). */
export class SheetsForbiddenError extends AppError {
  constructor(serviceAccountEmail: string | undefined) {
    super(
      'sheets_forbidden',
      serviceAccountEmail
        ? `Share the sheet with ${serviceAccountEmail} as an editor, then try again.`
        : 'Google refused access to the sheet. Share it as an editor with the service account of this install.',
      { status: 403 },
    );
  }
}

/** The spreadsheet or sheet tab does not exist (404). */
export class SheetsNotFoundError extends AppError {
  constructor(what: string) {
    super(
      'sheets_not_found',
      `${what} was not found. Check that the spreadsheet still exists and that the tab was not renamed.`,
      { status: 404 },
    );
  }
}

/** Google's per-minute quota was hit (429); retryable. */
export class SheetsRateLimitedError extends AppError {
  constructor() {
    super(
      'sheets_rate_limited',
      'Google Sheets is limiting requests right now; the results stay queued and are written shortly.',
      {
        status: 429,
        retryable: true,
      },
    );
  }
}

/** Google Sheets failed or could not be reached (5xx, network); retryable. */
export class SheetsUnavailableError extends AppError {
  constructor(detail: string) {
    super(
      'sheets_unavailable',
      `Google Sheets is not answering (${detail}); the results stay queued and are written later.`,
      {
        status: 503,
        retryable: true,
      },
    );
  }
}

/** The credentials were refused (401): an expired user token with no service account to fall back on. */
export class SheetsUnauthenticatedError extends AppError {
  constructor() {
    super(
      'sheets_unauthenticated',
      'Google refused the credentials for Sheets. Open the sidebar again to renew access, or configure a service account.',
      {
        status: 401,
      },
    );
  }
}

/** The sheet's header row has no Key column, so rows cannot be found safely. */
export class SheetsKeyColumnMissingError extends AppError {
  constructor(sheetName: string) {
    super(
      'sheets_key_column_missing',
      `The sheet "${sheetName}" has no "Key" column in row 1. Add a column named Key (the add-on fills it) and try again.`,
      {
        status: 400,
      },
    );
  }
}

/** Google rejected the request as malformed (400). */
export class SheetsBadRequestError extends AppError {
  constructor(googleMessage: string) {
    super('sheets_bad_request', `Google Sheets rejected the request: ${googleMessage}`, { status: 400 });
  }
}

interface GaxiosLike {
  status?: number;
  code?: string | number;
  response?: { status?: number; data?: { error?: { message?: string } | string } };
}

/** HTTP status of a GaxiosError, if any. */
export function gaxiosStatus(err: unknown): number | undefined {
  const e = err as GaxiosLike | null;
  return e?.response?.status ?? (typeof e?.status === 'number' ? e.status : undefined);
}

/** Turns anything googleapis throws into one of the errors above. Only Google's message text is kept. */
export function translateSheetsError(err: unknown, ctx: { serviceAccountEmail?: string; what: string }): AppError {
  if (err instanceof AppError) return err;
  const e = err as GaxiosLike | null;
  const status = gaxiosStatus(err);
  const data = e?.response?.data;
  const googleMessage =
    typeof data === 'object' && data && typeof data.error === 'object' ? (data.error.message ?? '') : '';
  if (status === 401) return new SheetsUnauthenticatedError();
  if (status === 403) return new SheetsForbiddenError(ctx.serviceAccountEmail);
  if (status === 404) return new SheetsNotFoundError(ctx.what);
  if (status === 429) return new SheetsRateLimitedError();
  if (status !== undefined && status >= 500) return new SheetsUnavailableError(`HTTP ${status}`);
  // Google answers a range naming a missing tab with 400 "Unable to parse range".
  if (status === 400 && googleMessage.startsWith('Unable to parse range')) return new SheetsNotFoundError(ctx.what);
  if (status === 400) return new SheetsBadRequestError(googleMessage.slice(0, 300) || 'bad request');
  if (status !== undefined)
    return new AppError('sheets_error', `Google Sheets answered HTTP ${status}: ${googleMessage.slice(0, 300)}`, {
      status: 502,
    });
  // No HTTP status: a network failure or timeout (error codes like ECONNRESET are safe to repeat).
  const code = typeof e?.code === 'string' ? e.code : 'network error';
  return new SheetsUnavailableError(code);
}
