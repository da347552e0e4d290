// The Google Drive fake over real HTTP, driven by googleapis' own Drive v3 client where it can be: metadata with
// partial-response fields, downloads with Range, tokens mapped to users, 401/403/404 as Drive answers them, revoked
// files, per-file download counters and the injected faults.
import { createHash, randomBytes } from 'node:crypto';
import { google, type drive_v3 } from 'googleapis';
import { ManualClock } from '../../src/clock';
import { startDriveFake, type DriveFake } from '../../src/sandbox/drive-fake';
import { applyFields, parseFields } from '../../src/sandbox/drive-fake-fields';

const T0 = Date.parse('2030-08-01T10:00:00Z');
const VIDEO = randomBytes(64 * 1024);
const FIELDS = 'id,name,mimeType,size,md5Checksum,version,modifiedTime,videoMediaMetadata(durationMillis)';

describe('Drive fake', () => {
  let fake: DriveFake;
  let clock: ManualClock;
  let videoId: string;
  let sharedId: string;

  const client = (token: string): drive_v3.Drive => {
    // Native fetch: gaxios' default dynamic import of node-fetch does not run under jest.
    const auth = new google.auth.OAuth2({ transporterOptions: { fetchImplementation: fetch } });
    auth.setCredentials({ access_token: token });
    return google.drive({ version: 'v3', auth, rootUrl: `${fake.url}/`, fetchImplementation: fetch });
  };
  /** The Drive error's status and reason as googleapis reports it. */
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      const e = err as { status?: number; response?: { status: number; data: unknown } };
      const data = e.response?.data as { error?: { errors?: Array<{ reason: string }>; message?: string } } | undefined;
      return { status: e.response?.status, reason: data?.error?.errors?.[0]?.reason, message: data?.error?.message };
    }
    throw new Error('expected the call to fail');
  };
  const raw = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${fake.url}${path}`, { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await startDriveFake({
      clock,
      tokens: { 'tok-ana': 'ana@example.com', 'tok-bo': 'bo@example.com' },
    });
    videoId = fake.addFile({
      name: 'launch.mp4',
      mimeType: 'video/mp4',
      bytes: VIDEO,
      ownerId: 'ana@example.com',
      video: { durationMillis: 12_345, width: 1080, height: 1920 },
    });
    sharedId = fake.addFile({
      id: 'shared-file-1',
      name: 'hero.png',
      mimeType: 'image/png',
      bytes: 'png bytes',
      ownerId: 'ana@example.com',
      readers: ['bo@example.com'],
      image: { width: 1200, height: 1500 },
    });
  });
  afterEach(() => fake.close());

  it('returns the metadata fields the dry run needs, in Drive v3 types, through googleapis', async () => {
    const res = await client('tok-ana').files.get({ fileId: videoId, fields: FIELDS, supportsAllDrives: true });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      id: videoId,
      name: 'launch.mp4',
      mimeType: 'video/mp4',
      size: String(VIDEO.length),
      md5Checksum: createHash('md5').update(VIDEO).digest('hex'),
      version: '1',
      modifiedTime: '2030-08-01T10:00:00.000Z',
      videoMediaMetadata: { durationMillis: '12345' },
    });
    const plain = await client('tok-bo').files.get({ fileId: sharedId });
    expect(plain.data).toEqual({ kind: 'drive#file', id: sharedId, name: 'hero.png', mimeType: 'image/png' });
    const nested = await client('tok-bo').files.get({
      fileId: sharedId,
      fields: 'capabilities/canDownload,imageMediaMetadata',
    });
    expect(nested.data).toEqual({
      capabilities: { canDownload: true },
      imageMediaMetadata: { width: 1200, height: 1500 },
    });
    const bad = await failure(client('tok-ana').files.get({ fileId: videoId, fields: 'id,sizee' }));
    expect(bad).toMatchObject({ status: 400, reason: 'invalidParameter', message: 'Invalid field selection sizee' });
    expect(fake.statsOf(videoId).metadataReads).toBe(1);
  });

  it('downloads bytes with alt=media, whole or by Range, and counts downloads per file', async () => {
    const drive = client('tok-ana');
    const whole = await drive.files.get({ fileId: videoId, alt: 'media' }, { responseType: 'arraybuffer' });
    expect(Buffer.from(whole.data as unknown as ArrayBuffer).equals(VIDEO)).toBe(true);
    const typed = await raw(`/drive/v3/files/${sharedId}?alt=media`, 'tok-ana');
    expect(typed.headers.get('content-type')).toBe('image/png');
    expect(typed.headers.get('accept-ranges')).toBe('bytes');
    expect(await typed.text()).toBe('png bytes');
    const part = await raw(`/drive/v3/files/${videoId}?alt=media`, 'tok-ana', { Range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${VIDEO.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(VIDEO.subarray(100, 200))).toBe(true);
    const tail = await raw(`/drive/v3/files/${videoId}?alt=media`, 'tok-ana', { Range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(VIDEO.subarray(VIDEO.length - 10))).toBe(true);
    const open = await raw(`/drive/v3/files/${videoId}?alt=media`, 'tok-ana', { Range: `bytes=${VIDEO.length - 5}-` });
    expect((await open.arrayBuffer()).byteLength).toBe(5);
    const beyond = await raw(`/drive/v3/files/${videoId}?alt=media`, 'tok-ana', { Range: `bytes=${VIDEO.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${VIDEO.length}`);
    expect(fake.statsOf(videoId)).toEqual({
      downloads: 4,
      fullDownloads: 1,
      bytesServed: VIDEO.length + 100 + 10 + 5,
      metadataReads: 0,
      denied: 0,
    });
    expect(fake.statsOf(sharedId).downloads).toBe(1);
  });

  it('answers 401 without a token or with an unknown or revoked one', async () => {
    const none = await raw(`/drive/v3/files/${videoId}?fields=id`);
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatchObject({
      code: 401,
      status: 'UNAUTHENTICATED',
      errors: [{ reason: 'required' }],
    });
    expect(await failure(client('tok-nobody').files.get({ fileId: videoId }))).toMatchObject({
      status: 401,
      reason: 'authError',
    });
    const t = fake.setToken('cy@example.com');
    expect(t).toMatch(/^ya29\.fake-/);
    fake.share(videoId, 'cy@example.com');
    expect((await client(t).files.get({ fileId: videoId })).status).toBe(200);
    fake.revokeToken(t);
    expect((await failure(client(t).files.get({ fileId: videoId }))).status).toBe(401);
  });

  it('hides files the caller cannot read (404), and answers 403 like Drive for app grants, viewers and Docs files', async () => {
    expect(await failure(client('tok-bo').files.get({ fileId: videoId, fields: 'id' }))).toMatchObject({
      status: 404,
      reason: 'notFound',
      message: `File not found: ${videoId}.`,
    });
    expect((await failure(client('tok-ana').files.get({ fileId: 'no-such-file' }))).status).toBe(404);
    const picked = fake.addFile({
      name: 'not-picked.jpg',
      mimeType: 'image/jpeg',
      bytes: 'jpg',
      ownerId: 'ana@example.com',
      readers: ['bo@example.com'],
      appNotAuthorizedFor: ['bo@example.com'],
    });
    expect(await failure(client('tok-bo').files.get({ fileId: picked, alt: 'media' }))).toMatchObject({
      status: 403,
      reason: 'appNotAuthorizedToFile',
    });
    const restricted = fake.addFile({
      name: 'r.mp4',
      mimeType: 'video/mp4',
      bytes: 'v',
      ownerId: 'ana@example.com',
      readers: ['bo@example.com'],
      downloadRestricted: true,
    });
    const meta = await client('tok-bo').files.get({ fileId: restricted, fields: 'capabilities' });
    expect(meta.data.capabilities).toEqual({ canDownload: false });
    expect(await failure(client('tok-bo').files.get({ fileId: restricted, alt: 'media' }))).toMatchObject({
      status: 403,
      reason: 'cannotDownloadFile',
    });
    expect((await client('tok-ana').files.get({ fileId: restricted, alt: 'media' })).status).toBe(200);
    const doc = fake.addFile({
      name: 'Brief',
      mimeType: 'application/vnd.google-apps.document',
      bytes: '',
      ownerId: 'ana@example.com',
    });
    expect(await failure(client('tok-ana').files.get({ fileId: doc, alt: 'media' }))).toMatchObject({
      status: 403,
      reason: 'fileNotDownloadable',
    });
    expect(fake.statsOf(videoId).denied).toBe(1);
  });

  it('when a file was never picked under drive.file, then Drive answers 404 notFound or 403 appNotAuthorizedToFile as set, until it is picked', async () => {
    const unpicked = fake.addFile({
      name: 'typed-in.jpg',
      mimeType: 'image/jpeg',
      bytes: 'jpg',
      ownerId: 'ana@example.com',
      readers: ['bo@example.com'],
      appNotAuthorizedFor: ['bo@example.com'],
    });
    expect(await failure(client('tok-bo').files.get({ fileId: unpicked, fields: 'id' }))).toMatchObject({
      status: 403,
      reason: 'appNotAuthorizedToFile',
    });
    fake.update({ notPickedAnswer: 'notFound' });
    expect(await failure(client('tok-bo').files.get({ fileId: unpicked, fields: 'id' }))).toMatchObject({
      status: 404,
      reason: 'notFound',
      message: `File not found: ${unpicked}.`,
    });
    // The owner's own token is not affected, and picking the file grants it.
    expect((await client('tok-ana').files.get({ fileId: unpicked, fields: 'id' })).status).toBe(200);
    fake.pick(unpicked, 'bo@example.com');
    expect((await client('tok-bo').files.get({ fileId: unpicked, alt: 'media' })).status).toBe(200);
    expect(fake.statsOf(unpicked).denied).toBe(2);
  });

  it('when a file is revoked, then the reader gets 404 while the owner still reads it; link sharing works until revoked', async () => {
    expect((await client('tok-bo').files.get({ fileId: sharedId, alt: 'media' })).status).toBe(200);
    fake.revoke(sharedId, 'bo@example.com');
    expect((await failure(client('tok-bo').files.get({ fileId: sharedId, alt: 'media' }))).status).toBe(404);
    expect((await client('tok-ana').files.get({ fileId: sharedId, alt: 'media' })).status).toBe(200);
    const linked = fake.addFile({
      name: 'l.png',
      mimeType: 'image/png',
      bytes: 'l',
      ownerId: 'ana@example.com',
      anyoneWithLink: true,
    });
    expect((await client('tok-bo').files.get({ fileId: linked })).status).toBe(200);
    fake.revoke(linked);
    expect((await failure(client('tok-bo').files.get({ fileId: linked }))).status).toBe(404);
    fake.deleteFile(sharedId);
    expect((await failure(client('tok-ana').files.get({ fileId: sharedId }))).status).toBe(404);
  });

  it('when a file changes, then its version, checksum and modifiedTime move', async () => {
    clock.advance(60_000);
    fake.updateFile(videoId, { bytes: 'new cut' });
    const res = await client('tok-ana').files.get({ fileId: videoId, fields: 'version,md5Checksum,size,modifiedTime' });
    expect(res.data).toEqual({
      version: '2',
      md5Checksum: createHash('md5').update('new cut').digest('hex'),
      size: '7',
      modifiedTime: '2030-08-01T10:01:00.000Z',
    });
    expect(fake.metadata(videoId)).toMatchObject({ version: '2', owners: [{ emailAddress: 'ana@example.com' }] });
  });

  it('when downloads are set to fail, then googleapis retries them and the log shows each attempt', async () => {
    fake.update({ faults: { failNextDownloads: 2, failStatus: 503 } });
    const res = await client('tok-ana').files.get({ fileId: sharedId, alt: 'media' }, { responseType: 'arraybuffer' });
    expect(Buffer.from(res.data as unknown as ArrayBuffer).toString()).toBe('png bytes');
    const media = fake.requestLog.filter((r) => r.kind === 'media').map((r) => r.status);
    expect(media).toEqual([503, 503, 200]);
    expect(fake.statsOf(sharedId)).toMatchObject({ downloads: 1, denied: 0 });
    fake.update({ faults: { failNextDownloads: 1, failStatus: 429 } });
    const limited = await raw(`/drive/v3/files/${sharedId}?alt=media`, 'tok-ana');
    expect(limited.status).toBe(429);
    expect((await limited.json()).error.errors[0]).toMatchObject({
      reason: 'rateLimitExceeded',
      domain: 'usageLimits',
    });
  });

  it('when a download is truncated, then the client sees a broken body and it does not count as a download', async () => {
    fake.update({ faults: { truncateNextDownloads: 1 } });
    const res = await raw(`/drive/v3/files/${videoId}?alt=media`, 'tok-ana');
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect(fake.statsOf(videoId).downloads).toBe(0);
    const again = await raw(`/drive/v3/files/${videoId}?alt=media`, 'tok-ana');
    expect((await again.arrayBuffer()).byteLength).toBe(VIDEO.length);
    expect(fake.stats()[videoId]?.downloads).toBe(1);
    fake.resetCounters();
    expect(fake.requestLog).toEqual([]);
    expect(fake.stats()).toEqual({});
  });

  it('answers unknown routes and methods in Drive’s error shape', async () => {
    expect((await raw('/drive/v3/about', 'tok-ana')).status).toBe(404);
    const post = await fetch(`${fake.url}/drive/v3/files/${videoId}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer tok-ana' },
    });
    expect(post.status).toBe(405);
    expect((await raw(`/drive/v3/files/${videoId}?alt=csv`, 'tok-ana')).status).toBe(400);
  });
});

describe('Drive fake fields parser', () => {
  it('parses nested, slashed and repeated selections and applies them', () => {
    const tree = parseFields('id, a/b,a(c),d(e/f,g)');
    const value = { id: 1, a: { b: 2, c: 3, x: 4 }, d: { e: { f: 5, h: 6 }, g: 7 }, z: 8 };
    expect(applyFields(value, tree)).toEqual({ id: 1, a: { b: 2, c: 3 }, d: { e: { f: 5 }, g: 7 } });
    expect(applyFields(value, parseFields('*'))).toEqual(value);
    expect(applyFields(value, parseFields('a,a/b'))).toEqual({ a: value.a });
    for (const bad of ['', 'a(', 'a)b', 'a,,b', 'a//b'])
      expect(() => parseFields(bad)).toThrow(/Invalid field selection/);
  });
});
