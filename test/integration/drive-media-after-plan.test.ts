/**
 * Drive files that change between the plan and the upload: Publish plans with each file's metadata (a file the user
 * never picked is INVALID there, with "Add media from Drive"), then the dispatcher reads each file again when it sends
 * the row. A file revoked or grown past DRIVE_MEDIA_MAX_BYTES in between fails its rows with what to do, uploads
 * nothing for them, and the other rows publish. The dispatcher starts only after the files changed. A file refused
 * while the run goes on, then made readable again and followed by another Publish (which joins the run), is read
 * afresh for the run's remaining rows instead of failing them from the run's memory of Drive answers.
 */
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { startKit, type Kit, type KitRow } from '../runs/publish-test-kit';
import { until } from '../wait-until';
import { RUN_CACHE_MS } from '../../src/runs/publish-step';

const USER = 'manager@example.com';
const OWNER = 'owner@example.com';
const TOKEN = 'ya29.after-plan-token-0001';
const MB = 1024 * 1024;
const jpeg = (n: number, fill: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(n, fill)]);

describe('Drive files that change after Publish planned them', () => {
  let drive: DriveFake;
  let kit: Kit;
  beforeAll(async () => {
    drive = await startDriveFake({ tokens: { [TOKEN]: USER }, notPickedAnswer: 'notFound' });
    kit = await startKit({
      env: { DRIVE_API_URL: drive.url, DRIVE_MEDIA_MAX_BYTES: String(MB) },
      overrides: { startDispatcher: false },
    });
  });
  afterAll(async () => {
    await kit.close();
    await drive.close();
  });

  it('when a file is revoked or grows too large before it is sent, then its rows fail saying what to do, a file never picked is INVALID saying to pick it, and the others publish', async () => {
    const add = (name: string, bytes: Buffer, o: { unpicked?: boolean } = {}) =>
      drive.addFile({
        name,
        mimeType: 'image/jpeg',
        bytes,
        ownerId: OWNER,
        readers: [USER],
        ...(o.unpicked ? { appNotAuthorizedFor: [USER] } : {}),
      });
    const kept = add('kept.jpg', jpeg(1000, 1));
    const revoked = add('revoked-later.jpg', jpeg(1000, 2));
    const grown = add('grown-later.jpg', jpeg(1000, 3));
    const unpicked = add('typed-in.jpg', jpeg(1000, 4), { unpicked: true });
    const rows: KitRow[] = [
      { key: 'ok0', media: `drive:${kept}` },
      { key: 'ok1', media: `drive:${kept}` },
      { key: 'rv0', media: `drive:${revoked}` },
      { key: 'rv1', media: `https://drive.google.com/file/d/${revoked}/view` },
      { key: 'gr0', media: `drive:${grown}, drive:${kept}` },
      { key: 'np0', media: `https://drive.google.com/open?id=${unpicked}` },
    ];
    const res = await kit
      .run('publish', rows, { spreadsheetId: 'sheet-after-plan' })
      .set('X-Drive-Access-Token', TOKEN);
    expect(res.status).toBe(202);

    // Between the plan and the upload: access taken away, and the owner replaced a picture with a 2 MB one.
    drive.revoke(revoked, USER);
    drive.updateFile(grown, { bytes: jpeg(2 * MB, 5) });
    kit.service.dispatcher.start();
    const done = await kit.waitDone(res.body.runId as string, 60_000);
    const results = await kit.results(done.runId);

    expect(['ok0', 'ok1'].map((k) => results.get(k)?.status)).toEqual(['SCHEDULED', 'SCHEDULED']);
    for (const k of ['rv0', 'rv1']) {
      const r = results.get(k)!;
      expect([k, r.status]).toEqual([k, 'FAILED']);
      expect(r.error).toContain(`Google Drive does not let the add-on read the file ${revoked}`);
      expect(r.error).toContain('pick it once with "Add media from Drive"');
      expect(r.error).toContain('ask the owner to share it with you');
    }
    const gr = results.get('gr0')!;
    expect(gr.status).toBe('FAILED');
    expect(gr.error).toContain(
      'The Drive file "grown-later.jpg" is 2.0 MB; this service moves files of at most 1.0 MB',
    );
    expect(gr.error).toContain('Upload it to Postato yourself');
    const np = results.get('np0')!;
    expect(np.status).toBe('INVALID');
    expect(np.error).toContain(`Google Drive does not let the add-on read the file ${unpicked}`);
    expect(np.error).toContain('pick it once with "Add media from Drive" in the sidebar');

    // Only the kept file went to Postato; the failed rows have no post.
    const posts = kit.sandbox.inspect().posts.map((p) => /Post for (\S+)/.exec(p.content[0]?.text ?? '')?.[1]);
    expect(posts.sort()).toEqual(['ok0', 'ok1']);
    expect(kit.sandbox.inspect().mediaEvents.filter((e) => e.kind === 'upload_url').length).toBe(1);
    for (const id of [revoked, grown, unpicked]) expect(drive.statsOf(id).downloads).toBe(0);
  }, 90_000);
});

describe('a Drive file refused during a run, then made readable and Publish pressed again', () => {
  let drive: DriveFake;
  let kit: Kit;
  beforeAll(async () => {
    drive = await startDriveFake({ tokens: { [TOKEN]: USER } });
    kit = await startKit({
      // Enough tries that the rows held back by failing downloads outlast the test's steps, however slow the machine.
      env: { DRIVE_API_URL: drive.url, DRIVE_MEDIA_MAX_BYTES: String(MB), POSTATO_MAX_ATTEMPTS: '30' },
      overrides: { startDispatcher: false },
    });
  });
  afterAll(async () => {
    await kit.close();
    await drive.close();
  });

  it('when a Publish joins the run after the file was refused, then the run reads the file again for its remaining rows and they publish', async () => {
    const first = drive.addFile({ name: 'first.jpg', mimeType: 'image/jpeg', bytes: jpeg(1000, 6), ownerId: USER });
    const later = drive.addFile({
      name: 'later.jpg',
      mimeType: 'image/jpeg',
      bytes: jpeg(1000, 7),
      ownerId: OWNER,
      readers: [USER],
    });
    // r0 reads `later` at once; the gf rows reach it only after `first` is uploaded, which fails until the test says.
    const rows: KitRow[] = [
      { key: 'r0', media: `drive:${later}` },
      { key: 'gf0', media: `drive:${first}, drive:${later}` },
      { key: 'gf1', media: `drive:${first}, drive:${later}` },
    ];
    const publish = () =>
      kit.run('publish', rows, { spreadsheetId: 'sheet-refused-then-picked' }).set('X-Drive-Access-Token', TOKEN);
    const res = await publish();
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;

    drive.revoke(later, USER);
    drive.update({ faults: { failNextDownloads: 1_000_000 } });
    kit.service.dispatcher.start();
    await until(
      'r0 to fail on the refused file',
      async () => (await kit.results(runId)).get('r0')?.status === 'FAILED',
    );
    expect((await kit.results(runId)).get('r0')!.error).toContain(
      `Google Drive does not let the add-on read the file ${later}`,
    );
    // Drive was asked about `later` by the plan and by r0 only: the gf rows have not reached it yet.
    const laterReads = () => drive.requestLog.filter((r) => r.fileId === later && r.kind === 'metadata');
    expect(laterReads().map((r) => r.status)).toEqual([200, 404]);

    // The owner shares it again (or the user picks it) and the user presses Publish: the request joins the run.
    drive.share(later, USER);
    const again = await publish();
    expect([again.status, again.body.runId, again.body.joined]).toEqual([202, runId, true]);
    // The step reads a run at most once per RUN_CACHE_MS: let the held rows try again well after that, so they hold
    // the joined run, then let `first` through.
    const joinedAt = Date.now();
    await until('the held rows to try again after the join is seen', () =>
      drive.requestLog.some((r) => r.kind === 'media' && r.at > joinedAt + 2 * RUN_CACHE_MS),
    );
    drive.update({ faults: { failNextDownloads: 0 } });

    const done = await kit.waitDone(runId, 60_000);
    const results = await kit.results(done.runId);
    expect(['gf0', 'gf1'].map((k) => [k, results.get(k)?.status])).toEqual([
      ['gf0', 'SCHEDULED'],
      ['gf1', 'SCHEDULED'],
    ]);
    // Read again once for the joined run (after the join's own plan), not answered from the refusal.
    expect(laterReads().map((r) => r.status)).toEqual([200, 404, 200, 200]);
  }, 90_000);
});
