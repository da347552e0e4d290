/** Pure helpers for the confirmation card: which spreadsheet, tab and workspace an action goes to, and its counts. */
import { plural } from '../shared/format';
import type { ActionPreview, ActionTarget } from '../shared/server-rpc';

/** "Spreadsheet “Plan” › tab “Posts” › Postato workspace wks_1". */
export function targetLine(target: ActionTarget): string {
  return `Spreadsheet “${target.spreadsheetName}” › tab “${target.sheetName}” › Postato workspace ${target.workspaceId}`;
}

/** The spreadsheet's planner settings as the action uses them. */
export function settingsLine(target: ActionTarget): string {
  const gap = target.minGapMinutes === null ? 'default gap' : `${target.minGapMinutes} min gap`;
  const jitter = target.jitterSeconds === null ? 'default jitter' : `${target.jitterSeconds} s jitter`;
  return `Times in ${target.timeZone} · ${gap} · ${jitter}`;
}

/** "3 to create · 0 to reschedule · 0 to unschedule · 1 invalid row skipped". */
export function actionCounts(preview: Pick<ActionPreview, 'counts'>): string {
  const c = preview.counts;
  const parts = [`${c.create} to create`, `${c.reschedule} to reschedule`, `${c.unschedule} to unschedule`];
  if (c.invalid > 0) parts.push(`${plural(c.invalid, 'invalid row')} skipped`);
  return parts.join(' · ');
}

/** The label of the confirm button per action. */
export function confirmLabel(action: ActionPreview['action']): string {
  switch (action) {
    case 'publish':
      return 'Publish';
    case 'retry-failed':
      return 'Retry';
    case 'draft':
      return 'Send as draft';
    case 'reschedule':
      return 'Reschedule';
    case 'unschedule':
      return 'Unschedule';
  }
}
