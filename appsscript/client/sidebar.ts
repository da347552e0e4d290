/**
 * The sidebar: Dry run, and Publish, Retry, Reschedule and Unschedule each behind a confirmation that names the
 * spreadsheet, tab and workspace with the counts; a live progress bar that backs off while nothing moves; the run
 * report (with "Retry N failed rows" and "Email me this report"); "Add media from Drive" (opens the Picker dialog on the
 * selected rows); and Settings. Every server call goes through callServer; buttons are disabled while one runs, so the
 * sidebar stays responsive.
 */
import type { DryRunResponse, RunReport, RunStatusResponse } from '../shared/contract';
import { plural, rowList } from '../shared/format';
import { approvalLines, moreFailedLine, reportSentence } from '../shared/report-format';
import type {
  ActionPreview,
  ActiveRun,
  DryRunView,
  RowScope,
  RunAction,
  RunUpdate,
  EarlierSettingsChoice,
  SettingsView,
  SidebarAction,
} from '../shared/server-rpc';
import { callServer } from './call-server';
import { changedRowsLine, rowTag } from './changed-rows';
import { actionCounts, confirmLabel, settingsLine, targetLine } from './confirm-format';
import { earlierSettingsLine } from './earlier-settings-format';
import { MAX_FAILED_POLLS, PollSchedule, progressFingerprint } from './poll-schedule';
import { countsLine, percentDone, stateLine } from './progress';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

let settings: SettingsView | null = null;
let busy = 0;
let following: string | null = null;
/** Wakes the follow loop early (after an action), instead of waiting out the backoff. */
let wakeFollow: (() => void) | null = null;
const schedule = new PollSchedule();

function el(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function notify(kind: 'error' | 'info' | 'busy' | null, text = ''): void {
  const box = $('notice');
  box.hidden = kind === null;
  box.className = `notice ${kind ?? ''}`;
  box.textContent = text;
}

function setBusy(on: boolean): void {
  busy += on ? 1 : -1;
  refreshButtons();
}

/** Buttons are off while a call runs; the run actions also stay off until this spreadsheet's settings exist. */
function refreshButtons(): void {
  const ready = settingsReady();
  for (const b of Array.from(
    document.querySelectorAll<HTMLButtonElement>('#actions button, #settings button, #confirm button, #report button'),
  )) {
    b.disabled = busy > 0 || (!ready && b.dataset.needsSettings === 'true');
  }
}

function settingsReady(): boolean {
  return settings !== null && settings.workspaceId !== '' && settings.apiKeySet;
}

/** Runs one server call with the busy state and turns a failure into a notice. */
async function guarded<T>(busyText: string, work: () => Promise<T>): Promise<T | undefined> {
  setBusy(true);
  notify('busy', busyText);
  try {
    const result = await work();
    notify(null);
    return result;
  } catch (error) {
    notify('error', error instanceof Error ? error.message : String(error));
    return undefined;
  } finally {
    setBusy(false);
  }
}

function scope(): RowScope {
  return { selectedOnly: $<HTMLInputElement>('only-selected').checked };
}

function zone(): string | undefined {
  return settings?.timeZone || settings?.spreadsheetTimeZone || undefined;
}

function formatWhen(iso: string | undefined): string {
  if (!iso) return '–';
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: zone(), dateStyle: 'medium', timeStyle: 'short' }).format(
      new Date(iso),
    );
  } catch {
    return iso;
  }
}

function rowLink(sheetName: string, rowNumber: number): HTMLElement {
  const a = el('a', { href: '#', class: 'row-link', 'data-row': String(rowNumber) }, `Row ${rowNumber}`);
  a.addEventListener('click', (event) => {
    event.preventDefault();
    void callServer('rpcSelectRow', sheetName, rowNumber).catch((e: Error) => notify('error', e.message));
  });
  return a;
}

function renderSummary(view: DryRunView): void {
  const { summary, rows } = view.response as DryRunResponse;
  const box = $('summary');
  box.replaceChildren();
  box.hidden = false;
  box.append(el('h2', {}, `Dry run of “${view.sheetName}”`));
  box.append(el('p', { class: 'secondary small', id: 'summary-target' }, targetLine(view.target)));
  box.append(el('p', { class: 'secondary small' }, settingsLine(view.target)));
  if (view.keysFilled > 0 || view.headersAdded.length > 0) {
    const bits = [];
    if (view.keysFilled > 0) bits.push(`filled ${plural(view.keysFilled, 'row key')}`);
    if (view.headersAdded.length > 0) bits.push(`added the columns ${view.headersAdded.join(', ')}`);
    box.append(el('p', { class: 'secondary small' }, `The add-on ${bits.join(' and ')}.`));
  }
  if (view.keysLeftAlone.length > 0) {
    box.append(
      el(
        'p',
        { class: 'error', id: 'summary-left-alone' },
        `Rows ${view.keysLeftAlone.join(', ')} moved or changed while their keys were being filled (a sort or an edit), so they got no key and were not checked. Run the dry run again.`,
      ),
    );
  }
  const stat = (label: string, n: number, cls = '') =>
    el('div', { class: `stat ${cls}` }, el('b', {}, String(n)), label);
  box.append(
    el(
      'div',
      { class: 'stats', id: 'summary-stats' },
      stat('ready', summary.ready),
      stat(summary.warning === 1 ? 'warning' : 'warnings', summary.warning, summary.warning > 0 ? 'warn' : ''),
      stat('invalid', summary.invalid, summary.invalid > 0 ? 'bad' : ''),
      stat('to send', summary.toSend),
    ),
  );
  box.append(
    el(
      'p',
      { id: 'summary-range' },
      `Earliest: ${formatWhen(summary.earliest)}`,
      el('br'),
      `Latest: ${formatWhen(summary.latest)}`,
    ),
  );
  if (summary.alreadyPosted > 0)
    box.append(el('p', { class: 'secondary' }, `${plural(summary.alreadyPosted, 'row')} already posted: left alone.`));
  const changed = changedRowsLine(summary);
  if (changed) box.append(el('p', { id: 'summary-changed' }, changed));
  if (summary.pacing) box.append(el('p', { class: 'secondary small' }, summary.pacing));

  if (summary.counts.length > 0) {
    const table = el(
      'table',
      { class: 'counts-table', id: 'summary-counts' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'Platform'),
          el('th', {}, 'Account'),
          el('th', {}, 'Day'),
          el('th', { class: 'num' }, 'Posts'),
        ),
      ),
    );
    const body = el('tbody');
    for (const c of summary.counts) {
      body.append(
        el(
          'tr',
          {},
          el('td', { title: c.platform }, c.platform),
          el('td', { title: c.accountId }, c.accountId),
          el('td', {}, c.day),
          el('td', { class: 'num' }, String(c.count)),
        ),
      );
    }
    table.append(body);
    box.append(table);
  }
  if (!summary.accountsChecked)
    box.append(
      el('p', { class: 'secondary small' }, 'Postato’s account list did not answer, so accounts were not checked.'),
    );

  const problems = rows.filter((r) => r.status !== 'READY' || r.changed);
  if (problems.length > 0 || summary.collisions.length > 0 || summary.warnings.length > 0) {
    box.append(el('h2', {}, 'To look at'));
    const list = el('ul', { class: 'problems', id: 'summary-problems' });
    for (const w of summary.warnings) list.append(el('li', {}, w));
    for (const c of summary.collisions) {
      list.append(
        el(
          'li',
          {},
          rowLink(view.sheetName, c.rowNumber),
          ` at ${formatWhen(c.plannedAt)} is close to post ${c.existingPostId} at ${formatWhen(c.existingScheduledAt)} on ${c.accountId}.`,
        ),
      );
    }
    for (const r of problems) {
      // Each message already starts with the column it is about.
      const text = r.messages.map((m) => m.message).join(' ');
      list.append(
        el(
          'li',
          {},
          el('span', { class: `tag ${rowTag(r)}` }, rowTag(r)),
          rowLink(view.sheetName, r.rowNumber),
          ` ${text}`,
        ),
      );
    }
    box.append(list);
  }
}

function hideConfirm(): void {
  $('confirm').hidden = true;
}

/** Shows a confirmation card: the question, where it goes (spreadsheet, tab, workspace), counts and a note. */
function confirmThen(preview: ActionPreview, note: string, onOk: () => void): void {
  $('confirm-text').textContent = preview.question;
  $('confirm-target').textContent = targetLine(preview.target);
  $('confirm-settings').textContent = settingsLine(preview.target);
  $('confirm-counts').textContent = actionCounts(preview);
  $('confirm-note').textContent = note;
  $('confirm-moves').replaceChildren(
    ...preview.moves.map((m) =>
      el(
        'li',
        {},
        rowLink(preview.target.sheetName, m.rowNumber),
        ` ${formatWhen(m.from ?? undefined)} → ${formatWhen(m.to ?? undefined)}`,
      ),
    ),
  );
  $('confirm-moves').hidden = preview.moves.length === 0;
  const ok = $<HTMLButtonElement>('btn-confirm-ok');
  ok.textContent = confirmLabel(preview.action);
  ok.onclick = () => {
    hideConfirm();
    onOk();
  };
  $('confirm').hidden = false;
  $('confirm').scrollIntoView({ block: 'nearest' });
}

async function doDryRun(): Promise<void> {
  hideConfirm();
  const view = await guarded('Reading the sheet and checking every row…', () => callServer('rpcDryRun', scope()));
  if (view) renderSummary(view);
}

const PREPARING: Record<RunAction, string> = {
  publish: 'Checking the sheet before publishing…',
  'retry-failed': 'Checking the failed and invalid rows…',
  draft: 'Checking the selected rows…',
  reschedule: 'Checking which rows changed…',
  unschedule: 'Reading the selected rows…',
};

/**
 * Prepares an action and asks for confirmation. Unschedule always acts on the selection; Retry from the report acts
 * on every failed row; otherwise "Only selected rows" decides. The checkbox itself is never changed.
 */
async function prepareAndConfirm(action: RunAction, runScope: RowScope): Promise<void> {
  hideConfirm();
  const preview = await guarded(PREPARING[action], () => callServer('rpcPrepareAction', action, runScope));
  if (!preview) return;
  if (preview.dryRun) renderSummary(preview.dryRun);
  if ((action === 'publish' || action === 'retry-failed' || action === 'draft') && preview.posts === 0) {
    notify('info', 'Nothing to publish: every row is already posted or invalid. Fix the invalid rows, then try again.');
    return;
  }
  const invalid = preview.counts.invalid;
  const note =
    action === 'unschedule'
      ? 'Posts already published are not affected.'
      : invalid > 0
        ? `${plural(invalid, 'invalid row')} will be skipped.`
        : '';
  confirmThen(preview, note, () => void startRun(preview));
}

async function startRun(preview: ActionPreview): Promise<void> {
  const confirmed = {
    action: preview.action,
    target: preview.target,
    ...(preview.onlyKeys ? { onlyKeys: preview.onlyKeys } : {}),
  };
  const started = await guarded('Starting…', () => callServer('rpcStartRun', confirmed));
  if (!started) return;
  if (started.accepted.joined) notify('info', 'A run of this sheet was already going; following it.');
  void follow(started.run);
}

const TITLES: Record<string, string> = {
  publish: 'Publishing',
  reschedule: 'Rescheduling',
  unschedule: 'Unscheduling',
};
const ENDED_TITLES: Record<string, string> = {
  publish: 'Published',
  reschedule: 'Rescheduled',
  unschedule: 'Unscheduled',
};

function endedTitle(mode: string, state: RunStatusResponse['state']): string {
  if (state === 'cancelled') return 'Run cancelled';
  if (state === 'failed') return 'Run stopped';
  return ENDED_TITLES[mode] ?? 'Run ended';
}

function showProgress(status: RunStatusResponse, problems: Map<string, string>, sheetName: string): void {
  const pct = percentDone(status);
  const bar = $('progress-bar');
  bar.style.width = `${pct}%`;
  bar.setAttribute('aria-valuenow', String(pct));
  $('progress-counts').textContent = `${pct}% · ${countsLine(status)}`;
  $('progress-state').textContent = stateLine(status);
  if (status.sheetAccess && !status.sheetAccess.ok && status.sheetAccess.message)
    notify('error', status.sheetAccess.message);
  const list = $('progress-problems');
  list.replaceChildren();
  for (const [key, text] of problems) {
    const rowNumber = Number(key.split('|')[0]);
    list.append(
      el(
        'li',
        {},
        el('span', { class: 'tag FAILED' }, 'FAILED'),
        rowNumber > 0 ? rowLink(sheetName, rowNumber) : '',
        ` ${text}`,
      ),
    );
  }
}

function fillList(blockId: string, listId: string, items: HTMLElement[]): void {
  $(listId).replaceChildren(...items);
  $(blockId).hidden = items.length === 0;
}

/** Shows the end-of-run report: counts and duration, rows to fix (clickable), rows removed, warnings. */
function renderReport(report: RunReport, sheetName: string): void {
  $('report-sentence').textContent = reportSentence(report);
  $('report-times').textContent = `Started ${formatWhen(report.startedAt)} · ended ${formatWhen(report.finishedAt)}`;
  // Rows that left the sheet have no row number: name them by key, with nothing to click.
  fillList(
    'report-failed-block',
    'report-failed',
    report.failed.map((r) =>
      el(
        'li',
        {},
        r.rowNumber === null ? el('b', {}, `Key ${r.key}`) : rowLink(report.sheetName || sheetName, r.rowNumber),
        ` ${r.message}`,
      ),
    ),
  );
  const more = moreFailedLine(report);
  $('report-more').textContent = more ?? '';
  $('report-more').hidden = more === null;
  fillList(
    'report-removed-block',
    'report-removed',
    report.removed.map((r) => el('li', {}, r.message)),
  );
  fillList(
    'report-approved-block',
    'report-approved',
    approvalLines(report).map((line) => el('li', {}, line)),
  );
  fillList(
    'report-warnings-block',
    'report-warnings',
    report.warnings.map((w) => el('li', {}, w)),
  );
  const retry = $<HTMLButtonElement>('btn-retry-failed');
  retry.hidden = report.failedTotal === 0 || report.mode !== 'publish';
  retry.textContent = `Retry ${plural(report.failedTotal, 'failed row')}`;
  retry.onclick = () => void prepareAndConfirm('retry-failed', {});
  $<HTMLButtonElement>('btn-email-report').onclick = async () => {
    const result = await guarded('Sending the report to your email…', () => callServer('rpcEmailReport', report.runId));
    if (result) notify(result.sent ? 'info' : 'error', result.message);
  };
  // The report lists the failed rows itself; the live list under the bar would only repeat them.
  $('progress-problems').hidden = true;
  $('report').hidden = false;
}

/** Waits `ms`, or less when an action wakes the follow loop. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      wakeFollow = null;
      resolve();
    }
    wakeFollow = done;
  });
}

/** Shows that following stopped, with Resume; the run itself goes on on the service. */
function offerResume(run: ActiveRun, why: string): void {
  $('progress-state').textContent = `${why} The run goes on on the service; press Resume to follow it again.`;
  const resume = $<HTMLButtonElement>('btn-resume');
  resume.hidden = false;
  resume.onclick = () => {
    resume.hidden = true;
    notify(null);
    void follow(run);
  };
}

async function follow(run: ActiveRun): Promise<void> {
  if (following === run.runId) {
    wakeFollow?.();
    return;
  }
  following = run.runId;
  schedule.reset();
  $('report').hidden = true;
  $('btn-resume').hidden = true;
  $('progress-problems').hidden = false;
  $('progress').hidden = false;
  $('progress-safe').hidden = false;
  $('progress-title').textContent = TITLES[run.mode] ?? 'Run';
  const cancel = $<HTMLButtonElement>('btn-cancel-run');
  cancel.hidden = false;
  cancel.disabled = false;
  cancel.onclick = async () => {
    cancel.disabled = true;
    try {
      await callServer('rpcCancel', run.runId);
      notify('info', 'Cancelled: nothing more will be sent. Posts already created stay scheduled.');
      schedule.reset();
      wakeFollow?.();
    } catch (error) {
      cancel.disabled = false;
      notify('error', (error as Error).message);
    }
  };
  const problems = new Map<string, string>();
  let cursor: string | null = null;
  let failures = 0;
  let seen = '';
  while (following === run.runId) {
    let delay: number;
    try {
      const update: RunUpdate = await callServer('rpcRunStatus', run.runId, cursor);
      failures = 0;
      if (update.gone) {
        following = null;
        $('progress').hidden = true;
        notify('info', update.message);
        if (update.last) renderReport(update.last.report, update.last.sheetName);
        return;
      }
      const status: RunStatusResponse = update.status;
      cursor = status.cursor;
      for (const r of status.results) {
        const id = `${r.rowNumber ?? 0}|${r.key}`;
        if ((r.status === 'FAILED' || r.status === 'DELIVERY FAILED' || r.status === 'REJECTED') && r.error)
          problems.set(id, r.error);
        else problems.delete(id);
      }
      showProgress(status, problems, run.sheetName);
      if (status.state === 'done' || status.state === 'cancelled' || status.state === 'failed') {
        cancel.hidden = true;
        $('progress-safe').hidden = true;
        $('progress-title').textContent = endedTitle(run.mode, status.state);
        if (status.report) renderReport(status.report, run.sheetName);
        following = null;
        return;
      }
      const fingerprint = progressFingerprint(status);
      delay = schedule.next(fingerprint !== seen);
      seen = fingerprint;
    } catch (error) {
      failures += 1;
      if (failures >= MAX_FAILED_POLLS) {
        following = null;
        notify('error', (error as Error).message);
        offerResume(run, 'The sidebar stopped following the run after several failed attempts to reach the service.');
        return;
      }
      delay = schedule.next(false);
      notify('error', `${(error as Error).message} Trying again in ${Math.round(delay / 1000)} s.`);
    }
    await pause(delay);
  }
}

function fillSettings(view: SettingsView): void {
  settings = view;
  $<HTMLInputElement>('set-workspace').value = view.workspaceId;
  const key = $<HTMLInputElement>('set-api-key');
  key.value = '';
  key.placeholder = view.apiKeySet ? `Saved (${view.apiKeyHint}); type to replace` : 'smcp_…';
  fillZones(view);
  $<HTMLInputElement>('set-gap').value = view.minGapMinutes === null ? '' : String(view.minGapMinutes);
  $<HTMLInputElement>('set-jitter').value = view.jitterSeconds === null ? '' : String(view.jitterSeconds);
  $('service-account').textContent =
    view.serviceAccountEmail ?? 'Press Check access to see which account writes the results.';
  $('earlier-settings').hidden = view.earlier === null;
  if (view.earlier)
    $('earlier-settings-text').textContent = earlierSettingsLine(view.earlier, view.spreadsheetTimeZone);
}

/** Adopts the user's earlier per-user settings for this spreadsheet, or forgets them. */
async function chooseEarlier(choice: EarlierSettingsChoice): Promise<void> {
  $('settings-result').hidden = true;
  let failure: string | null = null;
  const view = await guarded(choice === 'use-here' ? 'Using your earlier settings here…' : 'Forgetting…', () =>
    callServer('rpcEarlierSettings', choice).catch((error: Error) => {
      failure = error.message;
      throw error;
    }),
  );
  if (!view) {
    if (failure) settingsResult('error', failure);
    // Show what the spreadsheet has now (an editor may have saved its settings meanwhile).
    const now = await callServer('rpcGetSettings').catch(() => null);
    if (now) fillSettings(now);
    return;
  }
  fillSettings(view);
  if (choice === 'use-here') {
    settingsResult(
      'info',
      view.apiKeySet
        ? 'This spreadsheet now uses your earlier settings.'
        : 'This spreadsheet now uses your earlier settings. Enter your API key and press Save.',
    );
  } else {
    settingsResult('info', 'Forgotten. Enter this spreadsheet’s settings and press Save.');
  }
}

/** The time zone list: the spreadsheet's own zone first (stored as blank), then every zone the browser knows. */
function fillZones(view: SettingsView): void {
  const select = $<HTMLSelectElement>('set-time-zone');
  const zones = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  const all = view.timeZone && !zones.includes(view.timeZone) ? [view.timeZone, ...zones] : zones;
  select.replaceChildren(
    el('option', { value: '' }, `Spreadsheet’s zone (${view.spreadsheetTimeZone})`),
    ...all.map((z) => el('option', { value: z }, z)),
  );
  select.value = view.timeZone;
  refreshButtons();
}

function numberField(id: string): number | null {
  const text = $<HTMLInputElement>(id).value.trim();
  return text === '' ? null : Number(text);
}

/** A line under the Save button, where the user is looking when they press it. */
function settingsResult(kind: 'error' | 'info', text: string): void {
  const line = $('settings-result');
  line.className = `notice ${kind}`;
  line.textContent = text;
  line.hidden = false;
  line.scrollIntoView({ block: 'nearest' });
}

async function saveSettings(): Promise<void> {
  $('settings-result').hidden = true;
  let failure: string | null = null;
  const view = await guarded('Saving…', () =>
    callServer('rpcSaveSettings', {
      workspaceId: $<HTMLInputElement>('set-workspace').value,
      apiKey: $<HTMLInputElement>('set-api-key').value,
      timeZone: $<HTMLSelectElement>('set-time-zone').value,
      minGapMinutes: numberField('set-gap'),
      jitterSeconds: numberField('set-jitter'),
    }).catch((error: Error) => {
      failure = error.message;
      throw error;
    }),
  );
  if (!view) {
    if (failure) settingsResult('error', failure);
    return;
  }
  fillSettings(view);
  // Test the connection right away: the service, the API key and the workspace.
  const test = await guarded('Testing the connection…', () => callServer('rpcTestConnection'));
  if (test) settingsResult(test.ok ? 'info' : 'error', `Settings saved for this spreadsheet. ${test.message}`);
  else settingsResult('error', 'Settings saved for this spreadsheet, but the connection test failed (see above).');
}

async function checkAccess(): Promise<void> {
  const result = await guarded('Checking the service account’s access…', () => callServer('rpcCheckAccess'));
  if (!result) return;
  $('service-account').textContent = result.serviceAccountEmail ?? '';
  const line = $('access-result');
  line.textContent = result.message;
  line.className = `small ${result.canEdit ? '' : 'error'}`;
}

function openSettings(): void {
  $('settings').hidden = false;
  $('settings').scrollIntoView();
}

async function runAction(action: SidebarAction): Promise<void> {
  if (action !== 'settings' && !settingsReady()) {
    openSettings();
    notify('info', 'Enter this spreadsheet’s Postato workspace ID and your API key first.');
    return;
  }
  switch (action) {
    case 'dry-run':
      return doDryRun();
    case 'publish':
    case 'retry-failed':
    case 'reschedule':
      return prepareAndConfirm(action, scope());
    case 'unschedule':
      return prepareAndConfirm('unschedule', { selectedOnly: true });
    case 'settings':
      openSettings();
      return;
  }
}

async function init(): Promise<void> {
  $('btn-dry-run').onclick = () => void runAction('dry-run');
  $('btn-publish').onclick = () => void runAction('publish');
  $('btn-retry').onclick = () => void runAction('retry-failed');
  $('btn-reschedule').onclick = () => void runAction('reschedule');
  $('btn-unschedule').onclick = () => void runAction('unschedule');
  $('btn-draft').onclick = () => void prepareAndConfirm('draft', { selectedOnly: true });
  $('btn-refresh-statuses').onclick = async () => {
    const answer = await guarded('Checking the waiting posts in Postato…', () => callServer('rpcRefreshStatuses'));
    if (answer) notify('info', answer.message);
  };
  $('btn-drive-media').onclick = async () => {
    const target = await guarded('Checking the selected rows…', () => callServer('rpcOpenDrivePicker'));
    if (target) {
      const rows = rowList(target.rows.map((r) => r.rowNumber));
      notify('info', `Pick the files in the Google Drive window: they go into the Media cells of ${rows}.`);
    }
  };
  $('btn-template').onclick = async () => {
    const name = await guarded('Inserting the template sheet…', () => callServer('rpcInsertTemplate'));
    if (name) notify('info', `Inserted “${name}”. Replace the example rows with your posts, then press Dry run.`);
  };
  $('needs-fix-filter').onchange = async () => {
    const box = $<HTMLInputElement>('needs-fix-filter');
    const on = box.checked;
    const answer = await guarded(on ? 'Filtering the rows that need a fix…' : 'Showing every row again…', () =>
      callServer('rpcShowRowsNeedingFix', on),
    );
    if (!answer) {
      box.checked = !on;
      return;
    }
    notify(
      'info',
      answer.on
        ? `Showing the ${plural(answer.rowsShown, 'row')} whose Status needs a fix; the Error cell says what to do. Untick to see every row.`
        : 'Showing every row again.',
    );
  };
  $('btn-confirm-cancel').onclick = hideConfirm;
  $('btn-save-settings').onclick = () => void saveSettings();
  $('btn-use-earlier').onclick = () => void chooseEarlier('use-here');
  $('btn-forget-earlier').onclick = () => void chooseEarlier('forget');
  $('btn-close-settings').onclick = () => ($('settings').hidden = true);
  $('btn-check-access').onclick = () => void checkAccess();
  $('btn-copy-email').onclick = () => {
    const email = $('service-account').textContent ?? '';
    void navigator.clipboard.writeText(email).then(
      () => notify('info', `Copied ${email}. Share the spreadsheet with it as an editor.`),
      () => notify('error', 'The browser did not allow copying. Select the address and copy it by hand.'),
    );
  };
  $('link-settings').onclick = (event) => {
    event.preventDefault();
    openSettings();
  };

  const view = await guarded('Loading…', () => callServer('rpcGetSettings'));
  if (view) fillSettings(view);
  if (view && (!view.workspaceId || !view.apiKeySet)) {
    openSettings();
    notify(
      'info',
      view.earlier
        ? 'This spreadsheet has no Postato settings of its own yet: use your earlier settings here, or enter its own.'
        : 'Enter this spreadsheet’s Postato workspace ID and your API key to start.',
    );
  }
  const [run, action] = await Promise.all([
    callServer('rpcActiveRun').catch(() => null),
    callServer('rpcTakePendingAction').catch(() => null),
  ]);
  if (run) void follow(run);
  else {
    // No run going: show what the last one did, as the sidebar showed it when that run ended.
    const last = await callServer('rpcLastRunReport').catch(() => null);
    if (last) renderReport(last.report, last.sheetName);
  }
  if (action) await runAction(action);
  document.body.setAttribute('data-ready', 'true');
}

void init();
