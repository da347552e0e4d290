/**
 * The wire contract between the add-on and the service, declared once and imported by both sides.
 * Everything here is JSON-safe: times are ISO-8601 strings, there are no Dates and no classes.
 * The Postato API key never appears in a body: it travels in the `X-Postato-Api-Key` header.
 */

/** Header that carries the user's Postato API key from the add-on to the service. */
export const POSTATO_API_KEY_HEADER = 'x-postato-api-key';
/**
 * The user's short-lived Google Drive access token (drive.file scope), sent by the add-on with Dry run and Publish
 * when rows name Drive files, so the service can read those files and upload them to Postato. Never logged.
 */
export const DRIVE_ACCESS_TOKEN_HEADER = 'x-drive-access-token';
/** Header that carries the shared secret of a self-hosted install. */
export const SHARED_SECRET_HEADER = 'x-shared-secret';

export type CellValue = string | number | boolean | null;

/** `draft`: creates the rows as Postato drafts (nothing is delivered); a later Publish schedules those very posts. */
export type RunMode = 'dry-run' | 'publish' | 'draft' | 'reschedule' | 'unschedule';

/** One data row as read from the sheet, with its 1-based sheet row number at read time. */
export interface SheetRowInput {
  rowNumber: number;
  values: CellValue[];
}

/** Planner settings; every field has a service-side default. */
export interface PlanSettings {
  /** Where auto-slotting starts (ISO with offset). Default: the next full hour after now. */
  startAt?: string;
  /** Minimum minutes between two posts of one account on one day. */
  minGapMinutes?: number;
  /** Upper bound of the per-row jitter, in seconds. */
  jitterSeconds?: number;
  /** Zone that overrides the spreadsheet's zone for rows without their own. */
  timeZone?: string;
}

/** The settings a dry run actually used; send them back on Publish to get the very same times. */
export type ResolvedPlanSettings = Required<PlanSettings>;

/**
 * Another row of the sheet, in compact form: only what the planner needs to keep that row's time slot, see its post
 * and check collisions, never its content. Positional, so thousands of them stay small:
 * `[rowNumber, key, platform, account, scheduledAt, timeZone, postId, scheduledUtc]`, each cell as the sheet holds it
 * (the Scheduled at, Time zone, Post ID and Scheduled (UTC) columns; null when the sheet has no such column).
 */
export type ContextRow = [
  rowNumber: number,
  key: string,
  platform: CellValue,
  account: CellValue,
  scheduledAt: CellValue,
  timeZone: CellValue,
  postId: CellValue,
  scheduledUtc: CellValue,
];

/**
 * POST /v1/runs body.
 *
 * Two shapes, so calendars of any length work:
 * - without `contextRows`: `rows` is every row of the sheet, in full (the older shape; the CSV client sends it);
 * - with `contextRows`: `rows` holds only the rows the action acts on, in full, and `contextRows` the other rows the
 *   plan must see (their slots, posts and keys) in compact form. The service plans both together exactly as it would
 *   plan the whole sheet, and acts on and reports only `rows` (further limited by `onlyKeys` when given). The row
 *   limit (MAX_ROWS_PER_RUN) counts `rows` only. The add-on leaves out posted rows more than two days in the past:
 *   they hold no slot that a new post could collide with. Compact rows carry no text, so the "same text as row N"
 *   warning only compares rows sent in full.
 */
export interface RunRequest {
  mode: RunMode;
  spreadsheetId: string;
  sheetName: string;
  sheetId: number;
  /** The spreadsheet's IANA time zone (Spreadsheet.getSpreadsheetTimeZone()). */
  spreadsheetTimeZone: string;
  /** Postato workspace id. */
  workspaceId: string;
  /** The header row as read. */
  header: CellValue[];
  rows: SheetRowInput[];
  /** The other rows, in compact form (see above); absent = `rows` is the whole sheet. */
  contextRows?: ContextRow[];
  settings?: PlanSettings;
  /** Limit the run to these row keys (Retry failed rows, selected rows). Absent = every row. */
  onlyKeys?: string[];
}

/** Status words users see in the Status column. */
export type SheetStatus =
  | 'READY'
  | 'WARNING'
  | 'INVALID'
  | 'SCHEDULED'
  /** Created in Postato as a draft by Send as draft: nothing is delivered until Publish schedules it. */
  | 'DRAFT'
  /** Postato holds the post for a reviewer (a workspace approval policy matched); it is not delivered until approved. */
  | 'PENDING APPROVAL'
  /** A reviewer rejected the post in Postato (or its approval expired); the Error cell carries the reason. */
  | 'REJECTED'
  | 'QUEUED'
  | 'FAILED'
  | 'SKIPPED'
  | 'PUBLISHED'
  | 'DELIVERY FAILED'
  | 'CANCELLED'
  | 'CHANGED';

export interface RowMessage {
  level: 'error' | 'warning' | 'info';
  /** The sheet column the message is about, by its contract name (e.g. "Content"); `message` already starts with it. */
  column?: string;
  message: string;
}

/** The dry-run verdict for one row. */
export interface RowVerdict {
  rowNumber: number;
  key: string | null;
  status: 'READY' | 'WARNING' | 'INVALID';
  messages: RowMessage[];
  platform?: string;
  accountId?: string;
  postType?: string;
  /** Planned time in UTC (ISO with Z). */
  plannedAt?: string;
  /** Planned time in the row's zone (ISO with offset). */
  plannedLocal?: string;
  timeZone?: string;
  /** Post ID already known for this row (sheet or ledger); such rows are not planned again. */
  postId?: string;
  /** Where plannedAt came from: the Scheduled at cell, auto-slotting, "now", or an existing post. */
  timeSource?: 'sheet' | 'auto' | 'now' | 'existing';
  /** CHANGED: the row's content or time differs from the post Postato holds; Reschedule changed rows applies it. */
  changed?: true;
}

export interface CountByPlatformAccountDay {
  platform: string;
  accountId: string;
  /** Calendar day in the row's zone, YYYY-MM-DD. */
  day: string;
  count: number;
}

/** A planned post that falls within the gap of a post already scheduled in Postato. */
export interface Collision {
  rowNumber: number;
  key: string | null;
  accountId: string;
  plannedAt: string;
  existingPostId: string;
  existingScheduledAt: string;
}

export interface DryRunSummary {
  total: number;
  ready: number;
  warning: number;
  invalid: number;
  /** Rows that already have a post and are left alone. */
  alreadyPosted: number;
  /** Rows that Publish would send. */
  toSend: number;
  earliest?: string;
  latest?: string;
  counts: CountByPlatformAccountDay[];
  warnings: string[];
  collisions: Collision[];
  /** False when Postato's account list did not answer and the account check was skipped. */
  accountsChecked: boolean;
  collisionsChecked: boolean;
  /** Seconds Publish needs to create `toSend` posts under Postato's creation limit. */
  estimatedPublishSeconds: number;
  /** One sentence on how creation is spread under the limit. */
  pacing: string;
  /** Notes that need no action (unknown columns ignored, and the like). */
  info?: string[];
  /** Rows marked CHANGED (edited since their post was sent); absent when none. */
  changed?: number;
  /**
   * Sheets with an Approved column only: rows Publish leaves out because they are not approved (`unapproved`) or were
   * edited after their approval (`edited`). Absent when the sheet has no Approved column.
   */
  unapproved?: Array<{ rowNumber: number; key: string; reason: 'unapproved' | 'edited' }>;
}

export interface DryRunResponse {
  mode: 'dry-run';
  rows: RowVerdict[];
  summary: DryRunSummary;
  /** The settings used (startAt resolved); send them back on Publish. */
  settings?: ResolvedPlanSettings;
}

/** 202 answer to publish, reschedule and unschedule. */
export interface RunAccepted {
  runId: string;
  /** True when an active run of the same sheet already existed and this request joined it. */
  joined: boolean;
  summary?: DryRunSummary;
}

export type RunState = 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

export interface RunCounts {
  total: number;
  pending: number;
  sent: number;
  created: number;
  failed: number;
  skipped: number;
}

/** A row's latest result, as the sheet should show it. */
export interface RowResult {
  key: string;
  rowNumber: number | null;
  status: SheetStatus;
  postId?: string;
  error?: string;
  scheduledAtUtc?: string;
  link?: string;
  updatedAt: string;
}

/** GET /v1/runs/:id answer. */
export interface RunStatusResponse {
  runId: string;
  mode: RunMode;
  state: RunState;
  spreadsheetId: string;
  sheetName: string;
  counts: RunCounts;
  startedAt: string;
  finishedAt?: string;
  etaSeconds?: number;
  /** Results changed since the request's cursor, oldest first. */
  results: RowResult[];
  /** Pass back as ?since= to get only newer results. */
  cursor: string;
  /** Present when the write-back cannot reach the sheet. */
  sheetAccess?: { ok: boolean; message?: string };
  /** The end-of-run report, present once the run has ended (done, cancelled or failed). */
  report?: RunReport;
}

/** A row that failed in a run, with the reason shown in its Error cell. */
export interface RunReportRow {
  key: string;
  rowNumber: number | null;
  message: string;
}

/** GET /v1/runs/:id/report answer: what went out, what failed and why, what was removed from the sheet. */
export interface RunReport {
  runId: string;
  mode: RunMode;
  state: RunState;
  spreadsheetId: string;
  sheetName: string;
  sheetId: number;
  startedAt: string;
  finishedAt?: string;
  /** Seconds from start to end (or to now while the run is still going). */
  durationSeconds: number;
  counts: RunCounts;
  /** Failed rows in sheet order (at most 500; failedTotal has the full count). */
  failed: RunReportRow[];
  failedTotal: number;
  /** Rows whose key was gone from the sheet when the result was written: their result is only in the ledger. */
  removed: RunReportRow[];
  /** Warnings of the plan the run was started from, plus anything the run itself noticed. */
  warnings: string[];
  /** Sheet URL fragment selecting the first failed row, e.g. `#gid=0&range=A7`. */
  firstFailedLink?: string;
  /**
   * Sheets with an Approved column: the rows this run sent and who approved them when (the address the tick was first
   * seen from, and the time, ISO UTC). At most 500.
   */
  approved?: Array<{ key: string; rowNumber: number | null; approvedBy: string; approvedAt: string }>;
}

/** Every error body the service returns. */
export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

/** One Postato account of a workspace, as GET /v1/accounts lists it. */
export interface WorkspaceAccount {
  id: string;
  /** Postato's platform name (`x` is reported as `twitter`). */
  platform: string;
  username: string;
  displayName?: string;
  /** connected | token_expired | suspended */
  status: string;
}

/** GET /v1/accounts?workspaceId=… answer; `available` is false when Postato does not list accounts (items is then empty). */
export interface AccountsResponse {
  items: WorkspaceAccount[];
  available: boolean;
}

/** POST /v1/statuses/refresh body: the spreadsheet whose waiting rows to check in Postato, under this workspace. */
export interface StatusRefreshRequest {
  spreadsheetId: string;
  workspaceId: string;
}

/** POST /v1/statuses/refresh answer. */
export interface StatusRefreshResponse {
  /** Posts read from Postato. */
  checked: number;
  /** Rows whose status moved (the write-back puts them in the sheet). */
  changed: number;
  /** Posts Postato could not answer for this time. */
  unavailable: number;
  /** True when rows are left for another refresh (over the per-call bound, slowed down, or unavailable). */
  more: boolean;
  /** One sentence for the sidebar. */
  message: string;
}

/**
 * Proof of access to a spreadsheet: the service hands out a challenge, the add-on writes it as document-visible
 * developer metadata with this key on the spreadsheet (only an editor can), and the service reads it back.
 */
export const SHEET_PROOF_METADATA_KEY = 'postato-sheets.proof';

/** The error code the service answers when the caller has not (or no longer) proved they can edit the spreadsheet. */
export const PROOF_REQUIRED = 'proof_required';

/** POST /v1/sheets/proof/challenge answers this. */
export interface SheetProofChallenge {
  challenge: string;
  metadataKey: string;
  expiresAt: string;
}

/** POST /v1/sheets/proof/verify answers this once the challenge was found in the spreadsheet. */
export interface SheetProofVerified {
  spreadsheetId: string;
  provenUntil: string;
}
