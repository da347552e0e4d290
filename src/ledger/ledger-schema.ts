/**
 * Table types of the ledger, shared by the migrations and every query, and the state unions the rest of the code
 * sees. Portable across SQLite and PostgreSQL: JSON is stored as text, times as integer milliseconds, booleans as 0/1.
 */
import type { RunMode, RunState } from '../../appsscript/shared/contract';

export type { RunMode, RunState };

/** Row states: pending → sending → created | updated | cancelled | failed | skipped. */
export type RowState = 'pending' | 'sending' | 'created' | 'updated' | 'cancelled' | 'failed' | 'skipped';

/** Rows still to be sent: due (pending) or with a call whose outcome is not recorded (sending). */
export const TO_SEND_STATES = ['pending', 'sending'] as const satisfies readonly RowState[];

/** Runs that are still working. */
export const ACTIVE_RUN_STATES = ['queued', 'running'] as const satisfies readonly RunState[];

/** What a row's call does at Postato. */
export type RowKind = 'create' | 'update' | 'cancel' | 'none';

/** Outcome of one recorded Postato call. `pending` and `unknown` are unresolved: they must be replayed exactly. */
export type AttemptOutcome =
  'pending' | 'unknown' | 'ok' | 'failed' | 'rate_limited' | 'retryable' | 'in_use' | 'resolved';

/** Outcomes not known yet: such an attempt must be replayed exactly before its row may change. */
export const IN_DOUBT_OUTCOMES = ['pending', 'unknown'] as const satisfies readonly AttemptOutcome[];

export interface RunsTable {
  id: string;
  owner_subject: string;
  mode: RunMode;
  state: RunState;
  spreadsheet_id: string;
  sheet_name: string;
  sheet_id: number;
  workspace_id: string;
  tenant_id: string;
  /** The Postato API key sealed with the key vault; null once the run has ended. */
  api_key_sealed: string | null;
  /** The caller's short-lived Google Drive access token (drive.file), sealed like the API key, erased with it. */
  drive_token_sealed: string | null;
  total: number;
  summary_json: string | null;
  created_at: number;
  started_at: number;
  finished_at: number | null;
  /** 1 while the ended run is still to be appended to its spreadsheet's "Postato runs" tab (kept across restarts). */
  tab_due: number;
  /** When the tab row was last taken; a take older than the reclaim age was left by a crash. Null when not taken. */
  tab_taken_at: number | null;
  /** Tries at the tab row so far; the recorder gives up after a few. */
  tab_tries: number;
}

export interface RunRowsTable {
  id: string;
  run_id: string;
  /** Insertion order inside the run, so rows go out in sheet order. */
  ordinal: number;
  spreadsheet_id: string;
  tenant_id: string;
  workspace_id: string;
  row_key: string;
  row_number: number | null;
  kind: RowKind;
  state: RowState;
  /** Exact JSON of the create body or the patch for this row (null for rows not sent). */
  body_json: string | null;
  post_id: string | null;
  /** Calls that failed in a retryable way (5xx, timeout); 429 does not count. */
  failures: number;
  /** 1 once a call was made for this row. */
  sent: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  sheet_status: string | null;
  error: string | null;
  scheduled_at: string | null;
  link: string | null;
  /** Global monotonic sequence of the last result change (the status cursor). */
  result_seq: number;
  /** Version of the row's result; the write-back clears only the version it wrote. */
  version: number;
  written_version: number;
  /** 1 when the write-back found the row key gone from the sheet. */
  removed: number;
  updated_at: number;
  /** Sheets with an Approved column: who the approval of the sent content was seen from, and when. */
  approved_by: string | null;
  approved_at: number | null;
}

export interface AttemptsTable {
  id: string;
  row_id: string;
  run_id: string;
  tenant_id: string;
  workspace_id: string;
  spreadsheet_id: string;
  row_key: string;
  kind: RowKind;
  idempotency_key: string | null;
  body: string | null;
  started_at: number;
  finished_at: number | null;
  outcome: AttemptOutcome;
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
}

/** The post of a sheet row, per tenant: what keeps a row from being created twice. */
export interface PostsByRowTable {
  tenant_id: string;
  workspace_id: string;
  spreadsheet_id: string;
  row_key: string;
  post_id: string;
  body_hash: string | null;
  scheduled_at: string | null;
  status: string | null;
  link: string | null;
  updated_at: number;
}

/** The active run of a tenant's spreadsheet (a lock per tenant, workspace and spreadsheet). */
export interface ActiveSheetsTable {
  tenant_id: string;
  workspace_id: string;
  spreadsheet_id: string;
  run_id: string;
  created_at: number;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface WebhookEventsTable {
  /** The workspace whose secret signed the delivery. */
  workspace_id: string;
  event_id: string;
  received_at: number;
}

/**
 * A verified webhook event whose post no row of its workspace had yet (the create's answer still in flight, or lost
 * and replayed later): kept, bounded in count and age, and applied once that post id is recorded.
 */
export interface WebhookParkedEventsTable {
  /** The workspace whose secret signed the delivery: the event only ever applies to that workspace's rows. */
  workspace_id: string;
  event_id: string;
  post_id: string;
  /** The DeliveryEvent as received (JSON). */
  event_json: string;
  parked_at: number;
}

export interface WebhookSecretsTable {
  id: string;
  workspace_id: string;
  secret: string;
  webhook_id: string | null;
  created_at: number;
}

/** The approval of a sheet row (Approved column): the content fingerprint the first tick covered, from whom, when. */
export interface RowApprovalsTable {
  tenant_id: string;
  workspace_id: string;
  spreadsheet_id: string;
  row_key: string;
  fingerprint: string;
  approved_by: string;
  approved_at: number;
}

export interface SheetAccessTable {
  spreadsheet_id: string;
  ok: number;
  message: string | null;
  updated_at: number;
}

/** A challenge handed out for a proof of access; only its SHA-256 is kept, and it is deleted when used. */
export interface SheetProofChallengesTable {
  challenge_hash: string;
  subject: string;
  spreadsheet_id: string;
  expires_at: number;
}

/** A caller proved they can edit a spreadsheet; valid until expires_at. */
export interface SheetBindingsTable {
  subject: string;
  spreadsheet_id: string;
  proven_at: number;
  expires_at: number;
}

/** A running dispatcher instance (owner id of its leases) and its last heartbeat. */
export interface DispatcherInstancesTable {
  owner_id: string;
  started_at: number;
  heartbeat_at: number;
}

/**
 * A Google Drive file uploaded to Postato, per tenant, workspace, Drive file id and Drive version: what keeps a file
 * used by many rows from being uploaded more than once. `uploading` rows carry the lease of the one worker moving the
 * bytes and, once Postato issued it, the pending media id (confirmed first when a crashed upload is taken over).
 */
export interface DriveMediaTable {
  tenant_id: string;
  workspace_id: string;
  drive_file_id: string;
  drive_version: string;
  state: 'uploading' | 'ready';
  media_id: string | null;
  mime_type: string | null;
  size_bytes: number | null;
  /** Dispatcher instance holding the upload (its heartbeat frees the lease after a crash). */
  lease_owner: string | null;
  /** Unique per upload attempt, so two workers of one instance never both upload. */
  lease_token: string | null;
  lease_until: number | null;
  updated_at: number;
}

/** The whole ledger database. */
export interface LedgerDatabase {
  runs: RunsTable;
  run_rows: RunRowsTable;
  attempts: AttemptsTable;
  posts_by_row: PostsByRowTable;
  active_sheets: ActiveSheetsTable;
  counters: CountersTable;
  webhook_events: WebhookEventsTable;
  webhook_parked_events: WebhookParkedEventsTable;
  webhook_secrets: WebhookSecretsTable;
  sheet_access: SheetAccessTable;
  dispatcher_instances: DispatcherInstancesTable;
  drive_media: DriveMediaTable;
  row_approvals: RowApprovalsTable;
  sheet_proof_challenges: SheetProofChallengesTable;
  sheet_bindings: SheetBindingsTable;
}
