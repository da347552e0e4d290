/**
 * Routes the add-on calls before a run: which account to share the sheet with, the proof that the caller can edit the
 * spreadsheet (challenge, then verify), and whether the service can edit it (for proven callers only).
 */
import { Router } from 'express';
import { z } from 'zod';
import { BadRequestError } from '../errors';
import { getIdentity } from './identity';
import { jsonBody } from './hardening';
import type { SheetsClient } from '../sheets/sheets-client';
import type { SheetProof } from '../runs/sheet-proof';

/** These routes take a spreadsheet id, nothing more. */
const SMALL_BODY = '16kb';

const spreadsheetId = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/);
const checkAccessBody = z.object({ spreadsheetId });
const verifyBody = z.object({ spreadsheetId, challenge: z.string().min(1).max(200) });

function parseBody<T>(schema: z.ZodType<T>, body: unknown, hint: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BadRequestError(hint, z.flattenError(parsed.error).fieldErrors);
  return parsed.data;
}
const SEND_ID = 'Send { "spreadsheetId": "<the id from the sheet URL>" }.';

/** GET /v1/sheets/service-account and POST /v1/sheets/check-access, for signed-in callers only. */
export function createSheetsRouter(deps: {
  sheetsFor: (spreadsheetId: string) => SheetsClient;
  serviceAccountEmail: string;
  proof: SheetProof;
}): Router {
  const router = Router();

  router.get('/v1/sheets/service-account', (_req, res) => {
    getIdentity(res);
    res.json({ email: deps.serviceAccountEmail });
  });

  router.post('/v1/sheets/proof/challenge', ...jsonBody(SMALL_BODY), async (req, res) => {
    const identity = getIdentity(res);
    const body = parseBody(checkAccessBody, req.body, SEND_ID);
    res.json(await deps.proof.challenge(identity, body.spreadsheetId));
  });

  router.post('/v1/sheets/proof/verify', ...jsonBody(SMALL_BODY), async (req, res) => {
    const identity = getIdentity(res);
    const body = parseBody(
      verifyBody,
      req.body,
      'Send { "spreadsheetId": "<the id from the sheet URL>", "challenge": "<from /v1/sheets/proof/challenge>" }.',
    );
    res.json(await deps.proof.verify(identity, body.spreadsheetId, body.challenge));
  });

  router.post('/v1/sheets/check-access', ...jsonBody(SMALL_BODY), async (req, res) => {
    const identity = getIdentity(res);
    const body = parseBody(checkAccessBody, req.body, SEND_ID);
    // Whether the service can reach a spreadsheet is itself a fact about it: only proven editors learn it.
    await deps.proof.require(identity, body.spreadsheetId);
    res.json(await deps.sheetsFor(body.spreadsheetId).checkAccess(body.spreadsheetId));
  });

  return router;
}
