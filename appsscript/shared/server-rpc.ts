/**
 * The sidebar's view of the add-on's server functions: one interface, implemented by appsscript/server/index.ts
 * and called through the typed `callServer` bridge in the client. Arguments and results are JSON-safe.
 */
import type { DryRunResponse, RunAccepted, RunMode, RunReport, RunStatusResponse } from './contract';

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
}

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

/** The dry run plus what the sidebar shows next to it. */
export interface DryRunView {
  response: DryRunResponse;
  sheetName: string;
  /** Keys the add-on filled into rows that had none. */
  keysFilled: number;
  /** Rows that moved or changed while their keys were being filled: left without a key and not checked this time. */
  keysLeftAlone: number[];
  /** Output column headers the add-on added. */
  headersAdded: string[];
}

/** Numbers for the Publish confirmation ("143 posts to 6 accounts over 3 days; about 72 seconds"). */
export interface PublishPreview {
  dryRun: DryRunView;
  posts: number;
  accounts: number;
  days: number;
  seconds: number;
  sentence: string;
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
  startedAt: string;
}

/** The answer to starting a run. */
export interface RunStarted {
  accepted: RunAccepted;
  run: ActiveRun;
}

/** Actions a menu item asks the sidebar to start when it opens. */
export type SidebarAction = 'dry-run' | 'publish' | 'retry-failed' | 'reschedule' | 'unschedule' | 'settings';

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

/** Every server function the sidebar may call, with its arguments and result. */
export interface ServerRpc {
  rpcGetSettings(): SettingsView;
  rpcSaveSettings(input: SettingsInput): SettingsView;
  rpcCheckAccess(): AccessCheck;
  rpcDryRun(scope: RowScope): DryRunView;
  rpcPreparePublish(scope: RowScope): PublishPreview;
  rpcStartRun(mode: Exclude<RunMode, 'dry-run'>, scope: RowScope & { failedOnly?: boolean }): RunStarted;
  rpcRunStatus(runId: string, since: string | null): RunStatusResponse;
  rpcCancel(runId: string): RunStatusResponse | null;
  rpcActiveRun(): ActiveRun | null;
  /** The report of the last run this user's sidebar followed on this spreadsheet, if it ended in the last day. */
  rpcLastRunReport(): LastRunReport | null;
  rpcSelectRow(sheetName: string, rowNumber: number): boolean;
  rpcInsertTemplate(): string;
  rpcTakePendingAction(): SidebarAction | null;
  rpcEmailReport(runId: string): EmailReportResult;
}
