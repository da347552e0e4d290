/**
 * Approvals of sheet rows (the optional Approved column) in the ledger: the first tick seen records the row's content
 * fingerprint, from whom and when; an unticked box forgets it; a ticked row whose content moved on is `edited`.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { ApprovalObservation, ApprovalPort } from '../plan/dry-run-ports';
import type { RowApproval } from '../plan/row-approval';
import type { LedgerDatabase } from './ledger-schema';

/** Keys per query, under every dialect's bind-variable limit. */
const CHUNK = 400;

/** ApprovalPort over row_approvals, always under the caller's tenant and workspace. */
export function createApprovalQueries(db: Kysely<LedgerDatabase>, clock: Clock): ApprovalPort {
  return {
    async review(scope, spreadsheetId, rows, seenFrom) {
      const out = new Map<string, RowApproval>();
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        await db.transaction().execute(async (trx) => {
          const stored = new Map(
            (
              await trx
                .selectFrom('row_approvals')
                .selectAll()
                .where('tenant_id', '=', scope.tenantId)
                .where('workspace_id', '=', scope.workspaceId)
                .where('spreadsheet_id', '=', spreadsheetId)
                .where(
                  'row_key',
                  'in',
                  chunk.map((r) => r.rowKey),
                )
                .execute()
            ).map((r) => [r.row_key, r]),
          );
          const now = clock.now();
          const untick: string[] = [];
          const fresh: ApprovalObservation[] = [];
          for (const row of chunk) {
            const had = stored.get(row.rowKey);
            if (!row.ticked) {
              if (had) untick.push(row.rowKey);
              out.set(row.rowKey, { state: 'unapproved' });
            } else if (!had) {
              fresh.push(row);
              out.set(row.rowKey, { state: 'approved', approvedBy: seenFrom, approvedAt: now });
            } else {
              out.set(row.rowKey, {
                state: had.fingerprint === row.fingerprint ? 'approved' : 'edited',
                approvedBy: had.approved_by,
                approvedAt: Number(had.approved_at),
              });
            }
          }
          if (untick.length > 0)
            await trx
              .deleteFrom('row_approvals')
              .where('tenant_id', '=', scope.tenantId)
              .where('workspace_id', '=', scope.workspaceId)
              .where('spreadsheet_id', '=', spreadsheetId)
              .where('row_key', 'in', untick)
              .execute();
          if (fresh.length > 0)
            await trx
              .insertInto('row_approvals')
              .values(
                fresh.map((r) => ({
                  tenant_id: scope.tenantId,
                  workspace_id: scope.workspaceId,
                  spreadsheet_id: spreadsheetId,
                  row_key: r.rowKey,
                  fingerprint: r.fingerprint,
                  approved_by: seenFrom,
                  approved_at: now,
                })),
              )
              // Two plans at once may both see the first tick: the first record stands.
              .onConflict((oc) => oc.doNothing())
              .execute();
        });
      }
      return out;
    },
  };
}
