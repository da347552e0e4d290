/**
 * The dry-run service: gathers what the pure planner needs (now, Postato's accounts and scheduled posts, the
 * ledger's known posts), runs it, and shapes the answer. Publish calls planRun too, so it sends exactly this plan.
 */
import type { DryRunResponse, RunRequest } from '../../appsscript/shared/contract';
import type { Clock } from '../clock';
import { planSheet, type PlanDefaults, type PlannedRun } from '../plan/sheet-planner';
import { cellText, mapHeader } from '../plan/sheet-contract';
import type {
  ApprovalPort,
  DriveFilesPort,
  KnownPost,
  KnownPostsPort,
  PostatoReadPort,
  TenantScope,
} from '../plan/dry-run-ports';
import { approvalFingerprint, isApprovedCell, type RowApproval } from '../plan/row-approval';
import type { ColumnMap } from '../plan/sheet-contract';
import { parseMediaEntry, splitMedia } from '../plan/media-refs';

export type { PlannedRow, PlannedRun } from '../plan/sheet-planner';
export type { ResolvedPlanSettings } from '../../appsscript/shared/contract';

/** What planRun reads besides the request. */
export interface PlanContext {
  clock: Clock;
  postato?: PostatoReadPort | null;
  knownPosts?: KnownPostsPort | null;
  /** The tenant (hash of the caller's API key) whose known posts the plan may see; required with `knownPosts`. */
  tenantId?: string;
  defaults: PlanDefaults;
  /** Records and answers approvals when the sheet has an Approved column (needs `tenantId`). */
  approvals?: ApprovalPort | null;
  /** Who the caller is, as the approval record names them. */
  caller?: string;
  /** The caller's Drive files (null: the request carried no Drive access); absent: Drive files are not checked. */
  drive?: DriveFilesPort | null;
  /** DRIVE_MEDIA_MAX_BYTES, for requests without Drive access. */
  driveMaxBytes?: number;
}

/** The Drive file ids the rows' Media cells name. */
function driveFileIds(request: RunRequest): string[] {
  const map = mapHeader(request.header);
  if (map.index.Media === undefined) return [];
  const ids = new Set<string>();
  for (const r of request.rows)
    for (const entry of splitMedia(cellText(r.values, map, 'Media'))) {
      const parsed = parseMediaEntry(entry);
      if (parsed.ok && parsed.ref.driveFileId) ids.add(parsed.ref.driveFileId);
    }
  return [...ids];
}

/** Plans a run: validates every row, places every post, reports. Throws only for a bad sheet or a refused API key. */
export async function planRun(request: RunRequest, ctx: PlanContext): Promise<PlannedRun> {
  const nowMs = ctx.clock.now();
  const map = mapHeader(request.header);
  const keys = [...new Set(request.rows.map((r) => cellText(r.values, map, 'Key')).filter((k) => k !== ''))];
  if (ctx.knownPosts && !ctx.tenantId) throw new Error('planRun needs the tenant to look up known posts.');
  const driveIds = ctx.drive !== undefined ? driveFileIds(request) : [];
  const [accounts, scheduledPosts, knownPosts, driveFiles] = await Promise.all([
    ctx.postato ? ctx.postato.listAccounts(request.workspaceId) : Promise.resolve(null),
    ctx.postato ? ctx.postato.listScheduledPosts(request.workspaceId) : Promise.resolve(null),
    ctx.knownPosts && keys.length > 0
      ? ctx.knownPosts.knownPosts(
          { tenantId: ctx.tenantId!, workspaceId: request.workspaceId },
          request.spreadsheetId,
          keys,
        )
      : Promise.resolve(new Map<string, KnownPost>()),
    driveIds.length > 0 && ctx.drive ? ctx.drive.describe(driveIds) : Promise.resolve(null),
  ]);
  const drive =
    driveIds.length === 0
      ? undefined
      : { files: driveFiles, maxBytes: ctx.drive?.maxBytes ?? ctx.driveMaxBytes ?? Number.MAX_SAFE_INTEGER };
  const approvals =
    map.index.Approved === undefined
      ? null
      : await reviewApprovals(request, map, ctx, { tenantId: ctx.tenantId ?? '', workspaceId: request.workspaceId });
  const asDrafts = request.mode === 'draft';
  return planSheet({
    request,
    nowMs,
    defaults: ctx.defaults,
    accounts,
    scheduledPosts,
    knownPosts,
    approvals,
    asDrafts,
    drive,
  });
}

/**
 * The approvals of the rows this action acts on (the others may arrive in compact form, without their content). With
 * no ledger to remember fingerprints, a tick alone approves; an unticked row is never approved.
 */
async function reviewApprovals(
  request: RunRequest,
  map: ColumnMap,
  ctx: PlanContext,
  scope: TenantScope,
): Promise<Map<string, RowApproval>> {
  const only = request.onlyKeys ? new Set(request.onlyKeys) : null;
  const observations = new Map<string, { rowKey: string; ticked: boolean; fingerprint: string }>();
  for (const r of request.rows) {
    const key = cellText(r.values, map, 'Key');
    if (key === '' || observations.has(key) || (only && !only.has(key))) continue;
    const i = map.index.Approved!;
    observations.set(key, {
      rowKey: key,
      ticked: isApprovedCell(r.values[i]),
      fingerprint: approvalFingerprint(r.values, map),
    });
  }
  const rows = [...observations.values()];
  if (ctx.approvals && ctx.tenantId)
    return ctx.approvals.review(scope, request.spreadsheetId, rows, ctx.caller ?? 'unknown');
  return new Map(rows.map((o) => [o.rowKey, { state: o.ticked ? 'approved' : 'unapproved' }]));
}

/** The dry-run answer for the add-on. */
export function toDryRunResponse(planned: PlannedRun): DryRunResponse {
  return {
    mode: 'dry-run',
    rows: planned.rows.map((r) => r.verdict),
    summary: planned.summary,
    settings: planned.settings,
  };
}
