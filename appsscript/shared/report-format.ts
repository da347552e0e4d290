/**
 * Plain sentences about a run's end-of-run report, shared by the sidebar and the email, so both tell the manager
 * the same thing in the same words.
 */
import type { RunMode, RunReport, RunReportRow } from './contract';
import { formatDuration, plural } from './format';

const MODE_NAMES: Record<RunMode, string> = {
  'dry-run': 'Dry run',
  publish: 'Publish',
  draft: 'Send as draft',
  reschedule: 'Reschedule',
  unschedule: 'Unschedule',
};
const DONE_WORDS: Record<RunMode, string> = {
  'dry-run': 'checked',
  publish: 'created',
  draft: 'created as drafts',
  reschedule: 'rescheduled',
  unschedule: 'cancelled',
};

/** "Publish of “Posts”". */
export function reportTitle(report: Pick<RunReport, 'mode' | 'sheetName'>): string {
  return `${MODE_NAMES[report.mode] ?? 'Run'} of “${report.sheetName}”`;
}

/** A duration for the report; runs faster than a second say so rather than "0 seconds". */
export function reportDuration(seconds: number): string {
  return seconds < 1 ? 'under a second' : formatDuration(seconds);
}

/**
 * The counts as a list of phrases: "3 posts created", "1 row failed", "1 failed after creation", "1 skipped".
 * The phrases follow the counts (INVALID rows count as failed), so no row is counted twice. A post created in this run
 * that then failed delivery or was rejected in review counts as created, yet needs a fix (it is in `failedTotal`, which
 * the Retry button counts), so it gets a phrase of its own.
 */
export function countPhrases(
  report: Pick<RunReport, 'mode' | 'counts'> & Partial<Pick<RunReport, 'failedTotal'>>,
): string[] {
  const { created, failed, skipped, pending } = report.counts;
  const failedLater = (report.failedTotal ?? 0) - failed;
  const parts = [`${plural(created, 'post')} ${DONE_WORDS[report.mode] ?? 'done'}`];
  if (failed > 0) parts.push(`${plural(failed, 'row')} failed`);
  if (failedLater > 0) parts.push(`${failedLater} failed after creation (delivery or review)`);
  if (skipped > 0) parts.push(`${skipped} skipped`);
  if (pending > 0) parts.push(`${pending} not sent`);
  return parts;
}

/** One sentence on how the run ended: "Publish of “Posts” finished in 12 seconds: 3 posts created, 1 row failed." */
export function reportSentence(report: RunReport): string {
  const how =
    report.state === 'done'
      ? `finished in ${reportDuration(report.durationSeconds)}`
      : report.state === 'cancelled'
        ? `was cancelled after ${reportDuration(report.durationSeconds)}`
        : report.state === 'failed'
          ? `stopped on a service error after ${reportDuration(report.durationSeconds)}`
          : `has been running for ${reportDuration(report.durationSeconds)}`;
  return `${reportTitle(report)} ${how}: ${countPhrases(report).join(', ')}.`;
}

/** Where a reported row is: "Row 5", or its key when the row is no longer in the sheet. */
export function rowLabel(row: RunReportRow): string {
  return row.rowNumber === null ? `Key ${row.key}` : `Row ${row.rowNumber}`;
}

/** "Row 5: Content: is empty." */
export function rowLine(row: RunReportRow): string {
  return `${rowLabel(row)}: ${row.message}`;
}

/** The line under a truncated failed list, or null when every failed row is listed. */
export function moreFailedLine(report: Pick<RunReport, 'failed' | 'failedTotal'>): string | null {
  const more = report.failedTotal - report.failed.length;
  return more > 0 ? `…and ${plural(more, 'more row')}; the Status and Error columns show every one.` : null;
}

/** The email subject: "Postato: Publish of “Posts” – 3 posts created, 1 row failed". */
export function reportSubject(report: RunReport): string {
  return `Postato: ${reportTitle(report)} – ${countPhrases(report).join(', ')}`;
}

/** "Row 5: approved by lead@example.com, 2026-03-01 09:30 UTC", one per row a run sent under an approval. */
export function approvalLines(report: Pick<RunReport, 'approved'>): string[] {
  return (report.approved ?? []).map(
    (a) =>
      `${a.rowNumber === null ? `Key ${a.key}` : `Row ${a.rowNumber}`}: approved by ${a.approvedBy}, ` +
      `${a.approvedAt.slice(0, 16).replace('T', ' ')} UTC`,
  );
}
