/** Routes the add-on calls before a run: which account to share the sheet with, and whether the service can edit it. */
import { Router } from 'express';
import { z } from 'zod';
import { BadRequestError } from '../errors';
import { getIdentity } from './identity';
import { jsonBody } from './hardening';
import type { SheetsClient } from '../sheets/sheets-client';

/** These routes take a spreadsheet id, nothing more. */
const SMALL_BODY = '16kb';

const checkAccessBody = z.object({
  spreadsheetId: z
    .string()
    .trim()
    .min(10)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/),
});

/** GET /v1/sheets/service-account and POST /v1/sheets/check-access, for signed-in callers only. */
export function createSheetsRouter(deps: {
  sheetsFor: (spreadsheetId: string) => SheetsClient;
  serviceAccountEmail: string;
}): Router {
  const router = Router();

  router.get('/v1/sheets/service-account', (_req, res) => {
    getIdentity(res);
    res.json({ email: deps.serviceAccountEmail });
  });

  router.post('/v1/sheets/check-access', ...jsonBody(SMALL_BODY), async (req, res) => {
    getIdentity(res);
    const parsed = checkAccessBody.safeParse(req.body);
    if (!parsed.success) {
      throw new BadRequestError(
        'Send { "spreadsheetId": "<the id from the sheet URL>" }.',
        z.flattenError(parsed.error).fieldErrors,
      );
    }
    res.json(await deps.sheetsFor(parsed.data.spreadsheetId).checkAccess(parsed.data.spreadsheetId));
  });

  return router;
}
