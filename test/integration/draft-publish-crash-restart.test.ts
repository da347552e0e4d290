/**
 * Send as draft, then Publish, with the real service as a child process SIGKILLed between the two steps and
 * restarted on the same SQLite file: the sandbox holds exactly one post per row, created as a draft and moved to
 * scheduled by PATCH, whether or not the sheet still shows the Post IDs. Publishing again changes nothing.
 */
import { startServiceProcess, stopServiceProcess, waitForRunEnd, type ServiceProcess } from './service-process';
import { randomBytes } from 'node:crypto';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import {
  ACCOUNTS,
  FAST_LIMITS,
  fakeApiKey,
  goodRows,
  kitEnv,
  postsPerKey,
  tempDbFile,
  type KitRow,
  postRunTo,
  runRequestOf,
} from '../runs/publish-test-kit';
import type { RowResult, RunStatusResponse } from '../../appsscript/shared/contract';

const ROWS = 12;

describe('Send as draft, a crash, then Publish', () => {
  let sandbox: PostatoSandbox;
  let child: ServiceProcess | undefined;

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ settings: { accounts: ACCOUNTS, limits: FAST_LIMITS }, tickIntervalMs: 0 });
  });
  afterAll(async () => {
    if (child) await stopServiceProcess(child, 'SIGKILL');
    await sandbox.close();
  });

  it('when the service is killed between the draft and the publish, then each row still has one post, moved draft → scheduled', async () => {
    const secret = randomBytes(16).toString('hex');
    const dbFile = tempDbFile();
    const env = kitEnv(sandbox.url, dbFile, secret, { LOG_LEVEL: 'error', DISPATCH_STALE_MS: '1500' });
    const apiKey = fakeApiKey();
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const rows: KitRow[] = goodRows(ROWS, 'd').map((r, i) => ({
      ...r,
      scheduledAt: `${day} ${String(8 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`,
    }));
    const send = (mode: 'draft' | 'publish', sheetRows: KitRow[]) =>
      postRunTo(child!.url, secret, apiKey, runRequestOf(mode, sheetRows, { spreadsheetId: 'sheet-drafts' }));
    const finish = async (runId: string): Promise<{ status: RunStatusResponse; results: Map<string, RowResult> }> => {
      return waitForRunEnd(child!.url, runId, secret, 60_000);
    };

    child = await startServiceProcess(env);
    const drafted = await send('draft', rows);
    expect(drafted.status).toBe(202);
    const draft = await finish(drafted.body.runId as string);
    expect(draft.status.counts).toMatchObject({ total: ROWS, created: ROWS, failed: 0 });
    for (const r of draft.results.values()) expect(r.status).toBe('DRAFT');
    expect(sandbox.inspect().posts.map((p) => p.status)).toEqual(Array(ROWS).fill('draft'));
    const draftIds = new Set(sandbox.inspect().posts.map((p) => p.id));

    // Killed between the two steps, restarted on the same ledger.
    await stopServiceProcess(child, 'SIGKILL');
    child = await startServiceProcess(env);

    // The sheet lost its Post IDs (the write-back had not run): the ledger still knows each draft.
    const published = await send('publish', rows);
    expect(published.status).toBe(202);
    const publish = await finish(published.body.runId as string);
    expect(publish.status.state).toBe('done');
    expect(publish.status.counts.failed).toBe(0);
    for (const r of publish.results.values()) expect([r.key, r.status]).toEqual([r.key, 'SCHEDULED']);

    const posts = sandbox.inspect().posts;
    expect(posts).toHaveLength(ROWS);
    expect(new Set(posts.map((p) => p.id))).toEqual(draftIds);
    expect(posts.map((p) => p.status)).toEqual(Array(ROWS).fill('scheduled'));
    for (const [key, n] of postsPerKey(sandbox)) expect([key, n]).toEqual([key, 1]);

    // Publishing again, now with the Post IDs in the sheet, sends nothing new.
    const withIds = rows.map((r) => ({ ...r, postId: publish.results.get(r.key)!.postId }));
    const again = await send('publish', withIds);
    await finish(again.body.runId as string);
    expect(sandbox.inspect().posts).toHaveLength(ROWS);
    expect(sandbox.inspect().posts.every((p) => p.status === 'scheduled')).toBe(true);

    await stopServiceProcess(child, 'SIGTERM');
    child = undefined;
  });
});
