/** The ops command line against a temp SQLite ledger: list, show, purge (never active runs or posts_by_row), resync. */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ManualClock } from '../../src/clock';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger, inspectLedgerDb } from '../../src/ledger/run-ledger';
import { runOpsCli, type CliIo } from '../../src/cli/ops-cli';
import { startSheetsFake, type SheetsFake } from '../../src/sandbox/sheets-fake';
import { makeFakeServiceAccount, withTokenUri } from '../sheets/fake-service-account';
import { tempDbFile } from '../runs/publish-test-kit';

const DAY = 86_400_000;

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

describe('ops CLI', () => {
  let dbFile: string;
  let db: LedgerDb;
  let ledger: RunLedger;
  const clock = new ManualClock(Date.now() - 40 * DAY);
  const ids: Record<string, string> = {};

  async function newRun(name: string, spreadsheetId: string, keys: string[], finish: boolean) {
    const { runId } = await ledger.createRun({
      ownerSubject: 'manager',
      mode: 'publish',
      spreadsheetId,
      sheetName: 'Posts',
      sheetId: 0,
      workspaceId: 'wks_1',
      tenantId: 'tnt_test',
      apiKeySealed: null,
      summaryJson: JSON.stringify({ warnings: ['Row 3 has no time zone; the sheet zone was used.'] }),
      rows: keys.map((k, i) => ({
        rowKey: k,
        rowNumber: i + 2,
        kind: 'create' as const,
        state: 'pending' as const,
        bodyJson: '{}',
        writeBack: false,
      })),
    });
    ids[name] = runId;
    if (!finish) return;
    const rows = await inspectLedgerDb(ledger)
      .selectFrom('run_rows')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('ordinal')
      .execute();
    for (const [i, r] of rows.entries()) {
      if (i === rows.length - 1)
        await ledger.setResult(r.id, {
          state: 'failed',
          sheetStatus: 'FAILED',
          error: 'Content is too long for X: shorten it to 280 characters.',
        });
      else {
        await ledger.recordSuccess(r, {
          post: { postId: `post_${r.row_key}` },
          result: { state: 'created', sheetStatus: 'SCHEDULED', postId: `post_${r.row_key}` },
        });
      }
    }
    await ledger.finishRunIfComplete(runId);
  }

  beforeAll(async () => {
    dbFile = tempDbFile();
    db = await openLedgerDb(`sqlite:${dbFile}`);
    ledger = new RunLedger(db.db, clock);
    await newRun('old', 'ss-old', ['a1', 'a2', 'a3'], true); // finished 40 days ago
    clock.set(Date.now() - 1 * DAY);
    await newRun('recent', 'ss-recent', ['b1', 'b2'], true);
    clock.set(Date.now() - 50 * DAY);
    await newRun('active', 'ss-active', ['c1'], false); // started long ago, still running
    // Webhook events whose post was never recorded (each workspace drops its own expired ones when it parks another,
    // so two workspaces): one parked 50 days ago (past its age limit), one an hour ago.
    await ledger.webhookSink.applyDeliveryEvent(parkedEvent('wks_2', 'evt_parked_old'));
    clock.set(Date.now() - 3_600_000);
    await ledger.webhookSink.applyDeliveryEvent(parkedEvent('wks_1', 'evt_parked_recent'));
  });
  const parkedEvent = (workspaceId: string, eventId: string) => ({
    workspaceId,
    eventId,
    type: 'post.published',
    postId: `post_elsewhere_${eventId}`,
    status: 'published',
    createdAt: new Date(clock.now()).toISOString(),
  });
  afterAll(async () => {
    await db.close();
    fs.rmSync(path.dirname(dbFile), { recursive: true, force: true });
  });

  const env = () => ({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${dbFile}` });

  test('runs list prints the newest runs first and filters by state', async () => {
    const io = capture();
    expect(await runOpsCli(['runs', 'list', '--json'], env(), io)).toBe(0);
    const list = JSON.parse(io.lines.join('\n')) as Array<{ runId: string; state: string }>;
    expect(list.map((r) => r.runId)).toEqual([ids.recent, ids.old, ids.active]);
    const running = capture();
    await runOpsCli(['runs', 'list', '--state', 'running', '--json'], env(), running);
    expect(JSON.parse(running.lines.join('\n')).map((r: { runId: string }) => r.runId)).toEqual([ids.active]);
    const table = capture();
    await runOpsCli(['runs', 'list', '--limit', '1'], env(), table);
    expect(table.lines).toHaveLength(2);
    expect(table.lines[1]).toContain(ids.recent);
  });

  test('runs show prints the report with the failed row and the plan warnings; an unknown id says what to do', async () => {
    const io = capture();
    expect(await runOpsCli(['runs', 'show', ids.old!], env(), io)).toBe(0);
    const report = JSON.parse(io.lines.join('\n'));
    expect(report.counts).toMatchObject({ total: 3, created: 2, failed: 1 });
    expect(report.failed).toEqual([{ key: 'a3', rowNumber: 4, message: expect.stringMatching(/too long/) }]);
    expect(report.warnings).toContain('Row 3 has no time zone; the sheet zone was used.');
    const bad = capture();
    expect(await runOpsCli(['runs', 'show', 'run_missing'], env(), bad)).toBe(1);
    expect(bad.errors.join('\n')).toMatch(/No run with id run_missing.*runs list/);
  });

  test('a bad option is refused with a usage error', async () => {
    const io = capture();
    expect(await runOpsCli(['runs', 'purge', '--older-than-days', 'soon'], env(), io)).not.toBe(0);
    expect(io.errors.join('\n')).toMatch(/--older-than-days must be a whole number/);
  });

  test('runs purge deletes only ended runs older than N days, in batches with progress, keeps posts_by_row, and drops webhook events parked past their age limit', async () => {
    const io = capture();
    expect(await runOpsCli(['runs', 'purge', '--older-than-days', '30', '--batch-size', '1'], env(), io)).toBe(0);
    expect(JSON.parse(io.lines.at(-1)!)).toEqual({ purged: 1, keptUnresolved: 0, parkedEventsPurged: 1 });
    expect(io.errors.at(-1)).toBe('purge: deleted 1/1 (100%)');
    expect(await ledger.getRun(ids.old!)).toBeUndefined();
    expect(
      await inspectLedgerDb(ledger).selectFrom('run_rows').selectAll().where('run_id', '=', ids.old!).execute(),
    ).toHaveLength(0);
    expect(await ledger.getRun(ids.recent!)).toBeDefined();
    expect((await ledger.getRun(ids.active!))?.state).toBe('running');
    expect(
      (await inspectLedgerDb(ledger).selectFrom('webhook_parked_events').select('event_id').execute()).map(
        (e) => e.event_id,
      ),
    ).toEqual(['evt_parked_recent']);
    // The memory that prevents double posting survives the purge.
    expect((await ledger.knownPost({ tenantId: 'tnt_test', workspaceId: 'wks_1' }, 'ss-old', 'a1'))?.post_id).toBe(
      'post_a1',
    );
  });

  describe('resync', () => {
    let fake: SheetsFake;
    let saJson = '';
    beforeAll(async () => {
      const sa = makeFakeServiceAccount();
      fake = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem });
      fake.loadCsv('ss-recent', 'Posts', 'Key,Content,Status,Post ID,Error\nb1,hello,,,\nb2,world,,,\n');
      saJson = JSON.stringify(withTokenUri(sa, fake.tokenUrl));
    });
    afterAll(() => fake.close());

    test('runs resync writes every result of the run into its sheet, printing progress', async () => {
      const io = capture();
      const code = await runOpsCli(
        ['runs', 'resync', ids.recent!],
        { ...env(), SHEETS_API_URL: fake.url, GOOGLE_SERVICE_ACCOUNT_JSON: saJson },
        io,
      );
      expect(io.errors.filter((e) => e.startsWith('Error'))).toEqual([]);
      expect(code).toBe(0);
      expect(JSON.parse(io.lines.at(-1)!)).toMatchObject({ requeued: 2, written: 2, left: 0 });
      expect(io.errors.at(-1)).toBe('resync: written 2/2 (100%)');
      const values = fake.getValues('ss-recent', 'Posts');
      const col = (name: string) => values[0]!.indexOf(name);
      expect(values[1]![col('Post ID')]).toBe('post_b1');
      expect(values[2]![col('Status')]).toBe('FAILED');
      expect(values[2]![col('Error')]).toMatch(/too long/);
    });

    test('a CSV campaign has no sheet: resync refuses it and sends nothing to Sheets', async () => {
      await newRun('csv', 'csv:0123456789abcdef0123456789abcdef', ['d1'], true);
      const before = fake.requestLog.length;
      const io = capture();
      const code = await runOpsCli(
        ['runs', 'resync', ids.csv!],
        { ...env(), SHEETS_API_URL: fake.url, GOOGLE_SERVICE_ACCOUNT_JSON: saJson },
        io,
      );
      expect(code).toBe(1);
      expect(io.errors.join('\n')).toContain(
        'is a CSV campaign (csv:0123456789abcdef0123456789abcdef): it has no sheet',
      );
      expect(fake.requestLog.length).toBe(before);
    });

    test('without Sheets credentials, resync says which setting to add', async () => {
      const io = capture();
      expect(await runOpsCli(['runs', 'resync', ids.recent!], env(), io)).toBe(1);
      expect(io.errors.join('\n')).toMatch(/GOOGLE_SERVICE_ACCOUNT_JSON/);
    });
  });

  test('the ops script is wired: spawning the CLI lists runs', async () => {
    const root = path.resolve(__dirname, '../..');
    const { stdout } = await promisify(execFile)(
      path.join(root, 'node_modules/.bin/tsx'),
      ['src/cli/ops-cli.ts', 'runs', 'list', '--json'],
      {
        cwd: root,
        env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: `sqlite:${dbFile}` },
      },
    );
    expect((JSON.parse(stdout) as Array<{ runId: string }>).map((r) => r.runId)).toContain(ids.recent);
  }, 30_000);
});
