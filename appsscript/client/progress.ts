/** Pure helpers that turn a run's status into what the progress bar and its text show. */
import type { RunStatusResponse } from '../shared/contract';
import { formatDuration, plural } from '../shared/format';

/** Percent done, 0–100; an ended run is always 100. */
export function percentDone(status: Pick<RunStatusResponse, 'counts' | 'state'>): number {
  if (status.state === 'done' || status.state === 'cancelled' || status.state === 'failed') return 100;
  const { total, created, failed, skipped } = status.counts;
  if (total <= 0) return 0;
  return Math.min(99, Math.floor(((created + failed + skipped) / total) * 100));
}

/** One line of counts, e.g. "52 of 143 done · 50 created · 2 failed". */
export function countsLine(status: Pick<RunStatusResponse, 'counts'>): string {
  const { total, created, failed, skipped } = status.counts;
  const parts = [`${created + failed + skipped} of ${total} done`, `${created} created`];
  if (failed > 0) parts.push(`${failed} failed`);
  if (skipped > 0) parts.push(`${skipped} skipped`);
  return parts.join(' · ');
}

/** The line under the bar: time left while running, a closing sentence when the run has ended. */
export function stateLine(status: Pick<RunStatusResponse, 'counts' | 'state' | 'etaSeconds'>): string {
  const { created, failed } = status.counts;
  switch (status.state) {
    case 'queued':
      return 'Waiting to start…';
    case 'running':
      return status.etaSeconds === undefined ? 'Working…' : `About ${formatDuration(status.etaSeconds)} left.`;
    case 'done':
      return failed > 0
        ? `Done: ${plural(created, 'post')} created, ${failed} failed. Fix the failed rows, then press Retry ${plural(failed, 'failed row')}.`
        : `Done: ${plural(created, 'post')} created. Results are in the Status column.`;
    case 'cancelled':
      return `Cancelled. ${plural(created, 'post')} had been created and stay scheduled.`;
    case 'failed':
      return 'The run stopped because of an error on the service. Rows it did not send have no Post ID: press Publish to send them.';
  }
}
