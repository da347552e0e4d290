/**
 * "Refresh statuses": for installs Postato cannot reach with webhooks, reads the posts of a spreadsheet that may still
 * move (waiting for approval, scheduled, queued) from Postato and moves their rows as the webhooks would. Bounded per
 * call, a few reads at a time, and it stops at the first 429 so it never eats the tenant's read budget for long.
 */
import type { Post } from '../postato/postato-client';
import { PostatoError } from '../postato/postato-errors';
import type { TenantScope } from '../plan/dry-run-ports';
import type { StatusRefreshStore } from '../ledger/status-refresh-queries';
import { PostatoKeyRejectedError } from './postato-read-adapter';
import type { StatusRefreshResponse } from '../../appsscript/shared/contract';

/** The one read a refresh makes. */
export interface PostReader {
  getPost(workspaceId: string, postId: string): Promise<Post>;
}

/** Reads in flight at once: few, so a refresh never crowds the tenant's other calls. */
const CONCURRENCY = 4;

/** Refreshes up to `limit` posts of the spreadsheet; the answer says how many rows moved and whether more are left. */
export async function refreshStatuses(args: {
  store: StatusRefreshStore;
  client: PostReader;
  scope: TenantScope;
  spreadsheetId: string;
  limit: number;
}): Promise<StatusRefreshResponse> {
  const { store, client, scope, spreadsheetId, limit } = args;
  // One more than the limit tells whether posts are left for a next refresh.
  const posts = await store.postsToRefresh(scope, spreadsheetId, limit + 1);
  const batch = posts.slice(0, limit);
  let checked = 0;
  let changed = 0;
  let unavailable = 0;
  let rateLimited = false;
  let next = 0;
  const worker = async () => {
    while (!rateLimited && next < batch.length) {
      const item = batch[next++]!;
      let post: Post;
      try {
        post = await client.getPost(scope.workspaceId, item.postId);
      } catch (err) {
        if (err instanceof PostatoError && (err.code === 'unauthorized' || err.httpStatus === 401))
          throw new PostatoKeyRejectedError();
        if (err instanceof PostatoError && err.code === 'rate_limited') rateLimited = true;
        else unavailable++;
        continue;
      }
      checked++;
      const result = await store.applyPostStatus(scope, spreadsheetId, item.postId, {
        status: post.status,
        ...(post.error ? { error: post.error } : {}),
        ...(post.platformUrl ? { platformUrl: post.platformUrl } : {}),
        ...(post.approval ? { approval: post.approval } : {}),
      });
      if (result === 'changed') changed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
  const more = posts.length > limit || rateLimited || unavailable > 0;
  return {
    checked,
    changed,
    unavailable,
    more,
    message: refreshMessage(checked, changed, unavailable, rateLimited, posts.length > limit),
  };
}

function refreshMessage(
  checked: number,
  changed: number,
  unavailable: number,
  rateLimited: boolean,
  truncated: boolean,
): string {
  const parts = [
    checked === 0 && unavailable === 0 && !rateLimited
      ? 'No rows are waiting for approval or delivery: nothing to refresh.'
      : `Checked ${checked} post${checked === 1 ? '' : 's'} in Postato; ${changed} row${changed === 1 ? '' : 's'} changed (the sheet shows them within a few seconds).`,
  ];
  if (unavailable > 0)
    parts.push(
      `${unavailable} post${unavailable === 1 ? '' : 's'} could not be read from Postato; refresh again later.`,
    );
  if (rateLimited) parts.push('Postato asked us to slow down, so the rest wait: refresh again in a minute.');
  else if (truncated) parts.push('More rows are waiting: refresh again to check the next ones.');
  return parts.join(' ');
}
