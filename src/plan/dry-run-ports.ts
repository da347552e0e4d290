/**
 * What the dry run needs from outside the pure planner: Postato's view of accounts and scheduled posts, and the
 * ledger's knowledge of rows that already have a post. Adapters implement these over the Postato client and the ledger.
 */
import type { RowApproval } from './row-approval';

export interface PostatoAccount {
  id: string;
  platform: string;
  username: string;
  displayName?: string;
  /** connected | token_expired | suspended */
  status: string;
}

export interface ScheduledPostSummary {
  id: string;
  accountId: string;
  platform: string;
  /** UTC ISO-8601. */
  scheduledAt: string;
}

export interface PostatoReadPort {
  /** The workspace's accounts, or null when Postato's account list is unavailable (the check is then skipped). */
  listAccounts(workspaceId: string): Promise<PostatoAccount[] | null>;
  /** Every post with status `scheduled` in the workspace (all pages), or null when the list is unavailable. */
  listScheduledPosts(workspaceId: string): Promise<ScheduledPostSummary[] | null>;
}

/**
 * Whose data a row is: the Postato tenant behind the API key (`tnt_…` hash) and the workspace. Every lookup by
 * spreadsheet id and row key also filters by this, since both are known to anyone who can view a sheet.
 */
export interface TenantScope {
  tenantId: string;
  workspaceId: string;
}

/** A post the ledger already holds for a row of this sheet. */
export interface KnownPost {
  rowKey: string;
  postId: string;
  /** UTC ISO-8601 the post was scheduled for, when known. */
  scheduledAt?: string;
  /** The exact content hash sent (to tell CHANGED rows apart). */
  bodyHash?: string;
  /** The post's last known sheet status (SCHEDULED, PUBLISHED, CANCELLED, …), when the ledger has one. */
  status?: string;
}

export interface KnownPostsPort {
  /** Posts the ledger knows for these row keys of the tenant's spreadsheet (never another tenant's). */
  knownPosts(scope: TenantScope, spreadsheetId: string, rowKeys: string[]): Promise<Map<string, KnownPost>>;
}

/** One acted-on row of a sheet with an Approved column, as planRun hands it to the ledger. */
export interface ApprovalObservation {
  rowKey: string;
  ticked: boolean;
  fingerprint: string;
}

export interface ApprovalPort {
  /**
   * Records what this look at the sheet shows and answers each row's approval: a first tick records the content
   * fingerprint, who it was seen from and when; an unticked box forgets the approval; a ticked row whose content no
   * longer matches is `edited`.
   */
  review(
    scope: TenantScope,
    spreadsheetId: string,
    rows: ApprovalObservation[],
    seenFrom: string,
  ): Promise<Map<string, RowApproval>>;
}

/** What the dry run learned about one Drive file: its metadata, or why it cannot be read (a sentence with the fix). */
export type DriveFileInfo =
  { ok: true; name: string; mimeType: string; sizeBytes: number; durationMs?: number } | { ok: false; problem: string };

/** Drive files as the caller's token sees them (metadata only; no bytes are read by a dry run). */
export interface DriveFilesPort {
  /** One entry per id; never throws for a file it cannot read (that is an `ok: false` entry). */
  describe(fileIds: string[]): Promise<Map<string, DriveFileInfo>>;
  /** The largest file the service moves (DRIVE_MEDIA_MAX_BYTES). */
  maxBytes: number;
}
