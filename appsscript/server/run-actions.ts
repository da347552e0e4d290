/**
 * The sidebar's actions on runs: dry run, publish (with its confirmation numbers), retry failed rows, reschedule,
 * unschedule, follow and cancel a run. The sheet's active run is remembered per user and spreadsheet, so a
 * reopened sidebar finds it again.
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
import type { ActiveRun, DryRunView, LastRunReport, PublishPreview, RowScope, RunStarted } from '../shared/server-rpc';
import { AddonError, gas } from './apps-script-env';
import { callService } from './service-client';
import { requireRunSettings, type StoredSettings } from './settings';
import { readSheet, selectedRowNumbers, type SheetSnapshot } from './sheet-reader';

const ACTIVE_RUN_PREFIX = 'postato.activeRun.';
const LAST_RUN_PREFIX = 'postato.lastRun.';
/** How long a reopened sidebar still shows the last run's report. */
const LAST_RUN_SHOWN_MS = 24 * 60 * 60 * 1000;
const START_AT_PREFIX = 'postato.startAt.';
const START_AT_TTL_SECONDS = 30 * 60;
const TERMINAL_STATES = new Set(['done', 'cancelled', 'failed']);

function planSettings(s: StoredSettings, startAt?: string): PlanSettings {
  const settings: PlanSettings = {};
  if (s.minGapMinutes !== null) settings.minGapMinutes = s.minGapMinutes;
  if (s.jitterSeconds !== null) settings.jitterSeconds = s.jitterSeconds;
  if (s.timeZone !== '') settings.timeZone = s.timeZone;
  if (startAt) settings.startAt = startAt;
  return settings;
}

/** The row keys a scope covers, or undefined for every row. Throws when the scope selects nothing. */
export function keysForScope(
  snapshot: SheetSnapshot,
  scope: RowScope & { failedOnly?: boolean },
): string[] | undefined {
  let rows: number[] | undefined;
  if (scope.selectedOnly) {
    const sheet = gas().SpreadsheetApp.getActiveSpreadsheet().getActiveSheet();
    rows = selectedRowNumbers(sheet).filter((r) => snapshot.keyByRow.has(r));
    if (rows.length === 0) {
      throw new AddonError(
        'No post rows are selected. Select the rows (click their row numbers) and try again, or untick "Only selected rows".',
      );
    }
  }
  if (scope.failedOnly) {
    const failed = [...snapshot.statusByRow].filter(([, status]) => status === 'FAILED').map(([row]) => row);
    rows = rows ? rows.filter((r) => failed.includes(r)) : failed;
    if (rows.length === 0) {
      throw new AddonError(
        scope.selectedOnly
          ? 'None of the selected rows says FAILED in the Status column, so there is nothing to retry.'
          : 'No row says FAILED in the Status column, so there is nothing to retry.',
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
  startAt?: string,
): RunRequest {
  if (snapshot.rows.length === 0) {
    throw new AddonError(
      `The sheet "${snapshot.sheetName}" has no post rows below the header. Add a row per post and try again.`,
    );
  }
  const request: RunRequest = {
    mode,
    spreadsheetId: snapshot.spreadsheetId,
    sheetName: snapshot.sheetName,
    sheetId: snapshot.sheetId,
    spreadsheetTimeZone: snapshot.spreadsheetTimeZone,
    workspaceId: settings.workspaceId,
    header: snapshot.header,
    rows: snapshot.rows,
    settings: planSettings(settings, startAt),
  };
  if (onlyKeys) request.onlyKeys = onlyKeys;
  return request;
}

/** Reads the sheet, sends a dry run and remembers the planned start so Publish sends the same times. */
export function dryRun(scope: RowScope): DryRunView {
  const settings = requireRunSettings();
  const snapshot = readSheet();
  const onlyKeys = keysForScope(snapshot, scope);
  const response = callService<DryRunResponse>({
    method: 'post',
    path: '/v1/runs',
    apiKey: settings.apiKey,
    body: buildRequest('dry-run', snapshot, settings, onlyKeys),
  });
  // The service may echo the settings it resolved (e.g. the auto-slot start); reuse them so Publish matches.
  const resolvedStart = (response as DryRunResponse & { settings?: PlanSettings }).settings?.startAt;
  const cache = gas().CacheService.getUserCache();
  if (resolvedStart) cache.put(START_AT_PREFIX + snapshot.spreadsheetId, resolvedStart, START_AT_TTL_SECONDS);
  return {
    response,
    sheetName: snapshot.sheetName,
    keysFilled: snapshot.keysFilled,
    keysLeftAlone: snapshot.keysLeftAlone,
    headersAdded: snapshot.headersAdded,
  };
}

/** The confirmation sentence for a publish of the dry run's numbers. */
export function previewSentence(posts: number, accounts: number, days: number, seconds: number): string {
  return `${plural(posts, 'post')} to ${plural(accounts, 'account')} over ${plural(days, 'day')}; about ${formatDuration(seconds)}`;
}

/** Runs a dry run and returns the numbers the Publish confirmation shows. */
export function preparePublish(scope: RowScope): PublishPreview {
  const view = dryRun(scope);
  const summary = view.response.summary;
  const planned = view.response.rows.filter((r) => r.status !== 'INVALID' && !r.postId);
  const accounts = new Set(planned.map((r) => `${r.platform ?? ''}/${r.accountId ?? ''}`)).size;
  const days = new Set(planned.map((r) => (r.plannedLocal ?? r.plannedAt ?? '').slice(0, 10)).filter(Boolean)).size;
  const posts = summary.toSend;
  const seconds = summary.estimatedPublishSeconds;
  return { dryRun: view, posts, accounts, days, seconds, sentence: previewSentence(posts, accounts, days, seconds) };
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

/** Starts publish, reschedule or unschedule on the active sheet and remembers the run. */
export function startRun(mode: Exclude<RunMode, 'dry-run'>, scope: RowScope & { failedOnly?: boolean }): RunStarted {
  const settings = requireRunSettings();
  const snapshot = readSheet();
  refuseWhenKeysLeftAlone(snapshot);
  if (mode === 'unschedule' && !scope.selectedOnly) {
    throw new AddonError(
      'Unschedule only acts on selected rows. Select the rows whose posts should be cancelled and try again.',
    );
  }
  const onlyKeys = keysForScope(snapshot, scope);
  const startAt =
    mode === 'publish'
      ? (gas()
          .CacheService.getUserCache()
          .get(START_AT_PREFIX + snapshot.spreadsheetId) ?? undefined)
      : undefined;
  const accepted = callService<RunAccepted>({
    method: 'post',
    path: '/v1/runs',
    apiKey: settings.apiKey,
    body: buildRequest(mode, snapshot, settings, onlyKeys, startAt),
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

/** Progress of a run since a cursor; forgets the run once it has ended. */
export function runStatus(runId: string, since: string | null): RunStatusResponse {
  const query = since ? `?since=${encodeURIComponent(since)}` : '';
  const status = callService<RunStatusResponse>({
    method: 'get',
    path: `/v1/runs/${encodeURIComponent(runId)}${query}`,
  });
  if (TERMINAL_STATES.has(status.state)) forgetRun(runId);
  return status;
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
