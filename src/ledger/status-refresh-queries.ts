/**
 * Status refresh in the ledger: which posts of a tenant's spreadsheet may still move at Postato (waiting for approval,
 * scheduled or queued), and applying what Postato says about one of them to the row that shows it, as a webhook
 * event would. For installs Postato cannot reach with webhooks.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { TenantScope } from '../plan/dry-run-ports';
import { REFRESHABLE_STATUSES, sheetChangeOfPost, type PostSnapshot } from '../sheet-status';
import type { LedgerDatabase, RunRowsTable } from './ledger-schema';
import { changeCurrentRow, type SetResultIn } from './row-change';
import { statusForState, type ResultChange } from './run-ledger';

/** A post whose row may still change. */
export interface PostToRefresh {
  rowKey: string;
  postId: string;
  status: string;
}

/** What the status refresh needs from the ledger. */
export interface StatusRefreshStore {
  /** Up to `limit` posts of the spreadsheet still waiting, scheduled or queued; least recently checked first. */
  postsToRefresh(scope: TenantScope, spreadsheetId: string, limit: number): Promise<PostToRefresh[]>;
  /** Applies the post as Postato holds it now to its row; 'changed' when the row's status moved. */
  applyPostStatus(
    scope: TenantScope,
    spreadsheetId: string,
    postId: string,
    post: PostSnapshot,
  ): Promise<'changed' | 'unchanged' | 'unknown_post'>;
}

/** StatusRefreshStore over posts_by_row and run_rows, always under the caller's tenant and workspace. */
export function createStatusRefreshQueries(
  db: Kysely<LedgerDatabase>,
  clock: Clock,
  setResultIn: SetResultIn,
): StatusRefreshStore {
  return {
    async postsToRefresh(scope, spreadsheetId, limit) {
      const rows = await db
        .selectFrom('posts_by_row')
        .select(['row_key', 'post_id', 'status'])
        .where('tenant_id', '=', scope.tenantId)
        .where('workspace_id', '=', scope.workspaceId)
        .where('spreadsheet_id', '=', spreadsheetId)
        .where('status', 'in', [...REFRESHABLE_STATUSES])
        .orderBy('updated_at', 'asc')
        .orderBy('row_key', 'asc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ rowKey: r.row_key, postId: r.post_id, status: r.status ?? '' }));
    },

    async applyPostStatus(scope, spreadsheetId, postId, post) {
      return db.transaction().execute(async (trx) => {
        const applied = await changeCurrentRow(
          trx,
          setResultIn,
          () =>
            trx
              .selectFrom('run_rows')
              .selectAll()
              .where('tenant_id', '=', scope.tenantId)
              .where('workspace_id', '=', scope.workspaceId)
              .where('spreadsheet_id', '=', spreadsheetId)
              .where('post_id', '=', postId)
              .orderBy('result_seq', 'desc')
              .limit(1)
              .executeTakeFirst(),
          (row) => resultOfPost(post, row),
        );
        if (!applied) return 'unknown_post' as const;
        const now = clock.now();
        const change = applied.change;
        const link = change?.link ?? undefined;
        // Touched even when nothing changed, so a bounded refresh checks the others first next time.
        await trx
          .updateTable('posts_by_row')
          .set({
            ...(change?.sheetStatus ? { status: change.sheetStatus } : {}),
            ...(link ? { link } : {}),
            updated_at: now,
          })
          .where('tenant_id', '=', scope.tenantId)
          .where('workspace_id', '=', scope.workspaceId)
          .where('spreadsheet_id', '=', spreadsheetId)
          .where('post_id', '=', postId)
          .execute();
        return change ? ('changed' as const) : ('unchanged' as const);
      });
    },
  };
}

/** The result Postato's view of a post gives the row that shows it, decided from the row's current status. */
function resultOfPost(post: PostSnapshot, row: RunRowsTable): ResultChange | undefined {
  const change = sheetChangeOfPost(post, row.sheet_status ?? statusForState(row.state));
  if (!change) return undefined;
  const link = change.status === 'PUBLISHED' ? post.platformUrl : undefined;
  return {
    state: row.state,
    keepLease: true,
    sheetStatus: change.status,
    ...(change.error !== undefined ? { error: change.error } : {}),
    ...(link ? { link } : {}),
  };
}
