/**
 * GET /v1/accounts?workspaceId=…: the Postato accounts of a workspace, for the add-on's Account dropdown. Postato's
 * account list is not in its public reference, so "not available" is an ordinary answer, not an error.
 */
import { Router } from 'express';
import { z } from 'zod';
import { POSTATO_API_KEY_HEADER, type AccountsResponse, type WorkspaceAccount } from '../../appsscript/shared/contract';
import type { Config } from '../config';
import { BadRequestError } from '../errors';
import { PostatoClient, type Account } from '../postato/postato-client';
import { PostatoError } from '../postato/postato-errors';
import { PostatoKeyRejectedError } from '../runs/postato-read-adapter';
import { getIdentity } from './identity';
import { parsePostatoApiKey } from './run-request-schema';

/** The one Postato read this router needs (PostatoClient has it); null means Postato has no account list. */
export interface AccountLister {
  listAccounts(workspaceId: string): Promise<Account[] | null>;
}

/** What the accounts router needs. */
export interface AccountsRouterDeps {
  config: Config;
  /** Default: a PostatoClient on config.POSTATO_API_URL for the caller's key. */
  postatoFor?: (apiKey: string) => AccountLister;
}

const querySchema = z.object({
  workspaceId: z
    .string({ error: 'is missing: add ?workspaceId=<your Postato workspace id> (it is in the add-on settings).' })
    .trim()
    .min(1, 'is empty: choose a Postato workspace in the add-on settings.')
    .max(200, 'is too long: copy the workspace id again from Postato.'),
});

function toWire(a: Account): WorkspaceAccount {
  return {
    id: a.id,
    platform: a.platform,
    username: a.username ?? a.id,
    ...(a.displayName ? { displayName: a.displayName } : {}),
    status: a.status ?? 'connected',
  };
}

/** Builds the router serving GET /v1/accounts. */
export function createAccountsRouter(deps: AccountsRouterDeps): Router {
  const router = Router();
  const postatoFor =
    deps.postatoFor ??
    ((apiKey: string): AccountLister =>
      new PostatoClient({ baseUrl: deps.config.POSTATO_API_URL, apiKey, timeoutMs: deps.config.POSTATO_TIMEOUT_MS }));

  router.get('/v1/accounts', async (req, res) => {
    getIdentity(res);
    const apiKey = parsePostatoApiKey(req.get(POSTATO_API_KEY_HEADER));
    const parsed = querySchema.safeParse(req.query);
    if (!parsed.success) {
      const fields = z.flattenError(parsed.error).fieldErrors;
      throw new BadRequestError(`workspaceId ${fields.workspaceId?.[0] ?? 'is invalid.'}`, fields);
    }
    let accounts: Account[] | null;
    try {
      accounts = await postatoFor(apiKey).listAccounts(parsed.data.workspaceId);
    } catch (err) {
      // A refused key is the user's to fix; other Postato failures keep their own status and sentence.
      if (err instanceof PostatoError && (err.code === 'unauthorized' || err.httpStatus === 401))
        throw new PostatoKeyRejectedError();
      throw err;
    }
    const body: AccountsResponse =
      accounts === null ? { items: [], available: false } : { items: accounts.map(toWire), available: true };
    res.json(body);
  });
  return router;
}
