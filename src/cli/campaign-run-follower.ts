/**
 * Follows a publish run until it ends, the way the sidebar does: GET /v1/runs/:id with the cursor of the previous
 * answer, keeping each row's latest result. The run goes on at the service whatever happens here; following it again
 * (the same file, run again) joins it.
 */
import type { RowResult, RunStatusResponse } from '../../appsscript/shared/contract';
import type { CampaignServiceClient } from './campaign-service-client';

const ENDED = new Set(['done', 'cancelled', 'failed']);

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
  const wait = () => new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 1000));
  for (;;) {
    let status: RunStatusResponse;
    try {
      status = await client.status(runId, cursor);
      failed = 0;
    } catch (err) {
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
