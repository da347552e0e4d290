/**
 * Files the campaign command refuses or reports row by row, over real HTTP against the real service: a missing
 * required column, dates it cannot read, unbalanced quotes, a delimiter inside an unquoted cell, mixed date orders,
 * files that are not UTF-8 text; and blank keys, which publish fills into the results copy so a second run is the
 * same campaign.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DemoStack } from '../../scripts/demo-stack';
import {
  SAMPLE_YEAR,
  campaign,
  readResults,
  removeTempDirs,
  startCampaignStack,
  tempDir,
  writeCsv,
} from './campaign-kit';

const HEADER = 'Key,Platform,Account,Content,Scheduled at';
const row = (key: string, when = '', text = `Post ${key}`) => `${key},x,@brand,${text},${when}`;

describe('npm run campaign with files that need a fix', () => {
  let stack: DemoStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startCampaignStack();
  });
  afterAll(async () => {
    await stack.close();
    removeTempDirs();
  });
  beforeEach(() => {
    dir = tempDir();
  });
  const posts = () => stack.sandbox.inspect().posts.length;

  it('a missing required column is refused naming the header row and the column', async () => {
    const file = writeCsv(dir, 'no-content.csv', ['Key,Platform,Account,Scheduled at', 'a,x,@brand,']);
    const run = await campaign(stack, ['publish', file]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('no-content.csv, row 1 (the header): no Content column.');
    expect(fs.existsSync(path.join(dir, 'no-content.results.csv'))).toBe(false);
  });

  it('a slash date that fits no order is refused naming its row before anything is sent', async () => {
    const before = posts();
    const file = writeCsv(dir, 'bad-date.csv', [
      HEADER,
      row('a', `4/2/${SAMPLE_YEAR} 09:00`),
      row('b', `31/31/${SAMPLE_YEAR} 09:00`),
    ]);
    const run = await campaign(stack, ['publish', file]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(`Row 3, Scheduled at: "31/31/${SAMPLE_YEAR} 09:00" is not a date`);
    expect(posts()).toBe(before);
  });

  it('a date the service cannot read makes that row INVALID, named in the plan and in the results', async () => {
    const before = posts();
    const file = writeCsv(dir, 'words.csv', [HEADER, row('a', `${SAMPLE_YEAR}-05-02 09:00`), row('b', 'next tuesday')]);
    const dry = await campaign(stack, ['dry-run', file]);
    expect(dry.code).toBe(1);
    const line = dry.out.split('\n').find((l) => l.startsWith('3 '));
    expect(line).toMatch(/^3\s+b\s+INVALID\s.*"next tuesday" is not a date-time we can read/);

    const pub = await campaign(stack, ['publish', file]);
    expect(pub.code).toBe(1);
    expect(pub.out).toMatch(/Row 3 \(b\) INVALID: .*"next tuesday"/);
    const rows = readResults(path.join(dir, 'words.results.csv')).rows;
    expect(rows.map((r) => [r.Key, r.Status])).toEqual([
      ['a', 'SCHEDULED'],
      ['b', 'INVALID'],
    ]);
    expect(posts()).toBe(before + 1);
  });

  it('unbalanced quotes are refused naming the row where the quote opened', async () => {
    const file = writeCsv(dir, 'quotes.csv', [HEADER, row('a'), 'b,x,@brand,"An open quote,', row('c')]);
    const run = await campaign(stack, ['dry-run', file]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('quotes.csv, row 3: a quoted cell opened in this row is never closed.');
  });

  it('a quote in the middle of a cell is refused naming its row and line', async () => {
    const file = writeCsv(dir, 'stray.csv', [HEADER, row('a'), 'b,x,@brand,Say "hi" now,'], '\r\n');
    const run = await campaign(stack, ['dry-run', file]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/stray\.csv, row 3 \(line 3\): a " in the middle of a cell/);
  });

  it('a semicolon file with a cell holding an unquoted semicolon is refused naming the row', async () => {
    const file = writeCsv(dir, 'extra.csv', ['Key;Platform;Account;Content', 'a;x;@brand;fine', 'b;x;@brand;one; two']);
    const run = await campaign(stack, ['dry-run', file]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('extra.csv, row 3: it has 5 cells but the header has 4.');
  });

  it('a file mixing day/month and month/day dates is refused naming a row of each', async () => {
    const file = writeCsv(dir, 'mixed.csv', [
      HEADER,
      row('a', `25/04/${SAMPLE_YEAR} 09:00`),
      row('b', `04/25/${SAMPLE_YEAR} 10:00`),
    ]);
    const run = await campaign(stack, ['dry-run', file]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(
      `row 2 has "25/04/${SAMPLE_YEAR} 09:00" (day/month) and row 3 has "04/25/${SAMPLE_YEAR} 10:00"`,
    );
  });

  it('--date-order decides ambiguous dates; a date impossible in that order names its row', async () => {
    const file = writeCsv(dir, 'order.csv', [HEADER, row('a', `05/04/${SAMPLE_YEAR} 09:00`)]);
    const dmy = await campaign(stack, ['dry-run', file, '--date-order', 'dmy']);
    expect(dmy.out).toMatch(new RegExp(`^2\\s+a\\s+READY.*${SAMPLE_YEAR}-04-05 09:00`, 'm'));
    const mdy = await campaign(stack, ['dry-run', file, '--date-order', 'mdy']);
    expect(mdy.out).toMatch(new RegExp(`^2\\s+a\\s+READY.*${SAMPLE_YEAR}-05-04 09:00`, 'm'));
    const late = writeCsv(dir, 'late.csv', [HEADER, row('a', `25/04/${SAMPLE_YEAR} 09:00`)]);
    const refused = await campaign(stack, ['dry-run', late, '--date-order', 'mdy']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      `Row 2, Scheduled at: "25/04/${SAMPLE_YEAR} 09:00" is not a date when read month/day`,
    );
  });

  it('a legacy-code-page or UTF-16 export is refused with how to save it from Excel', async () => {
    const latin1 = path.join(dir, 'latin1.csv');
    fs.writeFileSync(latin1, Buffer.from(`${HEADER}\na,x,@brand,Caf\xe9,\n`, 'latin1'));
    const one = await campaign(stack, ['dry-run', latin1]);
    expect(one.code).toBe(2);
    expect(one.err).toContain('is not UTF-8 text');
    const utf16 = path.join(dir, 'utf16.csv');
    fs.writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\n`, 'utf16le')]));
    const two = await campaign(stack, ['dry-run', utf16]);
    expect(two.err).toContain('is UTF-16 text');
  });

  it('publish fills blank keys into the results copy; publishing the copy again sends nothing twice', async () => {
    const before = posts();
    const file = writeCsv(dir, 'nokeys.csv', [
      'Platform,Account,Content',
      'x,@brand,First post without a key',
      ',,',
      'x,@brand,Second post without a key',
    ]);
    const first = await campaign(stack, ['publish', file]);
    expect(first.code).toBe(0);
    expect(first.err).toContain('Filled 2 blank Key cells in nokeys.results.csv.');
    const resultsFile = path.join(dir, 'nokeys.results.csv');
    const rows = readResults(resultsFile).rows;
    expect(rows.map((r) => r.Key)).toEqual([
      expect.stringMatching(/^r-[0-9a-f]{10}$/),
      '',
      expect.stringMatching(/^r-/),
    ]);
    expect(rows.map((r) => r.Status)).toEqual(['SCHEDULED', '', 'SCHEDULED']);
    expect(posts()).toBe(before + 2);

    const second = await campaign(stack, ['publish', resultsFile]);
    expect(second.code).toBe(0);
    expect(second.progress).toMatch(/0 created, 0 failed, 2 skipped/);
    expect(readResults(resultsFile).rows.map((r) => r.Key)).toEqual(rows.map((r) => r.Key));
    expect(posts()).toBe(before + 2);
  });

  it('missing settings are named without showing any value', async () => {
    const file = writeCsv(dir, 'ok.csv', [HEADER, row('a')]);
    const run = await campaign(stack, ['dry-run', file], { AUTH_SHARED_SECRET: '', POSTATO_API_KEY: ' ' });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/Set these environment variables: AUTH_SHARED_SECRET .*; POSTATO_API_KEY /);
    const wrong = await campaign(stack, ['dry-run', file], { AUTH_SHARED_SECRET: 'not-the-secret-at-all' });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('The shared secret is wrong');
    expect(wrong.err).toContain('AUTH_SHARED_SECRET');
    expect(wrong.err + wrong.out).not.toContain('not-the-secret-at-all');
    expect(wrong.err + wrong.out).not.toContain(stack.apiKey);
  });
});
