/**
 * The sidebar's actions on runs: dry run, the confirmation of every action that changes posts (publish, retry failed
 * rows, reschedule, unschedule) with its counts, the start of a confirmed action on the tab and workspace it was
 * confirmed for, and following and cancelling a run. The sheet's active run is remembered per user and spreadsheet,
 * so a reopened sidebar finds it again.
 */
import type {
  DryRunResponse,
  PlanSettings,
  RunAccepted,
  RunMode,
  RunReport,
  RunRequest,
  RunStatusResponse,
} from '../shared/contract';
import { formatDuration, plural } from '../shared/format';
import type {
  ActionPreview,
  ActionTarget,
  ActiveRun,
  ConfirmedAction,
  DryRunView,
  LastRunReport,
  RescheduleMove,
  RowScope,
  RunAction,
  RunStarted,
  RunUpdate,
} from '../shared/server-rpc';
import type { GasSheet } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';
import { ServiceError, callService } from './service-client';
import { requireRunSettings, type StoredSettings } from './settings';
import { buildRunRequest } from './run-request';
import { findColumns, readSheet, selectedRowNumbers, type SheetSnapshot } from './sheet-reader';
import { ensureStatusLook } from './status-look';

const ACTIVE_RUN_PREFIX = 'postato.activeRun.';
const LAST_RUN_PREFIX = 'postato.lastRun.';
/** How long a reopened sidebar still shows the last run's report. */
const LAST_RUN_SHOWN_MS = 24 * 60 * 60 * 1000;
const TERMINAL_STATES = new Set(['done', 'cancelled', 'failed']);
const MODE_OF: Record<RunAction, Exclude<RunMode, 'dry-run'>> = {
  publish: 'publish',
  'retry-failed': 'publish',
  draft: 'draft',
  reschedule: 'reschedule',
  unschedule: 'unschedule',
};

function planSettings(s: StoredSettings, startAt?: string): PlanSettings {
  const settings: PlanSettings = {};
  if (s.minGapMinutes !== null) settings.minGapMinutes = s.minGapMinutes;
  if (s.jitterSeconds !== null) settings.jitterSeconds = s.jitterSeconds;
  if (s.timeZone !== '') settings.timeZone = s.timeZone;
  if (startAt) settings.startAt = startAt;
  return settings;
}

function targetOf(snapshot: SheetSnapshot, settings: StoredSettings, startAt?: string): ActionTarget {
  const target: ActionTarget = {
    spreadsheetId: snapshot.spreadsheetId,
    spreadsheetName: gas().SpreadsheetApp.getActiveSpreadsheet().getName(),
    sheetId: snapshot.sheetId,
    sheetName: snapshot.sheetName,
    workspaceId: settings.workspaceId,
    timeZone: settings.timeZone || snapshot.spreadsheetTimeZone,
    minGapMinutes: settings.minGapMinutes,
    jitterSeconds: settings.jitterSeconds,
  };
  if (startAt) target.startAt = startAt;
  return target;
}

/** The active tab; an action's target tab is found by its id instead (see sheetById). */
function activeSheet(): GasSheet {
  return gas().SpreadsheetApp.getActiveSpreadsheet().getActiveSheet();
}

/** The tab with this id, or a sentence saying it is gone. */
function sheetById(target: ActionTarget): GasSheet {
  const sheet = gas()
    .SpreadsheetApp.getActiveSpreadsheet()
    .getSheets()
    .find((s) => s.getSheetId() === target.sheetId);
  if (!sheet) {
    throw new AddonError(
      `The tab “${target.sheetName}” you confirmed is no longer in this spreadsheet, so nothing was sent. Open the tab you want and start again.`,
    );
  }
  return sheet;
}

/** Row numbers of the selection on the snapshot's tab, limited to its post rows; throws when that selects nothing. */
function selectedPostRows(snapshot: SheetSnapshot, sheet: GasSheet): number[] {
  const rows = selectedRowNumbers(sheet).filter((r) => snapshot.keyByRow.has(r));
  if (rows.length === 0) {
    throw new AddonError(
      'No post rows are selected. Select the rows (click their row numbers) and try again, or untick "Only selected rows".',
    );
  }
  return rows;
}

/** Statuses Retry sends again: failed rows, and invalid rows the user may have fixed since. */
const RETRY_STATUSES = new Set(['FAILED', 'INVALID']);

/** The row keys a scope covers, or undefined for every row. Throws when the scope selects nothing. */
export function keysForScope(
  snapshot: SheetSnapshot,
  scope: RowScope & { failedOnly?: boolean },
  sheet: GasSheet = activeSheet(),
): string[] | undefined {
  let rows: number[] | undefined;
  if (scope.selectedOnly) rows = selectedPostRows(snapshot, sheet);
  if (scope.failedOnly) {
    const failed = [...snapshot.statusByRow]
      .filter(([row, status]) => RETRY_STATUSES.has(status) && !snapshot.postIdByRow.has(row))
      .map(([row]) => row);
    rows = rows ? rows.filter((r) => failed.includes(r)) : failed;
    if (rows.length === 0) {
      throw new AddonError(
        scope.selectedOnly
          ? 'None of the selected rows says FAILED or INVALID in the Status column, so there is nothing to retry.'
          : 'No row says FAILED or INVALID in the Status column, so there is nothing to retry.',
      );
    }
  }
  return rows?.map((r) => snapshot.keyByRow.get(r)!);
}

function buildRequest(
  mode: RunMode,
  snapshot: SheetSnapshot,
  settings: StoredSettings,
  onlyKeys: string[] | undefined,
  withPosts: boolean,
  startAt?: string,
): RunRequest {
  return buildRunRequest(mode, snapshot, settings.workspaceId, planSettings(settings, startAt), {
    ...(onlyKeys ? { onlyKeys } : {}),
    withPosts,
    nowMs: Date.now(),
  });
}

/** Sends a dry run of `snapshot` and wraps the answer with what the sidebar shows next to it. */
function runDryRun(
  snapshot: SheetSnapshot,
  settings: StoredSettings & { apiKey: string },
  onlyKeys: string[] | undefined,
  withPosts: boolean,
): DryRunView {
  const response = callService<DryRunResponse>({
    method: 'post',
    path: '/v1/runs',
    apiKey: settings.apiKey,
    body: buildRequest('dry-run', snapshot, settings, onlyKeys, withPosts),
  });
  // The service echoes the settings it resolved (the auto-slot start); the action sends them back so Publish matches.
  return {
    response,
    sheetName: snapshot.sheetName,
    target: targetOf(snapshot, settings, response.settings?.startAt),
    keysFilled: snapshot.keysFilled,
    keysLeftAlone: snapshot.keysLeftAlone,
    headersAdded: snapshot.headersAdded,
  };
}

/** Reads `sheet` (filling keys and output headers) and gives its Status column the colours and a frozen header, once. */
function readActionSheet(sheet: GasSheet): SheetSnapshot {
  const snapshot = readSheet(sheet);
  const status = findColumns(snapshot.header).Status;
  if (status !== undefined) ensureStatusLook(sheet, status + 1);
  return snapshot;
}

/** Reads the active tab and sends a dry run. */
export function dryRun(scope: RowScope): DryRunView {
  const settings = requireRunSettings();
  const sheet = activeSheet();
  const snapshot = readActionSheet(sheet);
  // The dry run also sends the posted rows not yet past, so it can say which of them changed since sent.
  return runDryRun(snapshot, settings, keysForScope(snapshot, scope, sheet), true);
}

/** The confirmation sentence for a publish of the dry run's numbers. */
export function previewSentence(posts: number, accounts: number, days: number, seconds: number): string {
  return `${plural(posts, 'post')} to ${plural(accounts, 'account')} over ${plural(days, 'day')}; about ${formatDuration(seconds)}`;
}

/** A row Reschedule changes: the time Postato holds (the Scheduled (UTC) cell) and the planned one. */
function movesOf(view: DryRunView, snapshot: SheetSnapshot): RescheduleMove[] {
  return view.response.rows
    .filter((r) => r.changed && r.status !== 'INVALID' && r.key)
    .map((r) => ({
      rowNumber: r.rowNumber,
      key: r.key!,
      from: snapshot.scheduledUtcByRow.get(r.rowNumber) ?? null,
      to: r.plannedAt ?? null,
    }));
}

/**
 * Reads the active tab and returns what the action's confirmation shows: the target (spreadsheet, tab, workspace,
 * settings), the rows it acts on and the counts. Nothing is sent to Postato.
 */
export function prepareAction(action: RunAction, scope: RowScope): ActionPreview {
  const settings = requireRunSettings();
  const sheet = activeSheet();
  const snapshot = readActionSheet(sheet);
  const counts = { create: 0, reschedule: 0, unschedule: 0, invalid: 0 };
  if (action === 'unschedule') {
    // Unschedule always acts on the selection, whatever "Only selected rows" says.
    const rows = selectedPostRows(snapshot, sheet);
    const posted = rows.filter((r) => snapshot.postIdByRow.has(r));
    if (posted.length === 0) {
      throw new AddonError('None of the selected rows has a Post ID, so there is nothing to unschedule.');
    }
    counts.unschedule = posted.length;
    return {
      action,
      target: targetOf(snapshot, settings),
      onlyKeys: posted.map((r) => snapshot.keyByRow.get(r)!),
      counts,
      moves: [],
      question: `Cancel the scheduled ${plural(posted.length, 'post')} of the selected rows in Postato?`,
      posts: posted.length,
      accounts: 0,
      days: 0,
      seconds: 0,
    };
  }
  // Send as draft always acts on the selection, like Unschedule: it is a test of a few rows.
  const rowScope = action === 'draft' ? { ...scope, selectedOnly: true } : scope;
  const onlyKeys = keysForScope(snapshot, { ...rowScope, failedOnly: action === 'retry-failed' }, sheet);
  const view = runDryRun(snapshot, settings, onlyKeys, action === 'reschedule');
  const summary = view.response.summary;
  if (action === 'reschedule') {
    const moves = movesOf(view, snapshot);
    if (moves.length === 0) {
      throw new AddonError(
        'No row changed since its post was sent, so there is nothing to reschedule. Edit a row’s time or text first.',
      );
    }
    counts.reschedule = moves.length;
    return {
      action,
      target: view.target,
      dryRun: view,
      onlyKeys: moves.map((m) => m.key),
      counts,
      moves,
      question: `Update ${plural(moves.length, 'scheduled post')} in Postato to the sheet’s new times and text?`,
      posts: moves.length,
      accounts: 0,
      days: 0,
      seconds: 0,
    };
  }
  const planned = view.response.rows.filter((r) => r.status !== 'INVALID' && !r.postId);
  const accounts = new Set(planned.map((r) => `${r.platform ?? ''}/${r.accountId ?? ''}`)).size;
  const days = new Set(planned.map((r) => (r.plannedLocal ?? r.plannedAt ?? '').slice(0, 10)).filter(Boolean)).size;
  // Publish also schedules the drafts Send as draft made (their rows show DRAFT and have a Post ID).
  const drafts =
    action === 'publish'
      ? view.response.rows.filter((r) => r.postId && snapshot.statusByRow.get(r.rowNumber) === 'DRAFT').length
      : 0;
  const posts = summary.toSend + drafts;
  const seconds = summary.estimatedPublishSeconds;
  counts.create = posts;
  counts.invalid = summary.invalid;
  const verb = action === 'retry-failed' ? 'Retry' : action === 'draft' ? 'Send as drafts' : 'Publish';
  const preview: ActionPreview = {
    action,
    target: view.target,
    dryRun: view,
    counts,
    moves: [],
    question: `${verb} ${previewSentence(posts, accounts, days, seconds)}?`,
    posts,
    accounts,
    days,
    seconds,
  };
  if (onlyKeys) preview.onlyKeys = onlyKeys;
  return preview;
}

/** Runs a dry run and returns the numbers the Publish confirmation shows (kept for the menu's Publish). */
export function preparePublish(scope: RowScope): ActionPreview {
  return prepareAction('publish', scope);
}

function activeRunKey(spreadsheetId: string): string {
  return ACTIVE_RUN_PREFIX + spreadsheetId;
}

/** A run must not start while rows it would act on have no key because they moved under the add-on's hands. */
function refuseWhenKeysLeftAlone(snapshot: SheetSnapshot): void {
  const rows = snapshot.keysLeftAlone;
  if (rows.length === 0) return;
  throw new AddonError(
    `${rows.length === 1 ? 'Row' : 'Rows'} ${rows.join(', ')} moved or changed while the add-on was filling row keys (a sort or an edit), so ${rows.length === 1 ? 'it was' : 'they were'} left without a key and nothing was sent. Try again.`,
  );
}

/** The confirmed workspace must still be the spreadsheet's: another editor may have changed it meanwhile. */
function refuseWhenWorkspaceChanged(target: ActionTarget, settings: StoredSettings): void {
  if (settings.workspaceId === target.workspaceId) return;
  throw new AddonError(
    `This spreadsheet's Postato workspace changed from ${target.workspaceId} to ${settings.workspaceId || '(none)'} after you confirmed, so nothing was sent. Start again to confirm the new workspace.`,
  );
}

/** Starts a confirmed action on the tab and workspace it was confirmed for, and remembers the run. */
export function startRun(confirmed: ConfirmedAction): RunStarted {
  const settings = requireRunSettings();
  const { target } = confirmed;
  if (target.spreadsheetId !== gas().SpreadsheetApp.getActiveSpreadsheet().getId()) {
    throw new AddonError('This confirmation belongs to another spreadsheet. Start the action again here.');
  }
  refuseWhenWorkspaceChanged(target, settings);
  const snapshot = readSheet(sheetById(target));
  refuseWhenKeysLeftAlone(snapshot);
  const mode = MODE_OF[confirmed.action];
  if (mode === 'unschedule' && !confirmed.onlyKeys?.length) {
    throw new AddonError('Unschedule only acts on selected rows. Select the rows whose posts should be cancelled.');
  }
  const accepted = callService<RunAccepted>({
    method: 'post',
    path: '/v1/runs',
    apiKey: settings.apiKey,
    body: buildRequest(
      mode,
      snapshot,
      settings,
      confirmed.onlyKeys,
      mode !== 'publish',
      mode === 'publish' ? target.startAt : undefined,
    ),
  });
  if (typeof accepted.runId !== 'string' || accepted.runId === '') {
    throw new AddonError(
      'The service accepted the run but did not say which run it is. Reload the sidebar to find it.',
    );
  }
  const run: ActiveRun = {
    runId: accepted.runId,
    mode,
    sheetName: snapshot.sheetName,
    sheetId: snapshot.sheetId,
    workspaceId: target.workspaceId,
    startedAt: new Date().toISOString(),
  };
  gas().PropertiesService.getUserProperties().setProperty(activeRunKey(snapshot.spreadsheetId), JSON.stringify(run));
  return { accepted, run };
}

/** The run this user last started on this spreadsheet and that has not ended yet, or null. */
export function activeRun(): ActiveRun | null {
  const id = gas().SpreadsheetApp.getActiveSpreadsheet().getId();
  const text = gas().PropertiesService.getUserProperties().getProperty(activeRunKey(id));
  if (!text) return null;
  try {
    const run = JSON.parse(text) as ActiveRun;
    return typeof run.runId === 'string' ? run : null;
  } catch {
    return null;
  }
}

function forgetRun(runId: string): void {
  const id = gas().SpreadsheetApp.getActiveSpreadsheet().getId();
  const run = activeRun();
  if (run?.runId !== runId) return;
  const props = gas().PropertiesService.getUserProperties();
  props.deleteProperty(activeRunKey(id));
  // Kept so a sidebar reopened later can still show what the run did.
  props.setProperty(
    LAST_RUN_PREFIX + id,
    JSON.stringify({ runId, sheetName: run.sheetName, endedAt: new Date().toISOString() }),
  );
}

/** The report of the last run followed to its end on this spreadsheet, if that was within a day; else null. */
export function lastRunReport(): LastRunReport | null {
  const id = gas().SpreadsheetApp.getActiveSpreadsheet().getId();
  const text = gas()
    .PropertiesService.getUserProperties()
    .getProperty(LAST_RUN_PREFIX + id);
  if (!text) return null;
  let last: { runId?: unknown; sheetName?: unknown; endedAt?: unknown };
  try {
    last = JSON.parse(text) as typeof last;
  } catch {
    return null;
  }
  if (typeof last.runId !== 'string' || typeof last.endedAt !== 'string') return null;
  if (Date.now() - Date.parse(last.endedAt) > LAST_RUN_SHOWN_MS) return null;
  try {
    const report = callService<RunReport>({ method: 'get', path: `/v1/runs/${encodeURIComponent(last.runId)}/report` });
    return { report, sheetName: typeof last.sheetName === 'string' ? last.sheetName : report.sheetName };
  } catch {
    // A report that can no longer be read (purged, service down) is simply not shown on open.
    return null;
  }
}

/**
 * Progress of a run since a cursor; forgets the run once it has ended. A run the service answers 404 for (purged, or
 * from a service that lost its ledger) is forgotten too, so a reopened sidebar stops showing it as going; the answer
 * then carries the last report this spreadsheet kept, if any.
 */
export function runStatus(runId: string, since: string | null): RunUpdate {
  const query = since ? `?since=${encodeURIComponent(since)}` : '';
  let status: RunStatusResponse;
  try {
    status = callService<RunStatusResponse>({ method: 'get', path: `/v1/runs/${encodeURIComponent(runId)}${query}` });
  } catch (error) {
    if (!(error instanceof ServiceError) || error.status !== 404) throw error;
    const id = gas().SpreadsheetApp.getActiveSpreadsheet().getId();
    if (activeRun()?.runId === runId) gas().PropertiesService.getUserProperties().deleteProperty(activeRunKey(id));
    return {
      gone: true,
      runId,
      message: `The service no longer knows the run ${runId}, so the sidebar stopped following it. The Status column shows what was written back.`,
      last: lastRunReport(),
    };
  }
  if (TERMINAL_STATES.has(status.state)) forgetRun(runId);
  return { gone: false, status };
}

/** Asks the service to send nothing more for a run; what was created stays created. */
export function cancelRun(runId: string): RunStatusResponse | null {
  const answer = callService<Partial<RunStatusResponse>>({
    method: 'post',
    path: `/v1/runs/${encodeURIComponent(runId)}/cancel`,
    body: {},
  });
  forgetRun(runId);
  return typeof answer.runId === 'string' && answer.counts ? (answer as RunStatusResponse) : null;
}
