/**
 * Crash test for media from Drive: the real service runs as a child process, is SIGKILLed three times while it moves
 * Drive files into the Postato sandbox (PUTs answered slowly, so a kill catches uploads in flight) and is restarted on
 * the same SQLite file. In the end every row has one post, every post carries its files' media ids, and no file was
 * uploaded (PUT and confirmed) twice.
 */
import BetterSqlite3 from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import {
  ACCOUNTS,
  FAST_LIMITS,
  fakeApiKey,
  kitEnv,
  tempDbFile,
  type KitRow,
  postRunTo,
  runRequestOf,
} from '../runs/publish-test-kit';
import {
  startServiceProcess,
  stopServiceProcess,
  waitUntil,
  type ServiceProcess,
  waitForRunEnd,
} from './service-process';

const USER = 'manager@example.com';
const TOKEN = 'ya29.crash-manager-token-0001';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads the ledger file the child writes (WAL allows a reader alongside it). */
function uploadsInFlight(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const r = db
      .prepare("SELECT COUNT(*) AS n FROM drive_media WHERE state = 'uploading' AND lease_token IS NOT NULL")
      .get() as { n: number };
    return Number(r.n);
  } catch {
    return 0; // the table is created by the child's first migration
  } finally {
    db.close();
  }
}

describe('SIGKILL during Drive uploads, then restart', () => {
  let sandbox: PostatoSandbox;
  let drive: DriveFake;
  let child: ServiceProcess | undefined;

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      settings: { accounts: ACCOUNTS, limits: FAST_LIMITS, faults: { mediaPutLatencyMs: 150 } },
      tickIntervalMs: 0,
    });
    drive = await startDriveFake({ tokens: { [TOKEN]: USER }, faults: { latencyMs: 20 } });
  });
  afterAll(async () => {
    if (child) await stopServiceProcess(child, 'SIGKILL');
    await sandbox.close();
    await drive.close();
  });

  it('when the service is killed three times mid-upload and restarted, then no post lacks its media and no file is uploaded twice', async () => {
    const files = Array.from({ length: 20 }, (_, i) => {
      const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(20_000 + i)]);
      return {
        id: drive.addFile({ name: `p${i}.jpg`, mimeType: 'image/jpeg', bytes, ownerId: USER }),
        sha: sha(bytes),
      };
    });
    // 10 files on one row each, 10 shared by three rows each: 40 rows.
    const rows: KitRow[] = [];
    const expected = new Map<string, string>();
    files.slice(10).forEach((f, j) => {
      rows.push({ key: `u${j}`, media: `drive:${f.id}` });
      expected.set(`u${j}`, f.sha);
    });
    for (let j = 0; j < 30; j++) {
      rows.push({ key: `s${j}`, media: `drive:${files[j % 10]!.id}` });
      expected.set(`s${j}`, files[j % 10]!.sha);
    }

    const secret = randomBytes(16).toString('hex');
    const dbFile = tempDbFile();
    const env = kitEnv(sandbox.url, dbFile, secret, {
      LOG_LEVEL: 'error',
      DRIVE_API_URL: drive.url,
      DISPATCH_LEASE_MS: '30000',
      DISPATCH_STALE_MS: '1500',
      DISPATCH_CONCURRENCY: '4',
    });
    child = await startServiceProcess(env);
    const res = await postRunTo(
      child.url,
      secret,
      fakeApiKey(),
      runRequestOf('publish', rows, { spreadsheetId: 'sheet-drive-crash' }),
    ).set('X-Drive-Access-Token', TOKEN);
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;

    const urlsIssued = () => sandbox.inspect().mediaEvents.filter((e) => e.kind === 'upload_url').length;
    let kills = 0;
    for (const point of [2, 7, 13]) {
      // Kill only while an upload holds its lease, i.e. bytes are moving or about to.
      await waitUntil(() => urlsIssued() >= point && uploadsInFlight(dbFile) > 0, 60_000, `upload ${point} in flight`);
      await stopServiceProcess(child, 'SIGKILL');
      kills++;
      child = await startServiceProcess(env);
    }
    expect(kills).toBe(3);

    const { status } = await waitForRunEnd(child.url, runId, secret, 90_000);
    expect(status.state).toBe('done');
    expect(status.counts).toMatchObject({ total: 40, created: 40, failed: 0 });

    // No file uploaded twice: one successful PUT and one confirmed media per file.
    const inspection = sandbox.inspect();
    for (const f of files) {
      const puts = inspection.mediaEvents.filter((e) => e.kind === 'put' && e.status === 200 && e.sha256 === f.sha);
      const confirmed = inspection.media.filter((m) => m.status === 'uploaded' && m.sha256 === f.sha);
      expect([f.sha, puts.length, confirmed.length]).toEqual([f.sha, 1, 1]);
    }
    // Every post, one per row, carries its file's confirmed media.
    const shaOf = new Map(inspection.media.map((m) => [m.id, { sha: m.sha256, status: m.status }]));
    const seen = new Map<string, number>();
    for (const p of inspection.posts) {
      const key = /Post for (\S+)/.exec(p.content[0]?.text ?? '')![1]!;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      const ids = (p.content[0]?.media ?? p.media ?? []).map((m) => m.id);
      expect([key, ids.map((id) => shaOf.get(id!))]).toEqual([key, [{ sha: expected.get(key), status: 'uploaded' }]]);
    }
    expect(seen.size).toBe(40);
    for (const [key, n] of seen) expect([key, n]).toEqual([key, 1]);

    const exited = new Promise<number | null>((r) => child!.proc.once('exit', (code) => r(code)));
    child.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  }, 180_000);
});
