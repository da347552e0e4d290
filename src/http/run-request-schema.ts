/**
 * The strict zod schema of the POST /v1/runs body and of the Postato API key header. The schema is checked against
 * the contract type at compile time, so the two cannot drift; unknown fields are refused.
 */
import { z } from 'zod';
import type { RunRequest } from '../../appsscript/shared/contract';
import { BadRequestError, PayloadTooLargeError } from '../errors';
import { isValidZone } from '../plan/cell-time-parser';

const MAX_COLUMNS = 200;
const MAX_CELL_CHARS = 50_000;
/** Compact rows are small; this only bounds the work one request can ask for. */
const MAX_CONTEXT_ROWS = 200_000;

const cell = z.union([z.string().max(MAX_CELL_CHARS), z.number(), z.boolean(), z.null()]);
const zone = z
  .string()
  .refine(isValidZone, { error: (iss) => `"${String(iss.input)}" is not an IANA time zone (e.g. America/New_York).` });

const settingsSchema = z.strictObject({
  startAt: z.iso
    .datetime({ offset: true, error: 'must be an ISO date-time with an offset, e.g. 2025-06-01T09:00:00Z.' })
    .optional(),
  minGapMinutes: z.number().int().min(0).max(1440).optional(),
  jitterSeconds: z.number().int().min(0).max(3600).optional(),
  timeZone: zone.optional(),
});

/** The POST /v1/runs body. */
export const runRequestSchema = z.strictObject({
  mode: z.enum(['dry-run', 'publish', 'draft', 'reschedule', 'unschedule']),
  spreadsheetId: z.string().min(1).max(200),
  sheetName: z.string().min(1).max(200),
  sheetId: z.number().int().min(0),
  spreadsheetTimeZone: zone,
  workspaceId: z.string().min(1, 'is empty: choose a Postato workspace in the add-on settings.').max(200),
  header: z.array(cell).min(1).max(MAX_COLUMNS),
  rows: z.array(z.strictObject({ rowNumber: z.number().int().min(1), values: z.array(cell).max(MAX_COLUMNS) })),
  contextRows: z
    .array(z.tuple([z.number().int().min(1), z.string().min(1).max(500), cell, cell, cell, cell, cell, cell]))
    .max(MAX_CONTEXT_ROWS, `has more than ${MAX_CONTEXT_ROWS} rows: split the sheet into several tabs.`)
    .optional(),
  settings: settingsSchema.optional(),
  onlyKeys: z.array(z.string().min(1).max(500)).optional(),
});

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Fails to compile when the schema and the contract type differ in any field.
const schemaMatchesContract: Equals<z.infer<typeof runRequestSchema>, RunRequest> = true;
void schemaMatchesContract;

/** Parses a run request; 413 when it has more rows than allowed, 400 naming every bad field otherwise. */
export function parseRunRequest(body: unknown, maxRows: number): RunRequest {
  const rows = (body as { rows?: unknown } | null)?.rows;
  if (Array.isArray(rows) && rows.length > maxRows) {
    throw new PayloadTooLargeError(
      `This run has ${rows.length} rows; the limit is ${maxRows} rows per run. Select fewer rows or split the sheet, then run again.`,
    );
  }
  const parsed = runRequestSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    // One full stop at the end, whether or not the last problem already ends with one.
    throw new BadRequestError(
      `The run request is invalid: ${`${shown}${more}`.replace(/\.$/, '')}.`,
      { issues: problems.slice(0, 50) },
      'invalid_run_request',
    );
  }
  const seen = new Set<number>();
  const rowNumbers = [...parsed.data.rows.map((r) => r.rowNumber), ...(parsed.data.contextRows ?? []).map((r) => r[0])];
  for (const rowNumber of rowNumbers) {
    if (seen.has(rowNumber))
      throw new BadRequestError(
        `Row number ${rowNumber} appears twice in the request: send each sheet row once.`,
        undefined,
        'invalid_run_request',
      );
    seen.add(rowNumber);
  }
  return parsed.data;
}

const API_KEY_FORMAT = /^smcp_[0-9a-f]{64}$/i;

/** Checks the Postato API key header without ever echoing it. */
export function parsePostatoApiKey(value: string | undefined): string {
  if (value === undefined || value.trim() === '') {
    throw new BadRequestError(
      'The Postato API key is missing: paste it in the add-on settings (it is sent in the X-Postato-Api-Key header).',
      undefined,
      'postato_key_missing',
    );
  }
  const key = value.trim();
  if (!API_KEY_FORMAT.test(key)) {
    throw new BadRequestError(
      'The Postato API key is not in the expected format (smcp_ followed by 64 hexadecimal characters): copy it again from Postato.',
      undefined,
      'postato_key_malformed',
    );
  }
  return key;
}

const DRIVE_TOKEN_FORMAT = /^[A-Za-z0-9._~+/=-]{10,4096}$/;

/** Checks the optional Drive access token header without ever echoing it; absent → undefined. */
export function parseDriveAccessToken(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const token = value.trim();
  if (!DRIVE_TOKEN_FORMAT.test(token)) {
    throw new BadRequestError(
      'The Google Drive access token the add-on sent is not in the expected format: reload the sidebar and try again.',
      undefined,
      'drive_token_malformed',
    );
  }
  return token;
}
