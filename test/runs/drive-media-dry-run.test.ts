/**
 * The dry run reads each Drive file's metadata (never its bytes) with the token the add-on forwards and checks it
 * against the platform rules, so a wrong type, size or length is found before Publish; unreadable files are named
 * with what to do.
 */
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { ACCOUNTS, WS, startKit, type Kit, type KitRow } from './publish-test-kit';
import type { DryRunResponse } from '../../appsscript/shared/contract';

const USER = 'manager@example.com';
const TOKEN = 'ya29.dry-run-token-0001';
const MB = 1024 * 1024;
const TIKTOK = { id: 'acc_tt0', workspaceId: WS, platform: 'tiktok', username: 'tt0', status: 'connected' as const };
const INSTA = { id: 'acc_ig0', workspaceId: WS, platform: 'instagram', username: 'ig0', status: 'connected' as const };
const LINKEDIN = {
  id: 'acc_li0',
  workspaceId: WS,
  platform: 'linkedin',
  username: 'li0',
  status: 'connected' as const,
};

describe('dry run of rows naming Drive files', () => {
  let drive: DriveFake;
  let kit: Kit;
  beforeAll(async () => {
    drive = await startDriveFake({ tokens: { [TOKEN]: USER } });
    kit = await startKit({
      sandbox: { accounts: [...ACCOUNTS, TIKTOK, INSTA, LINKEDIN] },
      env: { DRIVE_API_URL: drive.url, DRIVE_MEDIA_MAX_BYTES: String(20 * MB) },
    });
  });
  afterAll(async () => {
    await kit.close();
    await kit.sandbox.close();
    await drive.close();
  });

  const errorsOf = (res: DryRunResponse, key: string) =>
    res.rows
      .find((r) => r.key === key)!
      .messages.filter((m) => m.level === 'error')
      .map((m) => m.message)
      .join(' | ');

  it('when files break platform rules or cannot be read, then each row says which file and what to do, and good rows pass', async () => {
    const add = (name: string, mimeType: string, bytes: number, o: { video?: number; owner?: string } = {}) =>
      drive.addFile({
        name,
        mimeType,
        bytes: Buffer.alloc(bytes, 1),
        ownerId: o.owner ?? USER,
        ...(o.video ? { video: { durationMillis: o.video } } : {}),
      });
    const photo = add('photo.jpg', 'image/jpeg', 1000);
    const bigPhoto = add('poster.png', 'image/png', 6 * MB);
    const clip = add('clip.mp4', 'video/mp4', 2000, { video: 30_000 });
    const longReel = add('long.mp4', 'video/mp4', 3000, { video: 120_000 });
    const sheet = add('budget', 'application/vnd.google-apps.spreadsheet', 10);
    const huge = add('huge.mp4', 'video/mp4', 21 * MB, { video: 30_000 });
    const foreign = add('theirs.jpg', 'image/jpeg', 1000, { owner: 'someone@example.com' });
    const webp = add('sticker.webp', 'image/webp', 1000);
    const mov = add('cut.mov', 'video/quicktime', 2000, { video: 30_000 });
    const rows: KitRow[] = [
      { key: 'ok-x', media: `drive:${photo}` },
      { key: 'ok-tt', platform: 'tiktok', account: TIKTOK.id, media: `drive:${clip}` },
      { key: 'x-big', media: `drive:${bigPhoto}` },
      { key: 'tt-photo', platform: 'tiktok', account: TIKTOK.id, media: `drive:${photo}` },
      { key: 'x-mixed', media: `drive:${clip}, drive:${photo}` },
      { key: 'ig-long', platform: 'instagram', account: INSTA.id, media: `drive:${longReel}` },
      { key: 'x-sheet', media: `drive:${sheet}` },
      { key: 'tt-huge', platform: 'tiktok', account: TIKTOK.id, media: `drive:${huge}` },
      { key: 'x-foreign', media: `https://drive.google.com/file/d/${foreign}/view` },
      // The same files are fine or wrong depending on the platform: types and sizes per platform.
      { key: 'x-webp', media: `drive:${webp}` },
      { key: 'ig-webp', platform: 'instagram', account: INSTA.id, media: `drive:${webp}` },
      { key: 'tt-mov', platform: 'tiktok', account: TIKTOK.id, media: `drive:${mov}` },
      { key: 'li-mov', platform: 'linkedin', account: LINKEDIN.id, media: `drive:${mov}` },
      { key: 'ig-big', platform: 'instagram', account: INSTA.id, media: `drive:${bigPhoto}` },
      { key: 'li-big', platform: 'linkedin', account: LINKEDIN.id, media: `drive:${bigPhoto}` },
    ];
    const res = await kit.run('dry-run', rows).set('X-Drive-Access-Token', TOKEN);
    expect(res.status).toBe(200);
    const body = res.body as DryRunResponse;
    expect(errorsOf(body, 'ok-x')).toBe('');
    expect(errorsOf(body, 'ok-tt')).toBe('');
    expect(errorsOf(body, 'x-big')).toContain('"poster.png" is 6 MB; a X tweet takes at most 5 MB per file');
    expect(errorsOf(body, 'tt-photo')).toContain('A TikTok video post needs');
    expect(errorsOf(body, 'x-mixed')).toContain('1 video');
    expect(errorsOf(body, 'ig-long')).toContain('"long.mp4" runs 120 s; a Instagram feed video may run at most 60 s');
    expect(errorsOf(body, 'x-sheet')).toContain('"budget" is application/vnd.google-apps.spreadsheet, not a picture');
    expect(errorsOf(body, 'tt-huge')).toContain('this service moves Drive files of at most 20 MB');
    expect(errorsOf(body, 'x-foreign')).toContain('ask the owner to share it with you');
    expect(errorsOf(body, 'x-webp')).toBe('');
    expect(errorsOf(body, 'ig-webp')).toContain('"sticker.webp" is image/webp, which a Instagram');
    expect(errorsOf(body, 'tt-mov')).toBe('');
    expect(errorsOf(body, 'li-mov')).toContain('"cut.mov" is video/quicktime, which a LinkedIn');
    expect(errorsOf(body, 'ig-big')).toBe('');
    expect(errorsOf(body, 'li-big')).toContain('"poster.png" is 6 MB; a LinkedIn');
    // A dry run reads metadata only.
    for (const id of [photo, bigPhoto, clip, longReel, huge]) expect(drive.statsOf(id).downloads).toBe(0);
  });

  it.each(['appNotAuthorizedToFile', 'notFound'] as const)(
    'when a link names a file the user never picked (Drive answers %s), then the row says to pick it with "Add media from Drive", and once picked it passes',
    async (answer) => {
      drive.update({ notPickedAnswer: answer });
      const id = drive.addFile({
        name: 'typed-in.jpg',
        mimeType: 'image/jpeg',
        bytes: 'jpg',
        ownerId: 'someone@example.com',
        readers: [USER],
        appNotAuthorizedFor: [USER],
      });
      const rows = [{ key: 'typed', media: `https://drive.google.com/file/d/${id}/view?usp=sharing` }];
      const before = errorsOf((await kit.run('dry-run', rows).set('X-Drive-Access-Token', TOKEN)).body, 'typed');
      expect(before).toContain(`the file ${id}`);
      expect(before).toContain('pick it once with "Add media from Drive" in the sidebar');
      expect(before).not.toContain('did not answer');
      drive.pick(id, USER);
      expect(errorsOf((await kit.run('dry-run', rows).set('X-Drive-Access-Token', TOKEN)).body, 'typed')).toBe('');
    },
  );

  it('when the request carries no Drive access, then rows naming Drive files say to use the sidebar', async () => {
    const id = drive.addFile({ name: 'p.jpg', mimeType: 'image/jpeg', bytes: 'x', ownerId: USER });
    const res = await kit.run('dry-run', [{ key: 'k', media: `drive:${id}` }]);
    expect(errorsOf(res.body as DryRunResponse, 'k')).toContain('this request carried no Drive access');
  });
});
