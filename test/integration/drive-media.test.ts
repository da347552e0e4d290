/**
 * Media from Google Drive, end to end over HTTP on 127.0.0.1: the real service (SQLite ledger) reads the files from
 * the Drive fake with the token the add-on forwards, uploads each one to the Postato sandbox's media endpoints once
 * (upload URL, raw PUT on the sandbox's second port, confirm) and creates every post with the right media ids.
 */
import { createHash } from 'node:crypto';
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { ACCOUNTS, WS, startKit, type Kit, type KitRow } from '../runs/publish-test-kit';

const USER = 'manager@example.com';
const OWNER = 'owner@example.com';
const TOKEN = 'ya29.kit-manager-token-0001';
const MB = 1024 * 1024;
const TIKTOK = { id: 'acc_tt0', workspaceId: WS, platform: 'tiktok', username: 'tt0', status: 'connected' as const };

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A small distinct JPEG-looking payload per file. */
const imageBytes = (i: number) =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from(`image-${i}-`.repeat(50 + i))]);

/** Media ids a sandbox post carries, in order (the sandbox keeps a string post's media on its content item too). */
function mediaIdsOf(post: { media?: Array<{ id?: string }>; content: Array<{ media?: Array<{ id?: string }> }> }) {
  const inItems = post.content.flatMap((c) => c.media ?? []);
  return (inItems.length > 0 ? inItems : (post.media ?? [])).map((r) => r.id);
}

describe('media from Google Drive, published through the service', () => {
  let drive: DriveFake;
  let kit: Kit;

  beforeAll(async () => {
    drive = await startDriveFake({ tokens: { [TOKEN]: USER } });
    kit = await startKit({
      sandbox: { accounts: [...ACCOUNTS, TIKTOK] },
      env: {
        DRIVE_API_URL: drive.url,
        DRIVE_MEDIA_MAX_BYTES: String(30 * MB),
        // The counts below ("one upload URL, one download, three metadata reads") hold only if no call times out and is
        // retried. The kit's 800 ms timeout (for tests of timeouts) can fire on a loaded machine while 25 MB move, so
        // this suite, which tests no timeout, gives calls production's time (and leases longer than a call).
        POSTATO_TIMEOUT_MS: '15000',
        DISPATCH_LEASE_MS: '20000',
      },
    });
  });
  afterAll(async () => {
    await kit.close();
    await kit.sandbox.close();
    await drive.close();
  });

  const publish = (rows: KitRow[], spreadsheetId: string) =>
    kit.run('publish', rows, { spreadsheetId }).set('X-Drive-Access-Token', TOKEN);

  /** The sandbox post of each row key (content "Post for <key>"). */
  function postsByKey(): Map<string, ReturnType<Kit['sandbox']['inspect']>['posts'][number]> {
    const out = new Map<string, ReturnType<Kit['sandbox']['inspect']>['posts'][number]>();
    for (const p of kit.sandbox.inspect().posts) {
      const m = /Post for (\S+)/.exec(p.content[0]?.text ?? '');
      if (m) out.set(m[1]!, p);
    }
    return out;
  }

  it('when 70 rows name 30 Drive files, 10 of them shared by several rows, then each file is uploaded exactly once and every post carries its files', async () => {
    const files = Array.from({ length: 30 }, (_, i) => {
      const bytes = imageBytes(i);
      const id = drive.addFile({
        name: `photo-${i}.jpg`,
        mimeType: 'image/jpeg',
        bytes,
        ownerId: OWNER,
        readers: [USER],
      });
      return { id, sha: sha(bytes) };
    });
    const shared = files.slice(0, 10);
    const single = files.slice(10);
    // Share links in the forms Drive hands out, and the drive: form the add-on writes.
    const link = (i: number) =>
      i % 3 === 0
        ? `drive:${files[i]!.id}`
        : i % 3 === 1
          ? `https://drive.google.com/file/d/${files[i]!.id}/view?usp=sharing`
          : `https://drive.google.com/open?id=${files[i]!.id}`;
    const rows: KitRow[] = [];
    const expected = new Map<string, string[]>();
    single.forEach((f, j) => {
      rows.push({ key: `s${j}`, media: link(10 + j) });
      expected.set(`s${j}`, [f.sha]);
    });
    for (let j = 0; j < 40; j++) {
      rows.push({ key: `h${j}`, media: link(j % 10) });
      expected.set(`h${j}`, [shared[j % 10]!.sha]);
    }
    for (let j = 0; j < 10; j++) {
      rows.push({ key: `t${j}`, media: `${link(j)}, ${link((j + 1) % 10)}` });
      expected.set(`t${j}`, [shared[j]!.sha, shared[(j + 1) % 10]!.sha]);
    }

    const res = await publish(rows, 'sheet-drive-70');
    expect(res.status).toBe(202);
    const done = await kit.waitDone(res.body.runId as string, 60_000);
    expect(done.counts).toMatchObject({ total: 70, created: 70, failed: 0 });

    // Exactly one upload URL, one successful PUT and one confirm per file; one full download from Drive per file.
    const events = kit.sandbox.inspect().mediaEvents;
    const media = kit.sandbox.inspect().media;
    const putsPerSha = new Map<string, number>();
    for (const e of events)
      if (e.kind === 'put' && e.status === 200) putsPerSha.set(e.sha256!, (putsPerSha.get(e.sha256!) ?? 0) + 1);
    expect(putsPerSha.size).toBe(30);
    for (const f of files) expect([f.sha, putsPerSha.get(f.sha)]).toEqual([f.sha, 1]);
    expect(events.filter((e) => e.kind === 'upload_url').length).toBe(30);
    expect(media.filter((m) => m.status === 'uploaded').length).toBe(30);
    for (const f of files) expect(drive.statsOf(f.id).fullDownloads).toBe(1);

    // Every post carries the media ids of exactly its files, in the cell's order.
    const shaOf = new Map(media.map((m) => [m.id, m.sha256]));
    const posts = postsByKey();
    expect(posts.size).toBe(70);
    for (const [key, shas] of expected) {
      const ids = mediaIdsOf(posts.get(key)!);
      expect([key, ids.map((id) => shaOf.get(id!))]).toEqual([key, shas]);
    }

    // Publishing the same files again in another sheet uploads nothing new: the ledger remembers each version.
    const again = await publish(
      [
        { key: 'again0', media: link(3) },
        { key: 'again1', media: link(15) },
      ],
      'sheet-drive-again',
    );
    expect((await kit.waitDone(again.body.runId as string)).counts).toMatchObject({ created: 2, failed: 0 });
    expect(kit.sandbox.inspect().mediaEvents.filter((e) => e.kind === 'upload_url').length).toBe(30);

    // A new version of a file (its owner replaced the picture) is uploaded again, once.
    drive.updateFile(files[3]!.id, { bytes: imageBytes(103) });
    const v2 = await publish(
      [
        { key: 'v2a', media: link(3) },
        { key: 'v2b', media: link(3) },
      ],
      'sheet-drive-v2',
    );
    expect((await kit.waitDone(v2.body.runId as string)).counts).toMatchObject({ created: 2, failed: 0 });
    expect(kit.sandbox.inspect().mediaEvents.filter((e) => e.kind === 'upload_url').length).toBe(31);
    const v2Shas = ['v2a', 'v2b'].map((k) =>
      mediaIdsOf(postsByKey().get(k)!).map((id) => kit.sandbox.inspect().media.find((m) => m.id === id)?.sha256),
    );
    expect(v2Shas).toEqual([[sha(imageBytes(103))], [sha(imageBytes(103))]]);
  }, 120_000);

  it('when a 25 MB video and a file over DRIVE_MEDIA_MAX_BYTES are published, then the video goes out and the large file is refused with the limit, uploading nothing', async () => {
    const video = Buffer.alloc(25 * MB, 3);
    const big = Buffer.alloc(31 * MB, 4);
    const videoId = drive.addFile({
      name: 'launch.mp4',
      mimeType: 'video/mp4',
      bytes: video,
      ownerId: USER,
      video: { durationMillis: 30_000 },
    });
    const bigId = drive.addFile({
      name: 'raw-cut.mp4',
      mimeType: 'video/mp4',
      bytes: big,
      ownerId: USER,
      video: { durationMillis: 50_000 },
    });
    const urlsBefore = kit.sandbox.inspect().mediaEvents.filter((e) => e.kind === 'upload_url').length;

    const res = await publish(
      [
        { key: 'vid25', platform: 'tiktok', account: TIKTOK.id, media: `drive:${videoId}` },
        { key: 'vid31', platform: 'tiktok', account: TIKTOK.id, media: `drive:${bigId}` },
      ],
      'sheet-drive-sizes',
    );
    expect(res.status).toBe(202);
    const results = await kit.results((await kit.waitDone(res.body.runId as string, 60_000)).runId);
    expect(results.get('vid25')).toMatchObject({ status: 'SCHEDULED' });
    // Found by the plan (Drive's metadata), so the row is INVALID before anything is read or sent.
    expect(results.get('vid31')).toMatchObject({ status: 'INVALID' });
    expect(results.get('vid31')!.error).toContain(
      '"raw-cut.mp4" is 31 MB; this service moves Drive files of at most 30 MB',
    );
    // What to do instead, as the README says: upload it to Postato and use its id.
    expect(results.get('vid31')!.error).toContain(
      'Upload it to Postato yourself and put its med_… id in the Media cell',
    );

    const post = postsByKey().get('vid25')!;
    const [mediaId] = mediaIdsOf(post);
    expect(sha(kit.sandbox.mediaBytes(mediaId!)!)).toBe(sha(video));
    expect(kit.sandbox.inspect().mediaEvents.filter((e) => e.kind === 'upload_url').length).toBe(urlsBefore + 1);
    expect(drive.statsOf(bigId).downloads).toBe(0);
  }, 120_000);

  it('when a file is no longer shared with the user, then its rows are refused naming it and what to do, and the other rows publish', async () => {
    const kept = drive.addFile({
      name: 'kept.jpg',
      mimeType: 'image/jpeg',
      bytes: imageBytes(500),
      ownerId: OWNER,
      readers: [USER],
    });
    const gone = drive.addFile({
      name: 'revoked.jpg',
      mimeType: 'image/jpeg',
      bytes: imageBytes(501),
      ownerId: OWNER,
      readers: [USER],
    });
    drive.revoke(gone, USER);
    const rows: KitRow[] = [
      ...Array.from({ length: 4 }, (_, i) => ({ key: `ok${i}`, media: `drive:${kept}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ key: `rv${i}`, media: `drive:${gone}` })),
    ];
    const res = await publish(rows, 'sheet-drive-revoked');
    const done = await kit.waitDone(res.body.runId as string, 60_000);
    expect(done.counts).toMatchObject({ total: 7, created: 4 });
    const results = await kit.results(done.runId);
    for (let i = 0; i < 3; i++) {
      const r = results.get(`rv${i}`)!;
      expect(r.status).toBe('INVALID');
      expect(r.error).toContain(`Google Drive does not let the add-on read the file ${gone}`);
      expect(r.error).toContain('ask the owner to share it with you');
    }
    expect(drive.statsOf(gone).downloads).toBe(0);
    const posts = postsByKey();
    for (let i = 0; i < 3; i++) expect(posts.has(`rv${i}`)).toBe(false);
  }, 60_000);

  it('when 12 rows share one file, then a dry run reads its metadata once and a publish twice (its plan, then its rows), not once per row', async () => {
    const id = drive.addFile({ name: 'shared.jpg', mimeType: 'image/jpeg', bytes: imageBytes(700), ownerId: USER });
    const rows: KitRow[] = Array.from({ length: 12 }, (_, i) => ({ key: `m${i}`, media: `drive:${id}` }));
    const dry = await kit
      .run('dry-run', rows, { spreadsheetId: 'sheet-drive-memo' })
      .set('X-Drive-Access-Token', TOKEN);
    expect(dry.status).toBe(200);
    expect(drive.statsOf(id).metadataReads).toBe(1);

    const res = await publish(rows, 'sheet-drive-memo');
    expect((await kit.waitDone(res.body.runId as string)).counts).toMatchObject({ created: 12, failed: 0 });
    const reads = drive.requestLog.filter((r) => r.fileId === id && r.kind === 'metadata');
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(drive.statsOf(id)).toMatchObject({ metadataReads: 3, fullDownloads: 1 });
  }, 60_000);

  it('when an upload fails for a while, then the row is retried (each failure an attempt) and a file already uploaded is not uploaded again', async () => {
    const a = drive.addFile({ name: 'a.jpg', mimeType: 'image/jpeg', bytes: imageBytes(600), ownerId: USER });
    const b = drive.addFile({ name: 'b.jpg', mimeType: 'image/jpeg', bytes: imageBytes(601), ownerId: USER });
    // a goes through first (its own row), then every PUT fails for longer than the row's attempts last.
    const first = await publish([{ key: 'pre-a', media: `drive:${a}` }], 'sheet-drive-retry');
    expect((await kit.waitDone(first.body.runId as string)).counts).toMatchObject({ created: 1 });
    await kit.sandbox.update({ faults: { mediaPutFailNext: 1000 } });
    const res = await publish([{ key: 'ab', media: `drive:${a}, drive:${b}` }], 'sheet-drive-retry');
    const done = await kit.waitDone(res.body.runId as string, 60_000);
    const r = (await kit.results(done.runId)).get('ab')!;
    expect(r.status).toBe('FAILED');
    expect(r.error).toContain('Uploading the Drive file "b.jpg" to Postato failed for now');
    expect(r.error).toContain('Gave up after 8 tries');
    expect(postsByKey().has('ab')).toBe(false);

    // Retry once storage works again: b is uploaded, a is not uploaded a second time.
    await kit.sandbox.update({ faults: { mediaPutFailNext: 0 } });
    const putsOf = (bytes: Buffer) =>
      kit.sandbox.inspect().mediaEvents.filter((e) => e.kind === 'put' && e.status === 200 && e.sha256 === sha(bytes))
        .length;
    const retry = await publish([{ key: 'ab', media: `drive:${a}, drive:${b}` }], 'sheet-drive-retry');
    expect((await kit.waitDone(retry.body.runId as string)).counts).toMatchObject({ created: 1, failed: 0 });
    expect(putsOf(imageBytes(600))).toBe(1);
    expect(putsOf(imageBytes(601))).toBe(1);
  }, 60_000);
});
