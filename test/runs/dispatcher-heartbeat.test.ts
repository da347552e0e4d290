import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger } from '../../src/ledger/run-ledger';
import { createInstanceHeartbeat, heartbeatTimingOf } from '../../src/runs/dispatcher-heartbeat';
import { createPgTestDb } from '../contract/tier-kit';
import { tempDbFile } from './publish-test-kit';
import { newRunOf } from '../ledger/ledger-fixtures';

const LEASE = 60_000;
const { intervalMs: BEAT, staleMs: STALE } = heartbeatTimingOf(LEASE, 15_000);

const run = (n: number) => newRunOf({ spreadsheetId: 'sheet-hb' }, n);

describe('heartbeatTimingOf', () => {
  it('when the defaults are used, then it beats every 5 s and an owner is stale after 15 s', () => {
    expect(heartbeatTimingOf(60_000, 15_000)).toEqual({ intervalMs: 5000, staleMs: 15_000 });
  });
  it('when the lease is short, then beats come at least four times per lease', () => {
    expect(heartbeatTimingOf(1500, 15_000)).toEqual({ intervalMs: 375, staleMs: 15_000 });
  });
  it('when the staleness bound is short, then three beats still fit in it', () => {
    expect(heartbeatTimingOf(30_000, 1500)).toEqual({ intervalMs: 500, staleMs: 1500 });
  });
});

describe.each(['sqlite', 'postgres'] as const)('lease takeover by heartbeat on %s', (dialect) => {
  let db: LedgerDb;
  let ledger: RunLedger;
  let dropPg: (() => Promise<void>) | undefined;
  const clock = new ManualClock(1_000_000);

  beforeAll(async () => {
    if (dialect === 'postgres') {
      const pg = await createPgTestDb();
      dropPg = pg.drop;
      db = await openLedgerDb(pg.url);
    } else db = await openLedgerDb(`sqlite:${tempDbFile()}`);
    ledger = new RunLedger(db.db, clock);
  });
  afterAll(async () => {
    await db?.close();
    await dropPg?.();
  });
  beforeEach(async () => {
    // One database per dialect for the whole file: each test starts from an empty ledger.
    for (const table of [
      'dispatcher_instances',
      'active_sheets',
      'attempts',
      'run_rows',
      'runs',
      'webhook_events',
      'webhook_parked_events',
    ] as const)
      await db.db.deleteFrom(table).execute();
  });

  const claim = (owner: string, n = clock.now()) => ledger.claimNext('tnt_a', owner, n, LEASE, n - STALE);

  it('when owner A stops heartbeating mid-call, then B takes its row after the staleness bound, long before the lease ends', async () => {
    await ledger.createRun(run(1));
    await ledger.instances.beat('A', clock.now());
    await ledger.instances.beat('B', clock.now());
    const a = await claim('A');
    expect(a).not.toBeNull();
    await ledger.beginAttempt(a!, { kind: 'create', idempotencyKey: 'ps1-a', body: a!.body_json });

    // A keeps heartbeating through a long call: its lease holds.
    for (let t = 0; t < 4; t++) {
      clock.advance(BEAT);
      await ledger.instances.beat('A', clock.now());
      await ledger.instances.beat('B', clock.now());
      expect(await claim('B')).toBeNull();
      expect(await ledger.dueTenants(clock.now(), clock.now() - STALE)).toEqual([]);
    }

    // A dies: no more beats. Just inside the bound its lease still holds; just past it B takes the row.
    clock.advance(STALE);
    expect(await claim('B')).toBeNull();
    clock.advance(1);
    expect(await ledger.dueTenants(clock.now(), clock.now() - STALE)).toEqual(['tnt_a']);
    const b = await claim('B');
    expect(b).toMatchObject({ id: a!.id, state: 'sending', lease_owner: 'B', lease_until: clock.now() + LEASE });
    // The replay uses the attempt A recorded: same key, same body.
    expect(await ledger.unresolvedCreate({ tenantId: 'tnt_a', workspaceId: 'wks_1' }, 'sheet-hb', 'k0')).toMatchObject({
      idempotency_key: 'ps1-a',
      body: a!.body_json,
    });
    expect(Number(a!.lease_until)).toBeGreaterThan(clock.now());
  });

  it('when the lease owner is not registered at all, then a dispatcher takes the row at once; a caller without a bound waits for the lease', async () => {
    const { runId } = await ledger.createRun(run(1));
    const rowId = `${runId}:0`;
    await db.db
      .updateTable('run_rows')
      .set({ state: 'sending', lease_owner: 'gone', lease_until: clock.now() + LEASE })
      .where('id', '=', rowId)
      .execute();
    expect(await ledger.claimNext('tnt_a', 'B', clock.now(), LEASE)).toBeNull();
    expect(await ledger.dueTenants(clock.now())).toEqual([]);
    expect((await claim('B'))?.id).toBe(rowId);
  });

  it('when an instance stops cleanly, then its registration is gone and its leases are free', async () => {
    const { runId } = await ledger.createRun(run(1));
    await ledger.instances.beat('A', clock.now());
    expect((await claim('A'))?.id).toBe(`${runId}:0`);
    expect(await claim('B')).toBeNull();
    await ledger.instances.remove('A');
    expect((await claim('B'))?.id).toBe(`${runId}:0`);
  });

  it('when a heartbeat runs, then it registers at start, refreshes on its timer and removes itself on stop', async () => {
    const hb = createInstanceHeartbeat({
      instances: ledger.instances,
      ownerId: 'H',
      clock,
      logger: silentLogger,
      leaseMs: 400,
      staleMs: 1000,
    });
    expect(hb.timing).toEqual({ intervalMs: 100, staleMs: 1000 });
    expect(hb.registered()).toBe(false);
    hb.start();
    await hb.ready();
    expect(hb.registered()).toBe(true);
    const first = await db.db
      .selectFrom('dispatcher_instances')
      .selectAll()
      .where('owner_id', '=', 'H')
      .executeTakeFirstOrThrow();
    expect(Number(first.heartbeat_at)).toBe(clock.now());
    const before = clock.now();
    clock.advance(777);
    // The timer beats again by itself with the clock's new time.
    for (let i = 0; i < 100; i++) {
      const row = await db.db
        .selectFrom('dispatcher_instances')
        .select('heartbeat_at')
        .where('owner_id', '=', 'H')
        .executeTakeFirst();
      if (Number(row?.heartbeat_at) === before + 777) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(
      Number(
        (
          await db.db
            .selectFrom('dispatcher_instances')
            .select('heartbeat_at')
            .where('owner_id', '=', 'H')
            .executeTakeFirst()
        )?.heartbeat_at,
      ),
    ).toBe(before + 777);
    expect(hb.staleBefore(clock.now())).toBe(clock.now() - 1000);
    await hb.stop();
    expect(
      await db.db.selectFrom('dispatcher_instances').selectAll().where('owner_id', '=', 'H').executeTakeFirst(),
    ).toBeUndefined();
  });

  it('when a heartbeat starts, then its upkeep applies a webhook event parked for a post recorded without applying it, and stop waits for it', async () => {
    const { runId } = await ledger.createRun(run(1));
    const event = {
      workspaceId: 'wks_1',
      eventId: 'evt_hb',
      type: 'post.published',
      postId: 'post-hb',
      status: 'published',
      createdAt: new Date(clock.now()).toISOString(),
    };
    expect(await ledger.webhookSink.applyDeliveryEvent(event)).toBe('parked');
    await ledger.setResult(`${runId}:0`, { state: 'created', sheetStatus: 'QUEUED', postId: 'post-hb', error: '' });
    const hb = createInstanceHeartbeat({
      instances: ledger.instances,
      ownerId: 'U',
      clock,
      logger: silentLogger,
      leaseMs: LEASE,
      staleMs: 15_000,
      upkeep: () => ledger.applyParkedWebhookEvents(),
    });
    hb.start();
    await hb.ready();
    await hb.stop();
    expect((await ledger.getRow(`${runId}:0`))?.sheet_status).toBe('PUBLISHED');
  });
});
