/**
 * Drive files that change between the plan and the upload: Publish plans with each file's metadata (a file the user
 * never picked is INVALID there, with "Add media from Drive"), then the dispatcher reads each file again when it sends
 * the row. A file revoked or grown past DRIVE_MEDIA_MAX_BYTES in between fails its rows with what to do, uploads
 * nothing for them, and the other rows publish. The dispatcher starts only after the files changed.
 */
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { startKit, type Kit, type KitRow } from '../runs/publish-test-kit';

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
