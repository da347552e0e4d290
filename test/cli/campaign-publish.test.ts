/**
 * The campaign command end to end over real HTTP: the sample campaign exported from Excel (semicolons, BOM, CRLF,
 * day/month dates) and from Sheets (commas, month/day dates) against the real service, the Postato sandbox and a
 * Sheets fake that must never be touched for a CSV campaign.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DemoStack } from '../../scripts/demo-stack';
import {
  SAMPLE_YEAR,
  campaign,
  copyFixture,
  planLine,
  readResults,
  removeTempDirs,
  sampleAccounts,
  startCampaignStack,
  tempDir,
} from './campaign-kit';

const KEYS = [
  'launch-x-1',
  'launch-x-thread',
  'launch-ig-carousel',
  'launch-li',
  'launch-yt',
  'launch-tt',
  'launch-x-2',
];
/** Rows whose Scheduled at is written in the file (the others are auto-slotted from now). */
const TIMED = { 'launch-x-1': '09:00', 'launch-x-thread': '12:30', 'launch-ig-carousel': '18:00' };

describe('npm run campaign', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startCampaignStack();
  });
  afterAll(async () => {
    await stack.close();
    removeTempDirs();
  });
  beforeEach(() => stack.sandbox.update({ accounts: sampleAccounts() }));

  const postsOfTenant = () => stack.sandbox.inspect().posts;

  it('dry-run prints the same plan for the Excel and the Sheets export, reads day/month from Excel, and writes nothing', async () => {
    const dir = tempDir();
    const excel = copyFixture('sample-campaign.excel-export.csv', dir);
    const sheets = copyFixture('sample-campaign.sheets-export.csv', dir);
    const before = postsOfTenant().length;

    const fromExcel = await campaign(stack, ['dry-run', excel]);
    const fromSheets = await campaign(stack, ['dry-run', sheets]);

    for (const run of [fromExcel, fromSheets]) {
      expect(run.code).toBe(0);
      expect(run.out).toContain('7 rows: 7 ready, 0 with warnings, 0 invalid; 7 to send, 0 already posted.');
      for (const key of KEYS) expect(planLine(run.out, key)).toMatch(/READY/);
      for (const [key, time] of Object.entries(TIMED))
        expect(planLine(run.out, key)).toContain(`${SAMPLE_YEAR}-04-01 ${time} America/New_York`);
    }
    // 01/04 in the semicolon file is 1 April, and the command says how it read it.
    expect(fromExcel.err).toMatch(/read day\/month: the file is separated by semicolons/);
    // The thread's three parts survived the quoted, multi-line cell.
    expect(planLine(fromExcel.out, 'launch-x-thread')).toContain('thread');
    expect(fs.readdirSync(dir).sort()).toEqual([
      'sample-campaign.excel-export.csv',
      'sample-campaign.sheets-export.csv',
    ]);
    expect(postsOfTenant().length).toBe(before);
  });

  it('publish follows the run with a progress bar, writes FILE.results.csv in the Excel format, and a second run sends only the failed row', async () => {
    const dir = tempDir();
    const file = copyFixture('sample-campaign.excel-export.csv', dir, 'spring.csv');
    const resultsFile = path.join(dir, 'spring.results.csv');
    // The TikTok account needs reconnecting: its row cannot be sent on the first run.
    stack.sandbox.update({ accounts: sampleAccounts('token_expired') });
    const before = postsOfTenant().length;

    const first = await campaign(stack, ['publish', file]);
    expect(first.code).toBe(1);
    expect(first.progress).toMatch(/Publishing \|.*\| 7\/7 rows \| 6 created, 1 failed, 0 skipped \| done/);
    expect(first.out).toMatch(/Row 7 \(launch-tt\) INVALID: .*reconnect/);
    const one = readResults(resultsFile);
    expect(one.raw.startsWith('\uFEFFKey;Platform;')).toBe(true);
    // Records end in CRLF as Excel wrote them (line breaks inside the thread's cell stay LF).
    expect(one.raw.split('\r\n')).toHaveLength(KEYS.length + 2);
    expect(one.rows.map((r) => r.Key)).toEqual(KEYS);
    const byKey = (rows: Array<Record<string, string>>) => Object.fromEntries(rows.map((r) => [r.Key!, r]));
    const firstRows = byKey(one.rows);
    for (const key of KEYS.filter((k) => k !== 'launch-tt')) {
      expect(firstRows[key]).toMatchObject({ Status: 'SCHEDULED', Error: '' });
      expect(firstRows[key]!['Post ID']).toMatch(/^pst_/);
      expect(firstRows[key]!['Run']).toMatch(/\S/);
      expect(firstRows[key]!['Scheduled (UTC)']).toMatch(/Z$/);
    }
    expect(firstRows['launch-tt']).toMatchObject({ Status: 'INVALID', 'Post ID': '' });
    expect(firstRows['launch-tt']!.Error).toMatch(/reconnect/);
    // The user's cells are kept as written (the day/month date too); the campaign id is on every row.
    expect(firstRows['launch-x-1']!['Scheduled at']).toBe(`01/04/${SAMPLE_YEAR} 09:00`);
    const campaignIds = new Set(one.rows.map((r) => r.Campaign));
    expect([...campaignIds]).toEqual([expect.stringMatching(/^csv:[0-9a-f]{32}$/)]);
    expect(postsOfTenant().length).toBe(before + 6);
    // 1 April 09:00 in New York, not 4 January.
    expect(firstRows['launch-x-1']!['Scheduled (UTC)']).toMatch(
      new RegExp(`^${SAMPLE_YEAR}-04-01T13:00:00(\\.000)?Z$`),
    );

    // Reconnected: publishing the results file sends the one row that was not posted, nothing else.
    stack.sandbox.update({ accounts: sampleAccounts('connected') });
    const second = await campaign(stack, ['publish', resultsFile]);
    expect(second.code).toBe(0);
    expect(second.progress).toMatch(/7\/7 rows \| 1 created, 0 failed, 6 skipped \| done/);
    const two = byKey(readResults(resultsFile).rows);
    expect(two['launch-tt']).toMatchObject({ Status: 'SCHEDULED', Error: '' });
    for (const key of KEYS.filter((k) => k !== 'launch-tt')) expect(two[key]).toEqual(firstRows[key]);

    // A third run sends nothing; Postato holds exactly one post per row.
    const third = await campaign(stack, ['publish', resultsFile]);
    expect(third.code).toBe(0);
    const posts = postsOfTenant().slice(before);
    expect(posts).toHaveLength(7);
    expect(new Set(posts.map((p) => p.id))).toEqual(new Set(Object.values(two).map((r) => r['Post ID'])));

    // The original file cannot be published again by mistake: its results file holds the campaign.
    const again = await campaign(stack, ['publish', file]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('spring.results.csv already exists');
    expect(postsOfTenant().length).toBe(before + 7);

    // A CSV campaign has no sheet: its results are settled without a single Sheets API request.
    const flushed = await stack.service.flusher!.drain();
    expect(flushed.every((o) => o.leftPending === 0)).toBe(true);
    await stack.service.runsTab?.idle();
    await stack.service.dryRunVerdicts?.idle();
    expect(stack.sheets.requestLog).toEqual([]);
  });

  it('publishes the Sheets export (commas, month/day) and keeps its format', async () => {
    const dir = tempDir();
    const file = copyFixture('sample-campaign.sheets-export.csv', dir);
    const before = postsOfTenant().length;
    const run = await campaign(stack, ['publish', file]);
    expect(run.code).toBe(0);
    expect(run.progress).toMatch(/7\/7 rows \| 7 created, 0 failed, 0 skipped \| done/);
    const { raw, rows } = readResults(path.join(dir, 'sample-campaign.sheets-export.results.csv'));
    expect(raw.startsWith('Key,Platform,')).toBe(true);
    expect(raw).not.toContain('\r');
    expect(rows.map((r) => r.Status)).toEqual(KEYS.map(() => 'SCHEDULED'));
    expect(rows.find((r) => r.Key === 'launch-ig-carousel')!['Scheduled (UTC)']).toMatch(
      new RegExp(`^${SAMPLE_YEAR}-04-01T22:00:00(\\.000)?Z$`),
    );
    expect(postsOfTenant().length).toBe(before + 7);
  });
});
