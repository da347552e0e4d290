/**
 * PostatoReadPort over the Postato client: the dry run's view of accounts and scheduled posts. Any failure of these
 * reads means "unavailable" (the dry run carries on and says so), except a refused API key, which the caller must fix.
 */
import { PostatoClient, type Account, type Post } from '../postato/postato-client';
import { PostatoError } from '../postato/postato-errors';
import { UnauthorizedError } from '../errors';
import type { PostatoAccount, PostatoReadPort, ScheduledPostSummary } from '../plan/dry-run-ports';

/** The two reads this adapter needs; PostatoClient has them. */
export interface PostatoListClient {
  listAccounts(workspaceId: string): Promise<Account[] | null>;
  listAllPosts(workspaceId: string, filter: { status: string }): Promise<Post[]>;
}

/** Thrown when Postato refuses the API key; maps to 401 and tells the user what to fix. */
export class PostatoKeyRejectedError extends UnauthorizedError {
  constructor() {
    super(
      'Postato did not accept the API key: check the Postato API key in the add-on settings (it may be mistyped or revoked).',
    );
  }
}

function rethrowIfUnauthorized(err: unknown): void {
  if (err instanceof PostatoError && (err.code === 'unauthorized' || err.httpStatus === 401))
    throw new PostatoKeyRejectedError();
}

/** Adapts a Postato client to PostatoReadPort. */
export function createPostatoReadAdapter(client: PostatoListClient): PostatoReadPort {
  return {
    async listAccounts(workspaceId: string): Promise<PostatoAccount[] | null> {
      try {
        const accounts = await client.listAccounts(workspaceId);
        if (!accounts) return null;
        return accounts.map((a) => ({
          id: a.id,
          platform: a.platform,
          username: a.username ?? a.id,
          ...(a.displayName ? { displayName: a.displayName } : {}),
          status: a.status ?? 'connected',
        }));
      } catch (err) {
        rethrowIfUnauthorized(err);
        return null;
      }
    },
    async listScheduledPosts(workspaceId: string): Promise<ScheduledPostSummary[] | null> {
      try {
        const posts = await client.listAllPosts(workspaceId, { status: 'scheduled' });
        const out: ScheduledPostSummary[] = [];
        for (const p of posts) {
          if (p.status !== 'scheduled' || !p.scheduledAt || !p.accountId) continue;
          out.push({ id: p.id, accountId: p.accountId, platform: p.platform ?? '', scheduledAt: p.scheduledAt });
        }
        return out;
      } catch (err) {
        rethrowIfUnauthorized(err);
        return null;
      }
    },
  };
}

/** A PostatoReadPort for one API key on the given Postato base URL. */
export function postatoReadFor(baseUrl: string, timeoutMs: number): (apiKey: string) => PostatoReadPort {
  return (apiKey) => createPostatoReadAdapter(new PostatoClient({ baseUrl, apiKey, timeoutMs }));
}
