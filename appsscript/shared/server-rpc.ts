/**
 * The sidebar's view of the add-on's server functions: one interface, implemented by appsscript/server/index.ts
 * and called through the typed `callServer` bridge in the client. Arguments and results are JSON-safe.
 */
import type {
  DryRunResponse,
  RunAccepted,
  RunMode,
  RunReport,
  RunStatusResponse,
  StatusRefreshResponse,
} from './contract';

/** Settings as the sidebar shows them; the API key itself never leaves the server side. */
export interface SettingsView {
  workspaceId: string;
  apiKeySet: boolean;
  /** Last four characters of the stored key, so the user can tell which key is saved. */
  apiKeyHint: string;
  /** The zone the user chose; empty = the spreadsheet's. */
  timeZone: string;
  spreadsheetTimeZone: string;
  minGapMinutes: number | null;
  jitterSeconds: number | null;
  /** The service account the sheet must be shared with (null until the service answered). */
  serviceAccountEmail: string | null;
  serviceUrl: string;
  /** True for self-hosted installs that authenticate with a shared secret instead of a Google identity token. */
  usesSharedSecret: boolean;
  /** The user's settings from before they belonged to each spreadsheet, offered while this spreadsheet has none. */
  earlier: EarlierSettings | null;
}

/**
 * Workspace, time zone, gap and jitter as this user saved them when they were kept per user (for every spreadsheet).
 * They are offered to a spreadsheet that has no settings of its own, never applied to one without the user's click.
 */
export interface EarlierSettings {
  workspaceId: string;
  timeZone: string;
  minGapMinutes: number | null;
  jitterSeconds: number | null;
}

/** What the user does with their earlier settings: adopt them for this spreadsheet, or drop them. */
export type EarlierSettingsChoice = 'use-here' | 'forget';

/** What the Settings form sends; a blank apiKey keeps the stored one. */
export interface SettingsInput {
  workspaceId: string;
  apiKey?: string;
  timeZone?: string;
  minGapMinutes?: number | null;
  jitterSeconds?: number | null;
}

/** Which rows an action covers. */
export interface RowScope {
  /** Limit to the rows of the current selection. */
  selectedOnly?: boolean;
}

/**
 * What a dry run or a confirmation was shown for: the spreadsheet, the tab (by sheetId, which survives renames and
 * tab switches), the Postato workspace and the spreadsheet's settings. The action sends it back, so it runs on exactly
 * that tab and workspace whatever is active when Confirm is clicked.
 */
export interface ActionTarget {
  spreadsheetId: string;
  spreadsheetName: string;
  sheetId: number;
  sheetName: string;
  workspaceId: string;
  /** The zone times are read in (the spreadsheet's setting, else the spreadsheet's own zone). */
  timeZone: string;
  minGapMinutes: number | null;
  jitterSeconds: number | null;
  /** Auto-slot start the dry run resolved, so Publish plans the very same times. */
  startAt?: string;
}

/** The dry run plus what the sidebar shows next to it. */
export interface DryRunView {
  response: DryRunResponse;
  sheetName: string;
  target: ActionTarget;
  /** Keys the add-on filled into rows that had none. */
  keysFilled: number;
  /** Rows that moved or changed while their keys were being filled: left without a key and not checked this time. */
  keysLeftAlone: number[];
  /** Output column headers the add-on added. */
  headersAdded: string[];
}

/** Actions that change posts, each confirmed with its counts before it starts. */
export type RunAction = 'publish' | 'retry-failed' | 'draft' | 'reschedule' | 'unschedule';

/** A row Reschedule moves, with the time Postato holds and the time it will get (ISO, UTC). */
export interface RescheduleMove {
  rowNumber: number;
  key: string;
  from: string | null;
  to: string | null;
}

/** What a confirmation shows, and what the confirmed action then sends back to rpcStartRun. */
export interface ActionPreview {
  action: RunAction;
  target: ActionTarget;
  /** The dry run behind the numbers (absent for Unschedule, which plans nothing). */
  dryRun?: DryRunView;
  /** The row keys the action acts on, fixed when the confirmation was shown (absent: every row). */
  onlyKeys?: string[];
  counts: { create: number; reschedule: number; unschedule: number; invalid: number };
  /** Reschedule: the rows and their old → new times. */
  moves: RescheduleMove[];
  /** The question, e.g. "Publish 3 posts to 2 accounts over 1 day; about 10 seconds?". */
  question: string;
  /** Posts, accounts, days and seconds of the dry run (Publish and Retry). */
  posts: number;
  accounts: number;
  days: number;
  seconds: number;
}

/** What rpcStartRun needs: the confirmed preview's target and rows. */
export interface ConfirmedAction {
  action: RunAction;
  target: ActionTarget;
  onlyKeys?: string[];
}

/** A finished run's report as a reopened sidebar shows it. */
export interface LastRunReport {
  report: RunReport;
  sheetName: string;
}

/** A run the sidebar follows; stored per spreadsheet so a reopened sidebar finds it again. */
export interface ActiveRun {
  runId: string;
  mode: RunMode;
  sheetName: string;
  /** The tab and workspace the run was confirmed for. */
  sheetId?: number;
  workspaceId?: string;
  startedAt: string;
}

/** One poll of a followed run: its progress, or word that the service no longer knows it. */
export type RunUpdate =
  | { gone: false; status: RunStatusResponse }
  | {
      gone: true;
      runId: string;
      /** Why the sidebar stops following, as a sentence. */
      message: string;
      /** The last report this spreadsheet kept, if any. */
      last: LastRunReport | null;
    };

/** The answer to starting a run. */
export interface RunStarted {
  accepted: RunAccepted;
  run: ActiveRun;
}

/** Actions a menu item asks the sidebar to start when it opens. */
export type SidebarAction = 'dry-run' | 'publish' | 'retry-failed' | 'reschedule' | 'unschedule' | 'settings';

/** Answer of the connection test that follows Save. */
export interface ConnectionTest {
  ok: boolean;
  message: string;
}

/** Answer of "Check access". */
export interface AccessCheck {
  canEdit: boolean;
  message: string;
  serviceAccountEmail: string | null;
}

/** Answer of "Email me this report": `sent` is false (with a sentence saying why) when Google gave no address. */
export interface EmailReportResult {
  sent: boolean;
  /** The address the report went to; null when nothing was sent. */
  to: string | null;
  message: string;
}

/** One selected row "Add media from Drive" writes into, as it was when the Picker opened. */
export interface MediaTargetRow {
  rowNumber: number;
  /** The row's cells other than Media and the output columns: finds the row again if the sheet was sorted meanwhile. */
  identity: string;
}

/** The rows the Picker's files go into: the selection on one tab when the Picker opened. */
export interface MediaTarget {
  sheetId: number;
  sheetName: string;
  rows: MediaTargetRow[];
}

/** What the Picker dialog needs to show Google's Picker for the user, and where the picked files go. */
export interface DrivePickerSetup {
  /** The user's short-lived OAuth token (scope drive.file): the Picker grants it each file the user picks. */
  oauthToken: string;
  /** The deployer's browser API key for the Picker API (script property GOOGLE_PICKER_API_KEY). */
  developerKey: string;
  /** The Cloud project number (script property GOOGLE_CLOUD_PROJECT_NUMBER): drive.file grants go to this app. */
  appId: string;
  target: MediaTarget;
}

/** A file the user picked, as the Picker reports it. */
export interface PickedDriveFile {
  id: string;
  name: string;
  mimeType: string;
}

/** What "Add media from Drive" wrote. */
export interface DriveMediaAdded {
  /** The rows whose Media cell changed. */
  rows: number[];
  /** Files written into the rows (each row counted separately). */
  added: number;
  /** Files a row already named, so not written again. */
  alreadyThere: number;
  message: string;
}

/** Every server function the sidebar may call, with its arguments and result. */
export interface ServerRpc {
  rpcGetSettings(): SettingsView;
  rpcSaveSettings(input: SettingsInput): SettingsView;
  /** Adopts the user's earlier per-user settings for this spreadsheet (then forgets them), or just forgets them. */
  rpcEarlierSettings(choice: EarlierSettingsChoice): SettingsView;
  rpcCheckAccess(): AccessCheck;
  /** Tests the service, the sign-in, the API key and the workspace with one call. */
  rpcTestConnection(): ConnectionTest;
  rpcDryRun(scope: RowScope): DryRunView;
  /** Reads the active tab and returns what the action's confirmation shows; nothing is sent to Postato. */
  rpcPrepareAction(action: RunAction, scope: RowScope): ActionPreview;
  /** Starts a confirmed action on the confirmed tab and workspace. */
  rpcStartRun(confirmed: ConfirmedAction): RunStarted;
  /** Progress since a cursor; a run the service reports as gone is forgotten (answer `gone: true`). */
  rpcRunStatus(runId: string, since: string | null): RunUpdate;
  rpcCancel(runId: string): RunStatusResponse | null;
  rpcActiveRun(): ActiveRun | null;
  /** The report of the last run this user's sidebar followed on this spreadsheet, if it ended in the last day. */
  rpcLastRunReport(): LastRunReport | null;
  rpcSelectRow(sheetName: string, rowNumber: number): boolean;
  rpcInsertTemplate(): string;
  rpcTakePendingAction(): SidebarAction | null;
  rpcEmailReport(runId: string): EmailReportResult;
  /** Reads this spreadsheet's posts that may still move (approval, schedule) back from Postato; no webhooks needed. */
  rpcRefreshStatuses(): StatusRefreshResponse;
  /** "Show rows that need a fix": filters the active tab to the rows whose Status needs a fix, or restores it. */
  rpcShowRowsNeedingFix(on: boolean): { on: boolean; rowsShown: number };
  /** "Add media from Drive": checks the selected rows and opens the Picker dialog on them. */
  rpcOpenDrivePicker(): MediaTarget;
  /** The Picker dialog's set-up: the user's token, the deployer's key and app id, and the selected rows. */
  rpcDrivePickerSetup(): DrivePickerSetup;
  /** Appends the picked files as drive:<id> entries to the target rows' Media cells, under the document lock. */
  rpcAddDriveMedia(target: MediaTarget, files: PickedDriveFile[]): DriveMediaAdded;
}
