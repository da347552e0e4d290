/**
 * How often the sidebar asks for a run's progress: at once after an action, every 1.5 s while something changes, and
 * backing off to every 10 s while nothing does, so a long publish costs a few hundred UrlFetch calls, not thousands.
 */
import type { RunStatusResponse } from '../shared/contract';

export const FIRST_POLL_MS = 1500;
export const MAX_POLL_MS = 10_000;
const BACKOFF_FACTOR = 1.5;
/** Failed polls in a row after which the sidebar stops and offers Resume. */
export const MAX_FAILED_POLLS = 5;

/** The delay before the next poll; `changed` says whether the last answer differed from the one before. */
export class PollSchedule {
  private delay = FIRST_POLL_MS;

  /** The delay to wait after a poll. */
  next(changed: boolean): number {
    this.delay = changed ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, Math.round(this.delay * BACKOFF_FACTOR));
    return this.delay;
  }

  /** After an action (start, cancel, resume) progress moves again: poll soon. */
  reset(): void {
    this.delay = FIRST_POLL_MS;
  }
}

/** A fingerprint of what a poll showed; two equal fingerprints mean nothing moved. */
export function progressFingerprint(status: Pick<RunStatusResponse, 'state' | 'counts' | 'results'>): string {
  const { pending, sent, created, failed, skipped } = status.counts;
  return `${status.state}|${pending}|${sent}|${created}|${failed}|${skipped}|${status.results.length}`;
}
