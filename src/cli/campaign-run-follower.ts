/**
 * Follows a publish run until it ends, the way the sidebar does: GET /v1/runs/:id with the cursor of the previous
 * answer, keeping each row's latest result. The run goes on at the service whatever happens here; following it again
 * (the same file, run again) joins it.
 */
import type { RowResult, RunStatusResponse } from '../../appsscript/shared/contract';
import type { CampaignServiceClient } from './campaign-service-client';
import { CampaignError } from './campaign-errors';

const ENDED = new Set(['done', 'cancelled', 'failed']);
/** 429 answers in a row that are waited out before the command gives up (the run goes on at the service anyway). */
const MAX_BUSY_WAITS = 60;

/** The run's last status and every row's latest result. */
export interface FollowedRun {
  final: RunStatusResponse;
  results: Map<string, RowResult>;
}

export interface FollowOptions {
  /** Called with every status answer (drives the progress bar). */
  onProgress?: (status: RunStatusResponse) => void;
  /** Time between polls while the run is going (default 1 s). */
  pollMs?: number;
  /** Failed polls in a row tolerated before giving up (default 5): a service restart should not end the command. */
  maxFailedPolls?: number;
}

/** Polls until the run has ended and every result has been read. */
export async function followRun(
  client: CampaignServiceClient,
  runId: string,
  o: FollowOptions = {},
): Promise<FollowedRun> {
  const results = new Map<string, RowResult>();
  let cursor: string | undefined;
  let failed = 0;
  let busy = 0;
  const wait = () => new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 1000));
  for (;;) {
    let status: RunStatusResponse;
    try {
      status = await client.status(runId, cursor);
      failed = 0;
      busy = 0;
    } catch (err) {
      // 429: the service is busy with other callers; wait as long as it asks, which is not a failure.
      const retryAfter = err instanceof CampaignError ? err.retryAfterSeconds : undefined;
      if (retryAfter !== undefined && ++busy <= MAX_BUSY_WAITS) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, 60) * 1000));
        continue;
      }
      if (++failed >= (o.maxFailedPolls ?? 5)) throw err;
      await wait();
      continue;
    }
    for (const r of status.results) results.set(r.key, r);
    cursor = status.cursor;
    o.onProgress?.(status);
    // Results come in pages: once the run has ended, read on until a page is empty.
    if (ENDED.has(status.state) && status.results.length === 0) return { final: status, results };
    if (!ENDED.has(status.state)) await wait();
  }
}
