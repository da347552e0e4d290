/**
 * POST /v1/statuses/refresh: the sidebar's "Refresh statuses". Reads from Postato the posts of the caller's spreadsheet
 * that may still move and updates their rows, for installs whose service Postato cannot reach with webhooks. The
 * caller's API key names the tenant: only that tenant's rows of that workspace are read and changed.
 */
import { Router } from 'express';
import { z } from 'zod';
import { POSTATO_API_KEY_HEADER } from '../../appsscript/shared/contract';
import { BadRequestError } from '../errors';
import { getIdentity } from './identity';
import type { Identity } from '../runs/identity';
import { jsonBody } from './hardening';
import { parsePostatoApiKey } from './run-request-schema';
import { tenantIdFor } from '../runs/idempotency-key';
import { refreshStatuses, type PostReader } from '../runs/status-refresh';
import type { StatusRefreshStore } from '../ledger/status-refresh-queries';

const SMALL_BODY = '16kb';

const refreshBody = z.object({
  spreadsheetId: z.string().trim().min(1).max(200),
  workspaceId: z.string().trim().min(1, 'is empty: choose a Postato workspace in the add-on settings.').max(200),
});

/** What the route needs. */
export interface StatusRefreshRouterDeps {
  store: StatusRefreshStore;
  readerFor: (apiKey: string) => PostReader;
  /** Posts read per call at most. */
  maxPosts: number;
  /** Wakes the write-back for the spreadsheet after rows changed. */
  onChanged?: (spreadsheetId: string) => void;
  /** Throws unless the caller proved they can edit the spreadsheet (absent: the service has no Sheets access). */
  requireSheetProof?: (identity: Identity, spreadsheetId: string) => Promise<void>;
}

/** Builds the router. */
export function createStatusRefreshRouter(deps: StatusRefreshRouterDeps): Router {
  const router = Router();
  router.post('/v1/statuses/refresh', ...jsonBody(SMALL_BODY), async (req, res) => {
    const identity = getIdentity(res);
    const apiKey = parsePostatoApiKey(req.get(POSTATO_API_KEY_HEADER));
    const parsed = refreshBody.safeParse(req.body);
    if (!parsed.success) {
      throw new BadRequestError(
        'Send { "spreadsheetId": "<the id from the sheet URL>", "workspaceId": "<the Postato workspace>" }.',
        z.flattenError(parsed.error).fieldErrors,
      );
    }
    const { spreadsheetId, workspaceId } = parsed.data;
    // The refresh writes into the sheet and reports on its rows: only for a caller who proved they edit it.
    await deps.requireSheetProof?.(identity, spreadsheetId);
    const answer = await refreshStatuses({
      store: deps.store,
      client: deps.readerFor(apiKey),
      scope: { tenantId: tenantIdFor(apiKey), workspaceId },
      spreadsheetId,
      limit: deps.maxPosts,
    });
    if (answer.changed > 0) deps.onChanged?.(spreadsheetId);
    res.json(answer);
  });
  return router;
}
