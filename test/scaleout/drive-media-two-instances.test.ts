/**
 * Two service instances on the scale-out tier (one PostgreSQL ledger, BullMQ on Redis) publish two runs at once whose
 * rows share the same Drive files, so both instances' workers race for the same uploads. The upload-once lease in the
 * ledger lets one worker move each file: every file is PUT and confirmed once, and every post carries its file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { ACCOUNTS, FAST_LIMITS, fakeApiKey, startKit, type Kit, type KitRow } from '../runs/publish-test-kit';
import { openTestTier, type TestTier } from '../contract/tier-kit';

const USER = 'manager@example.com';
const TOKEN = 'ya29.two-instances-token-0001';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('two instances on the scale-out tier uploading shared Drive files', () => {
  let tier: TestTier;
  let sandbox: PostatoSandbox;
  let drive: DriveFake;
  const kits: Kit[] = [];

  beforeAll(async () => {
    tier = await openTestTier('scale-out');
    // Slow PUTs keep each upload in flight long enough for the other instance's workers to ask for the same file.
    sandbox = await startPostatoSandbox({
      settings: { accounts: ACCOUNTS, limits: FAST_LIMITS, faults: { mediaPutLatencyMs: 150 } },
      tickIntervalMs: 0,
    });
    drive = await startDriveFake({ tokens: { [TOKEN]: USER } });
    // Both instances must open each other's sealed API keys and Drive tokens: one KEY_ENCRYPTION_KEY.
    const env = {
      ...tier.env,
      DRIVE_API_URL: drive.url,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DISPATCH_LEASE_MS: '5000',
    };
    kits.push(await startKit({ existingSandbox: sandbox, env }));
    kits.push(await startKit({ existingSandbox: sandbox, env }));
  });
  afterAll(async () => {
    for (const k of kits) await k.close();
    await sandbox?.close();
    await drive?.close();
    await tier?.cleanup();
  });

  it('when two runs on two instances name the same 6 files, then each file is uploaded once and every post carries its file', async () => {
    const files = Array.from({ length: 6 }, (_, i) => {
      const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(30_000 + i)]);
      return {
        id: drive.addFile({ name: `s${i}.jpg`, mimeType: 'image/jpeg', bytes, ownerId: USER }),
        sha: sha(bytes),
      };
    });
    const rowsFor = (prefix: string): KitRow[] =>
      Array.from({ length: 18 }, (_, j) => ({ key: `${prefix}${j}`, media: `drive:${files[j % 6]!.id}` }));
    // One tenant (the same API key) on both instances: the ledger's upload memory is per tenant.
    const apiKey = fakeApiKey();
    const [resA, resB] = await Promise.all(
      kits.map((k, i) =>
        k
          .run('publish', rowsFor(i === 0 ? 'a' : 'b'), { spreadsheetId: `sheet-race-${i}`, apiKey })
          .set('X-Drive-Access-Token', TOKEN),
      ),
    );
    const doneA = await kits[0]!.waitDone(resA!.body.runId as string, 90_000);
    const doneB = await kits[1]!.waitDone(resB!.body.runId as string, 90_000);
    expect([doneA.counts, doneB.counts]).toMatchObject([
      { total: 18, created: 18, failed: 0 },
      { total: 18, created: 18, failed: 0 },
    ]);

    const inspection = sandbox.inspect();
    for (const f of files) {
      const puts = inspection.mediaEvents.filter((e) => e.kind === 'put' && e.status === 200 && e.sha256 === f.sha);
      const confirmed = inspection.media.filter((m) => m.status === 'uploaded' && m.sha256 === f.sha);
      expect([f.sha, puts.length, confirmed.length]).toEqual([f.sha, 1, 1]);
    }
    expect(inspection.mediaEvents.filter((e) => e.kind === 'upload_url').length).toBe(6);
    const shaOf = new Map(inspection.media.map((m) => [m.id, m.sha256]));
    const seen = new Set<string>();
    for (const p of inspection.posts) {
      const key = /Post for (\S+)/.exec(p.content[0]?.text ?? '')![1]!;
      seen.add(key);
      const ids = (p.content[0]?.media ?? p.media ?? []).map((m) => m.id);
      expect([key, ids.map((id) => shaOf.get(id!))]).toEqual([key, [files[Number(key.slice(1)) % 6]!.sha]]);
    }
    expect(seen.size).toBe(36);
  }, 120_000);
});
