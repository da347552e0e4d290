/**
 * Never twice, even when the command dies: a publish paced slowly (3 creations per 1.5 s) is killed (SIGKILL) once
 * its results file shows the first posts; publishing the results file then finishes the campaign, and Postato holds
 * exactly one post per row.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { waitUntil } from '../integration/service-process';
import { campaign, cliEnv, copyFixture, readResults, removeTempDirs, sampleAccounts, tempDir } from './campaign-kit';

const ROOT = path.resolve(__dirname, '../..');

describe('a publish whose command is killed mid-run', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack({
      sandboxSettings: { accounts: sampleAccounts() },
      env: { PLAN_JITTER_SECONDS: '0', POSTATO_CREATE_LIMIT: '3', POSTATO_WINDOW_MS: '1500' },
    });
  });
  afterAll(async () => {
    await stack.close();
    removeTempDirs();
  });

  it('publishing the results file afterwards finishes it with one post per row', async () => {
    const dir = tempDir();
    const file = copyFixture('sample-campaign.sheets-export.csv', dir, 'paced.csv');
    const resultsFile = path.join(dir, 'paced.results.csv');
    const scheduled = () =>
      fs.existsSync(resultsFile) ? readResults(resultsFile).rows.filter((r) => r.Status === 'SCHEDULED').length : 0;

    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', 'src/cli/campaign-cli.ts', 'publish', file, '--time-zone', 'America/New_York'],
      { cwd: ROOT, env: { ...process.env, ...cliEnv(stack) }, stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitUntil(() => scheduled() > 0, 60_000, 'the first post in the results file');
    child.kill('SIGKILL');
    await exited;
    expect(scheduled()).toBeLessThan(7);

    const again = await campaign(stack, ['publish', resultsFile]);
    expect(again.code).toBe(0);
    const rows = readResults(resultsFile).rows;
    expect(rows.map((r) => r.Status)).toEqual(rows.map(() => 'SCHEDULED'));
    const posts = stack.sandbox.inspect().posts;
    expect(posts).toHaveLength(7);
    expect(new Set(posts.map((p) => p.id))).toEqual(new Set(rows.map((r) => r['Post ID'])));
  }, 120_000);
});
