/**
 * The upload-once lease of Drive files (drive_media) on both ledger dialects: a file version is claimed by one worker,
 * the others are told it is busy and then find it ready; a lease whose owner's heartbeat went stale is taken over with
 * the pending media id; a late write with an old lease token changes nothing. On PostgreSQL two instances (separate
 * connection pools) race for the same files many times at once, and each file is claimed exactly once.
 */
import { ManualClock } from '../../src/clock';
import { openLedgerDb, type LedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger } from '../../src/ledger/run-ledger';
import type { DriveFileScope } from '../../src/ledger/drive-media-queries';
import { createPgTestDb, type TierName } from '../contract/tier-kit';
import { tempDbFile } from '../runs/publish-test-kit';

const T0 = 1_900_000_000_000;
const LEASE_MS = 30_000;
const STALE_MS = 5_000;
const FILE = { mimeType: 'image/jpeg', sizeBytes: 1234 };
const scope = (over: Partial<DriveFileScope> = {}): DriveFileScope => ({
  tenantId: 'tnt_a',
  workspaceId: 'wks_1',
  driveFileId: 'file-1',
  driveVersion: '1',
  ...over,
});

describe.each<TierName>(['embedded', 'scale-out'])('Drive upload lease on the %s tier', (tier) => {
  const clock = new ManualClock(T0);
  /** Two service instances: on PostgreSQL two pools; on SQLite one handle (the embedded tier is one process). */
  let handles: LedgerDb[];
  let a: RunLedger;
  let b: RunLedger;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    if (tier === 'scale-out') {
      const pg = await createPgTestDb();
      handles = [await openLedgerDb(pg.url), await openLedgerDb(pg.url)];
      drop = pg.drop;
    } else {
      handles = [await openLedgerDb(`sqlite:${tempDbFile()}`)];
      drop = async () => undefined;
    }
    a = new RunLedger(handles[0]!.db, clock);
    b = new RunLedger(handles[handles.length - 1]!.db, clock);
  });
  afterAll(async () => {
    for (const h of handles) await h.close();
    await drop();
  });
  beforeEach(async () => {
    clock.advance(60_000);
    await a.instances.beat('inst-a', clock.now());
    await b.instances.beat('inst-b', clock.now());
  });

  const lease = (owner: string, token: string) => ({
    owner,
    token,
    leaseMs: LEASE_MS,
    staleBefore: clock.now() - STALE_MS,
  });

  it('when one instance holds a file, then the other is told it is busy and finds it ready once confirmed', async () => {
    const s = scope({ driveFileId: 'busy-then-ready' });
    expect(await a.driveMedia.claimUpload(s, lease('inst-a', 'tok-a'), FILE)).toEqual({
      kind: 'claimed',
      pendingMediaId: null,
    });
    expect(await b.driveMedia.claimUpload(s, lease('inst-b', 'tok-b'), FILE)).toEqual({
      kind: 'busy',
      leaseUntil: clock.now() + LEASE_MS,
    });
    await a.driveMedia.notePending(s, 'tok-a', 'med_1');
    expect(await b.driveMedia.readyMedia(s)).toBeNull();
    await a.driveMedia.markReady(s, 'tok-a', 'med_1');
    expect(await b.driveMedia.readyMedia(s)).toBe('med_1');
    expect(await b.driveMedia.claimUpload(s, lease('inst-b', 'tok-b2'), FILE)).toEqual({
      kind: 'ready',
      mediaId: 'med_1',
    });
  });

  it('when the tenant, workspace or version differs, then it is another file with its own lease', async () => {
    const base = scope({ driveFileId: 'scoped' });
    await a.driveMedia.claimUpload(base, lease('inst-a', 'tok-1'), FILE);
    await a.driveMedia.markReady(base, 'tok-1', 'med_base');
    for (const other of [{ tenantId: 'tnt_b' }, { workspaceId: 'wks_2' }, { driveVersion: '2' }]) {
      const s = scope({ driveFileId: 'scoped', ...other });
      expect(await b.driveMedia.readyMedia(s)).toBeNull();
      expect((await b.driveMedia.claimUpload(s, lease('inst-b', `tok-${JSON.stringify(other)}`), FILE)).kind).toBe(
        'claimed',
      );
    }
  });

  it('when the holder stops heartbeating, then the other instance takes the lease over with the pending media id, and the old holder can no longer write', async () => {
    const s = scope({ driveFileId: 'taken-over' });
    await a.driveMedia.claimUpload(s, lease('inst-a', 'tok-old'), FILE);
    await a.driveMedia.notePending(s, 'tok-old', 'med_pending');
    // inst-a dies: only inst-b keeps beating.
    clock.advance(STALE_MS + 1);
    await b.instances.beat('inst-b', clock.now());
    expect(await b.driveMedia.claimUpload(s, lease('inst-b', 'tok-new'), FILE)).toEqual({
      kind: 'claimed',
      pendingMediaId: 'med_pending',
    });
    await a.driveMedia.markReady(s, 'tok-old', 'med_late');
    await a.driveMedia.release(s, 'tok-old', { forgetPending: true });
    expect(await b.driveMedia.readyMedia(s)).toBeNull();
    await b.driveMedia.release(s, 'tok-new', { forgetPending: true });
    expect(await a.driveMedia.claimUpload(s, lease('inst-a', 'tok-3'), FILE)).toEqual({
      kind: 'claimed',
      pendingMediaId: null,
    });
  });

  it('when two instances race for the same files many times at once, then each file is claimed exactly once and the rest are busy', async () => {
    const files = Array.from({ length: 20 }, (_, i) => scope({ driveFileId: `race-${i}` }));
    const attempts = files.flatMap((s) =>
      Array.from({ length: 8 }, (_, j) => {
        const [ledger, owner] = j % 2 === 0 ? [a, 'inst-a'] : [b, 'inst-b'];
        return ledger.driveMedia
          .claimUpload(s, lease(owner, `${s.driveFileId}-${j}`), FILE)
          .then((claim) => ({ file: s.driveFileId, kind: claim.kind }));
      }),
    );
    const outcomes = await Promise.all(attempts);
    for (const s of files) {
      const kinds = outcomes.filter((o) => o.file === s.driveFileId).map((o) => o.kind);
      expect([
        s.driveFileId,
        kinds.filter((k) => k === 'claimed').length,
        kinds.filter((k) => k === 'busy').length,
      ]).toEqual([s.driveFileId, 1, 7]);
    }
  });
});
