/** Following a run: results merged across pages by key, polls that fail now and then tolerated, a dead service not. */
import type { RowResult, RunStatusResponse } from '../../appsscript/shared/contract';
import { followRun } from '../../src/cli/campaign-run-follower';
import { CampaignError } from '../../src/cli/campaign-errors';
import type { CampaignServiceClient } from '../../src/cli/campaign-service-client';

const result = (key: string, status: RowResult['status']): RowResult => ({
  key,
  rowNumber: 2,
  status,
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const answer = (state: RunStatusResponse['state'], results: RowResult[], cursor: string): RunStatusResponse => ({
  runId: 'run_1',
  mode: 'publish',
  state,
  spreadsheetId: 'csv:0123456789abcdef',
  sheetName: 'f.csv',
  counts: { total: 2, pending: 0, sent: 0, created: 0, failed: 0, skipped: 0 },
  startedAt: '2026-01-01T00:00:00.000Z',
  results,
  cursor,
});

/** A client answering from a script: each entry is an answer or an error to throw; records the cursors asked for. */
function scripted(
  steps: Array<RunStatusResponse | Error>,
): CampaignServiceClient & { cursors: Array<string | undefined> } {
  const cursors: Array<string | undefined> = [];
  return {
    cursors,
    dryRun: () => Promise.reject(new Error('not used')),
    publish: () => Promise.reject(new Error('not used')),
    status: async (_runId, since) => {
      cursors.push(since);
      const next = steps.shift();
      if (!next) throw new Error('asked once too often');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('followRun', () => {
  it('passes the cursor back, keeps the latest result per key, and reads pages until one is empty after the end', async () => {
    const client = scripted([
      answer('running', [result('a', 'QUEUED')], '1'),
      new CampaignError('Cannot reach the service'),
      answer('done', [result('a', 'SCHEDULED'), result('b', 'FAILED')], '3'),
      answer('done', [], '3'),
    ]);
    const seen: string[] = [];
    const out = await followRun(client, 'run_1', { pollMs: 1, onProgress: (s) => seen.push(s.state) });
    expect(client.cursors).toEqual([undefined, '1', '1', '3']);
    expect([...out.results.values()].map((r) => [r.key, r.status])).toEqual([
      ['a', 'SCHEDULED'],
      ['b', 'FAILED'],
    ]);
    expect(seen).toEqual(['running', 'done', 'done']);
  });

  it('waits out 429 answers as long as the service asks, without counting them as failures', async () => {
    const busy = new CampaignError('Too many requests', 2, 0);
    const client = scripted([answer('running', [], '0'), busy, busy, busy, answer('done', [], '0')]);
    const out = await followRun(client, 'run_1', { pollMs: 1, maxFailedPolls: 2 });
    expect(out.final.state).toBe('done');
    expect(client.cursors).toHaveLength(5);
  });

  it('gives up after maxFailedPolls failures in a row, with the last error', async () => {
    const down = new CampaignError('Cannot reach the service');
    const client = scripted([answer('running', [], '0'), down, down, down]);
    await expect(followRun(client, 'run_1', { pollMs: 1, maxFailedPolls: 3 })).rejects.toBe(down);
  });
});
