import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { planSheet } from '../../src/plan/sheet-planner';

describe('examples/sample-campaign.csv', () => {
  it('plans every row of the sample campaign without an error', () => {
    const [header, ...rows] = parse(
      readFileSync(join(__dirname, '../../examples/sample-campaign.csv'), 'utf8'),
    ) as string[][];
    const run = planSheet({
      request: {
        spreadsheetId: 'sample',
        spreadsheetTimeZone: 'America/New_York',
        header: header!,
        rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
      },
      nowMs: Date.UTC(2027, 0, 15),
      defaults: { minGapMinutes: 15, jitterSeconds: 90, createLimit: 120, windowMs: 60_000 },
      accounts: null,
      scheduledPosts: null,
      knownPosts: new Map(),
    });
    expect(
      run.rows.map((r) => [r.key, r.verdict.status, r.verdict.messages.filter((m) => m.level !== 'info')]),
    ).toEqual(rows.map((r) => [r[0], 'READY', []]));
    expect(run.rows.find((r) => r.key === 'launch-x-thread')!.body!.postType).toBe('thread');
    expect(run.rows.find((r) => r.key === 'launch-ig-carousel')!.body!.postType).toBe('carousel');
  });
});
