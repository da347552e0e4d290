/**
 * The sidebar: Dry run, Publish with a confirmation and a live progress bar, the row actions, and Settings.
 * When a followed run ends, its report (with "Email me this report"). Every server call goes through callServer;
 * buttons are disabled while one runs, so the sidebar stays responsive.
 */
import type { DryRunResponse, RunReport, RunStatusResponse } from '../shared/contract';
import { plural } from '../shared/format';
import { moreFailedLine, reportSentence } from '../shared/report-format';
import type { ActiveRun, DryRunView, RowScope, SettingsView, SidebarAction } from '../shared/server-rpc';
import { callServer } from './call-server';
import { changedRowsLine, rowTag } from './changed-rows';
import { countsLine, percentDone, stateLine } from './progress';

const POLL_MS = 1500;
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

let settings: SettingsView | null = null;
let busy = 0;
let following: string | null = null;

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
  for (const b of Array.from(
    document.querySelectorAll<HTMLButtonElement>('#actions button, #settings button, #confirm button, #report button'),
  )) {
    b.disabled = busy > 0;
  }
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
      stat('warnings', summary.warning, summary.warning > 0 ? 'warn' : ''),
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

function confirmThen(text: string, note: string, okLabel: string, onOk: () => void): void {
  $('confirm-text').textContent = text;
  $('confirm-note').textContent = note;
  const ok = $<HTMLButtonElement>('btn-confirm-ok');
  ok.textContent = okLabel;
  ok.onclick = () => {
    hideConfirm();
    onOk();
  };
  $('confirm').hidden = false;
}

async function doDryRun(): Promise<void> {
  hideConfirm();
  const view = await guarded('Reading the sheet and checking every row…', () => callServer('rpcDryRun', scope()));
  if (view) renderSummary(view);
}

async function doPublish(): Promise<void> {
  hideConfirm();
  const preview = await guarded('Checking the sheet before publishing…', () =>
    callServer('rpcPreparePublish', scope()),
  );
  if (!preview) return;
  renderSummary(preview.dryRun);
  if (preview.posts === 0) {
    notify('info', 'Nothing to publish: every row is already posted or invalid. Fix the invalid rows, then try again.');
    return;
  }
  const invalid = preview.dryRun.response.summary.invalid;
  confirmThen(
    `Publish ${preview.sentence}?`,
    invalid > 0 ? `${plural(invalid, 'invalid row')} will be skipped.` : '',
    'Publish',
    () => void startRun('publish', scope()),
  );
}

async function startRun(
  mode: 'publish' | 'reschedule' | 'unschedule',
  runScope: RowScope & { failedOnly?: boolean },
): Promise<void> {
  const verb =
    mode === 'publish'
      ? 'Starting the run…'
      : mode === 'reschedule'
        ? 'Checking which rows changed…'
        : 'Cancelling the selected posts…';
  const started = await guarded(verb, () => callServer('rpcStartRun', mode, runScope));
  if (!started) return;
  if (started.accepted.joined) notify('info', 'A run of this sheet was already going; following it.');
  void follow(started.run);
}

const TITLES: Record<string, string> = {
  publish: 'Publishing',
  reschedule: 'Rescheduling',
  unschedule: 'Unscheduling',
};

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
    'report-warnings-block',
    'report-warnings',
    report.warnings.map((w) => el('li', {}, w)),
  );
  $<HTMLButtonElement>('btn-email-report').onclick = async () => {
    const result = await guarded('Sending the report to your email…', () => callServer('rpcEmailReport', report.runId));
    if (result) notify(result.sent ? 'info' : 'error', result.message);
  };
  // The report lists the failed rows itself; the live list under the bar would only repeat them.
  $('progress-problems').hidden = true;
  $('report').hidden = false;
}

async function follow(run: ActiveRun): Promise<void> {
  if (following === run.runId) return;
  following = run.runId;
  $('report').hidden = true;
  $('progress-problems').hidden = false;
  $('progress').hidden = false;
  $('progress-title').textContent = TITLES[run.mode] ?? 'Run';
  const cancel = $<HTMLButtonElement>('btn-cancel-run');
  cancel.hidden = false;
  cancel.disabled = false;
  cancel.onclick = async () => {
    cancel.disabled = true;
    try {
      await callServer('rpcCancel', run.runId);
      notify('info', 'Cancelled: nothing more will be sent. Posts already created stay scheduled.');
    } catch (error) {
      cancel.disabled = false;
      notify('error', (error as Error).message);
    }
  };
  const problems = new Map<string, string>();
  let cursor: string | null = null;
  let failures = 0;
  while (following === run.runId) {
    try {
      const status: RunStatusResponse = await callServer('rpcRunStatus', run.runId, cursor);
      failures = 0;
      cursor = status.cursor;
      for (const r of status.results) {
        const id = `${r.rowNumber ?? 0}|${r.key}`;
        if ((r.status === 'FAILED' || r.status === 'DELIVERY FAILED') && r.error) problems.set(id, r.error);
        else problems.delete(id);
      }
      showProgress(status, problems, run.sheetName);
      if (status.state === 'done' || status.state === 'cancelled' || status.state === 'failed') {
        cancel.hidden = true;
        if (status.report) renderReport(status.report, run.sheetName);
        following = null;
        return;
      }
    } catch (error) {
      failures += 1;
      notify('error', `${(error as Error).message} (still trying to follow the run)`);
      if (failures >= 5) {
        following = null;
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function fillSettings(view: SettingsView): void {
  settings = view;
  $<HTMLInputElement>('set-workspace').value = view.workspaceId;
  const key = $<HTMLInputElement>('set-api-key');
  key.value = '';
  key.placeholder = view.apiKeySet ? `Saved (${view.apiKeyHint}); type to replace` : 'smcp_…';
  const tz = $<HTMLInputElement>('set-time-zone');
  tz.value = view.timeZone;
  tz.placeholder = `Spreadsheet’s: ${view.spreadsheetTimeZone}`;
  $<HTMLInputElement>('set-gap').value = view.minGapMinutes === null ? '' : String(view.minGapMinutes);
  $<HTMLInputElement>('set-jitter').value = view.jitterSeconds === null ? '' : String(view.jitterSeconds);
  $('service-account').textContent =
    view.serviceAccountEmail ?? 'Press Check access to see which account writes the results.';
}

function numberField(id: string): number | null {
  const text = $<HTMLInputElement>(id).value.trim();
  return text === '' ? null : Number(text);
}

async function saveSettings(): Promise<void> {
  const view = await guarded('Saving…', () =>
    callServer('rpcSaveSettings', {
      workspaceId: $<HTMLInputElement>('set-workspace').value,
      apiKey: $<HTMLInputElement>('set-api-key').value,
      timeZone: $<HTMLInputElement>('set-time-zone').value,
      minGapMinutes: numberField('set-gap'),
      jitterSeconds: numberField('set-jitter'),
    }),
  );
  if (view) {
    fillSettings(view);
    notify('info', 'Settings saved.');
  }
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
  switch (action) {
    case 'dry-run':
      return doDryRun();
    case 'publish':
      return doPublish();
    case 'retry-failed':
      return startRun('publish', { ...scope(), failedOnly: true });
    case 'reschedule':
      return startRun('reschedule', scope());
    case 'unschedule':
      $<HTMLInputElement>('only-selected').checked = true;
      confirmThen(
        'Cancel the scheduled posts of the selected rows?',
        'Posts already published are not affected.',
        'Unschedule',
        () => void startRun('unschedule', { selectedOnly: true }),
      );
      return;
    case 'settings':
      openSettings();
      return;
  }
}

async function init(): Promise<void> {
  $('btn-dry-run').onclick = () => void doDryRun();
  $('btn-publish').onclick = () => void doPublish();
  $('btn-retry').onclick = () => void runAction('retry-failed');
  $('btn-reschedule').onclick = () => void runAction('reschedule');
  $('btn-unschedule').onclick = () => void runAction('unschedule');
  $('btn-template').onclick = async () => {
    const name = await guarded('Inserting the template sheet…', () => callServer('rpcInsertTemplate'));
    if (name) notify('info', `Inserted “${name}”. Replace the example rows with your posts, then press Dry run.`);
  };
  $('btn-confirm-cancel').onclick = hideConfirm;
  $('btn-save-settings').onclick = () => void saveSettings();
  $('btn-close-settings').onclick = () => ($('settings').hidden = true);
  $('btn-check-access').onclick = () => void checkAccess();
  $('link-settings').onclick = (event) => {
    event.preventDefault();
    openSettings();
  };

  const view = await guarded('Loading…', () => callServer('rpcGetSettings'));
  if (view) fillSettings(view);
  if (view && (!view.workspaceId || !view.apiKeySet)) {
    openSettings();
    notify('info', 'Enter your Postato workspace ID and API key to start.');
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
