/**
 * Crash test: the real service runs as a child process and is killed with SIGKILL at random points of a 300-row
 * publish, then restarted on the same SQLite file; in the end every row has exactly one post in the sandbox. Leases
 * are full-sized (30 s): the restarted process takes the dead one's rows over because its heartbeat stopped.
 */
import {
  startServiceProcess,
  stopServiceProcess,
  waitUntil,
  type ServiceProcess,
  waitForRunEnd,
} from './service-process';
import BetterSqlite3 from 'better-sqlite3';
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
  postRunTo,
  runRequestOf,
} from '../runs/publish-test-kit';

const ROWS = 300;
const LEASE_MS = 30_000;

/** A row the killed process held under a lease that had not run out yet. */
interface DeadLease {
  rowId: string;
  leaseUntil: number;
  killedAt: number;
}

/** Reads the ledger file the child writes (WAL allows a reader alongside it). */
function readLedger<T>(file: string, read: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const hasCallInFlight = (file: string) =>
  readLedger(file, (db) => db.prepare("SELECT 1 FROM run_rows WHERE state = 'sending' LIMIT 1").get() !== undefined);

const countPosts = (sandbox: PostatoSandbox) => sandbox.inspect().posts.length;

describe('crash and restart of the service process during a 300-row publish', () => {
  let sandbox: PostatoSandbox;
  let child: ServiceProcess | undefined;

  beforeAll(async () => {
    // 60 ms calls at 30 creations per second: a kill nearly always catches calls in flight.
    sandbox = await startPostatoSandbox({
      settings: {
        accounts: ACCOUNTS,
        limits: FAST_LIMITS,
        faults: { latencyMs: 60, error5xxShare: 0, dropAfterStoreShare: 0, hangShare: 0, hangMs: 0, forced429: null },
      },
      tickIntervalMs: 0,
    });
  });
  afterAll(async () => {
    if (child) await stopServiceProcess(child, 'SIGKILL');
    await sandbox.close();
  });

  it('when the process is SIGKILLed at several random points and restarted, then it finishes with exactly one post per row', async () => {
    const secret = randomBytes(16).toString('hex');
    const dbFile = tempDbFile();
    // A full-sized lease: waiting for it would take 30 s per crash. A dead process's heartbeat goes stale in 1.5 s.
    const env = kitEnv(sandbox.url, dbFile, secret, {
      LOG_LEVEL: 'error',
      DISPATCH_LEASE_MS: String(LEASE_MS),
      DISPATCH_STALE_MS: '1500',
    });
    const apiKey = fakeApiKey();
    child = await startServiceProcess(env);
    const res = await postRunTo(
      child.url,
      secret,
      apiKey,
      runRequestOf('publish', goodRows(ROWS, 'x'), { spreadsheetId: 'sheet-crash' }),
    );
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;

    // Three kills at random points spread over the run (by how many posts the sandbox holds). The seed is printed
    // and read from CRASH_RESTART_SEED, so a failure can be replayed with the same kill points.
    const seed = Number(process.env.CRASH_RESTART_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seededRandom(seed);
    const points = [0, 1, 2].map((i) => Math.floor(ROWS * (0.1 + i * 0.28 + random() * 0.2)));
    console.log(`crash-restart: CRASH_RESTART_SEED=${seed}, kill points ${points.join(', ')}`);
    const deadLeases: DeadLease[] = [];
    for (const point of points) {
      await waitUntil(() => countPosts(sandbox) >= point && hasCallInFlight(dbFile), 60_000);
      await stopServiceProcess(child, 'SIGKILL');
      const killedAt = Date.now();
      const held = readLedger(dbFile, (db) =>
        db
          .prepare("SELECT id, lease_until FROM run_rows WHERE state IN ('pending', 'sending') AND lease_until > ?")
          .all(killedAt),
      ) as { id: string; lease_until: number }[];
      deadLeases.push(...held.map((r) => ({ rowId: r.id, leaseUntil: Number(r.lease_until), killedAt })));
      child = await startServiceProcess(env);
    }

    const { status } = await waitForRunEnd(child.url, runId, secret, 90_000);
    expect(status.state).toBe('done');
    expect(status.counts).toMatchObject({ total: ROWS, created: ROWS, failed: 0, pending: 0 });
    const per = postsPerKey(sandbox);
    expect(per.size).toBe(ROWS);
    for (const [key, n] of per) expect([key, n]).toEqual([key, 1]);
    expect(countPosts(sandbox)).toBe(ROWS);

    // Each row the killed process held was worked on again before its lease would have let anyone take it.
    expect(deadLeases.length).toBeGreaterThan(0);
    for (const dead of deadLeases) {
      const next = readLedger(dbFile, (db) =>
        db
          .prepare('SELECT MIN(started_at) AS at FROM attempts WHERE row_id = ? AND started_at >= ?')
          .get(dead.rowId, dead.killedAt),
      ) as { at: number | null };
      expect({
        rowId: dead.rowId,
        resumedBeforeLeaseEnd: next.at !== null && Number(next.at) < dead.leaseUntil,
      }).toEqual({ rowId: dead.rowId, resumedBeforeLeaseEnd: true });
    }

    // SIGTERM stops cleanly.
    const exited = new Promise<number | null>((r) => child!.proc.once('exit', (code) => r(code)));
    child.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  }, 150_000);
});

/** mulberry32: a small deterministic generator in [0, 1), so one seed always gives the same kill points. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
