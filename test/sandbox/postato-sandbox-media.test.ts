// Media endpoints of the Postato sandbox over real HTTP (postato-api.md §3.7, §9): upload URL, the raw PUT on the
// sandbox's second port, confirm, list/get/delete, media references checked at create, media deleted before
// delivery, the upload faults, and the recorded events tests use to prove each file was uploaded exactly once.
import { createHash, randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox, type SandboxSettingsPatch } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet } from './postato-sandbox-test-helpers';

const T0 = Date.parse('2030-07-01T08:00:00Z');
const WS = '/v1/workspaces/wks_1';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(2048)]);

describe('Postato sandbox media', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  let n = 0;

  async function start(settings: SandboxSettingsPatch = {}) {
    clock = new ManualClock(T0);
    key = newKey();
    sb = await startPostatoSandbox({ clock, tickIntervalMs: 0, settings: { deliveryStepMs: 1000, ...settings } });
  }
  afterEach(() => sb.close());

  const uploadUrl = (body: Record<string, unknown>, k = key) =>
    call(sb.url, 'POST', `${WS}/media/upload-url`, { key: k, body });
  const put = async (url: string, bytes: Buffer, contentType: string, signal?: AbortSignal) => {
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': contentType },
      body: new Uint8Array(bytes),
      signal,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  const confirm = (id: string, k = key) => call(sb.url, 'POST', `${WS}/media/${id}/confirm`, { key: k });
  /** upload-url → PUT → confirm; returns the media id. */
  async function upload(bytes: Buffer, mimeType: string, k = key): Promise<string> {
    const u = await uploadUrl({ mimeType, filename: 'f', sizeBytes: bytes.length }, k);
    expect((await put(u.json.uploadUrl, bytes, mimeType)).status).toBe(200);
    expect((await confirm(u.json.mediaId, k)).status).toBe(200);
    return u.json.mediaId;
  }
  const withMedia = (id: string, over: Record<string, unknown> = {}) =>
    tweet({ content: [{ text: 'pic', media: [{ id }] }], ...over });
  const create = (body: Record<string, unknown>, k = key) =>
    call(sb.url, 'POST', `${WS}/posts`, { key: k, idem: `m-${++n}`, body });

  it('when a file goes upload-url → PUT → confirm, then it is uploaded, served back, usable in a post and recorded', async () => {
    await start();
    const u = await uploadUrl({ mimeType: 'image/png', filename: 'hero.png', sizeBytes: PNG.length });
    expect(u.status).toBe(201);
    expect(u.json).toEqual({
      mediaId: expect.stringMatching(/^med_[0-9A-Z]{26}$/),
      uploadUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/uploads\/med_\w+\?token=[0-9a-f]{48}$/),
      expiresAt: '2030-07-01T08:15:00.000Z',
    });
    expect(new URL(u.json.uploadUrl).origin).toBe(sb.uploadUrl);
    expect(sb.uploadUrl).not.toBe(sb.url);
    const id = u.json.mediaId as string;
    expect((await call(sb.url, 'GET', `${WS}/media/${id}`, { key })).json).toMatchObject({
      id,
      type: 'image',
      mimeType: 'image/png',
      filename: 'hero.png',
      sizeBytes: PNG.length,
      status: 'pending',
      url: null,
    });
    const p = await put(u.json.uploadUrl, PNG, 'image/png');
    expect(p.status).toBe(200);
    expect(p.headers.get('etag')).toBe(`"${createHash('md5').update(PNG).digest('hex')}"`);
    clock.advance(1000);
    const c = await confirm(id);
    expect(c.status).toBe(200);
    expect(c.json).toMatchObject({ id, status: 'uploaded', uploadedAt: '2030-07-01T08:00:01.000Z' });
    expect((await confirm(id)).json.status).toBe('uploaded'); // confirming again is harmless
    const served = await fetch(c.json.url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG)).toBe(true);
    expect(sb.mediaBytes(id)?.equals(PNG)).toBe(true);

    const post = await create(withMedia(id));
    expect(post.status).toBe(201);
    expect(post.json.content[0].media).toEqual([{ id }]);
    clock.advance(2000);
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/posts/${post.json.id}`, { key })).json.status).toBe('published');
    const del = await call(sb.url, 'DELETE', `${WS}/media/${id}`, { key });
    expect(del.status).toBe(409);
    expect(del.json.error).toBe('media_in_use');

    const sha = createHash('sha256').update(PNG).digest('hex');
    const inspected = sb.inspect();
    expect(inspected.media).toEqual([
      expect.objectContaining({ id, status: 'uploaded', sha256: sha, workspaceId: 'wks_1' }),
    ]);
    expect(inspected.mediaEvents.map((e) => [e.kind, e.status, e.error])).toEqual([
      ['upload_url', 201, undefined],
      ['put', 200, undefined],
      ['confirm', 200, undefined],
      ['confirm', 200, undefined],
      ['delete', 409, 'media_in_use'],
    ]);
    expect(inspected.mediaEvents[1]).toMatchObject({ mediaId: id, sizeBytes: PNG.length, sha256: sha });
    expect(inspected.tenants[0]?.counters.media).toBe(3); // upload-url and two confirms
    const overHttp = await call(sb.url, 'GET', '/__sandbox/inspect');
    expect(overHttp.json.mediaEvents).toHaveLength(5);
  });

  it('when a post names unknown, unconfirmed or another tenant’s media, then create is 422 naming the reference', async () => {
    await start();
    const other = newKey();
    const theirs = await upload(PNG, 'image/png', other);
    const u = await uploadUrl({ mimeType: 'image/png' });
    await put(u.json.uploadUrl, PNG, 'image/png'); // bytes arrived, never confirmed
    const r = await create(
      tweet({ content: [{ text: 'a', media: [{ id: 'med_nope' }, { id: theirs }, { id: u.json.mediaId }] }] }),
    );
    expect(r.status).toBe(422);
    expect(r.json.error).toBe('VALIDATION_FAILED');
    expect(r.json.errors.map((e: { field: string; code: string }) => [e.field, e.code])).toEqual([
      ['content[0].media[0].id', 'media_not_found'],
      ['content[0].media[1].id', 'media_not_found'],
      ['content[0].media[2].id', 'media_not_ready'],
    ]);
    expect(r.json.errors[2].message).toMatch(/confirm/);
    expect(sb.inspect().posts).toHaveLength(0);
    // Media is also checked when validation happens at delivery, and on PATCH.
    sb.update({ validateAt: 'delivery' });
    expect((await create(withMedia('med_nope'))).status).toBe(422);
    const draft = await create(tweet({ status: 'draft' }));
    const patched = await call(sb.url, 'PATCH', `${WS}/posts/${draft.json.id}`, {
      key,
      body: { content: [{ text: 'x', media: [{ id: 'med_nope' }] }] },
    });
    expect(patched.status).toBe(422);
    expect(patched.json.errors[0].code).toBe('media_not_found');
  });

  it('when unknownRefs is accept, then ids it never issued pass (at create and delivery) but its own are still checked', async () => {
    await start({ media: { unknownRefs: 'accept' } });
    const ok = await create(withMedia('med_01HXYZSPRINGTT'));
    expect(ok.status).toBe(201);
    const pending = (await uploadUrl({ mimeType: 'image/png' })).json.mediaId;
    expect((await create(withMedia(pending))).json.errors[0].code).toBe('media_not_ready');
    const theirs = await upload(PNG, 'image/png', newKey());
    expect((await create(withMedia(theirs))).json.errors[0].code).toBe('media_not_found');
    clock.advance(2000);
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/posts/${ok.json.id}`, { key })).json.status).toBe('published');
  });

  it('when confirmOnUse is on, then a post may use uploaded-but-unconfirmed media and confirms it', async () => {
    await start({ media: { confirmOnUse: true } });
    const u = await uploadUrl({ mimeType: 'video/mp4' });
    const empty = await uploadUrl({ mimeType: 'video/mp4' });
    await put(u.json.uploadUrl, Buffer.from('fake mp4 bytes'), 'video/mp4');
    const noBytes = await create(
      tweet({
        platform: 'tiktok',
        accountId: 'acc_tt',
        postType: 'video',
        content: [{ text: 'v', media: [{ id: empty.json.mediaId }] }],
      }),
    );
    expect(noBytes.json.errors[0].code).toBe('media_not_ready');
    const r = await create(
      tweet({
        platform: 'tiktok',
        accountId: 'acc_tt',
        postType: 'video',
        content: [{ text: 'v', media: [{ id: u.json.mediaId }] }],
      }),
    );
    expect(r.status).toBe(201);
    expect((await call(sb.url, 'GET', `${WS}/media/${u.json.mediaId}`, { key })).json.status).toBe('uploaded');
  });

  it('when media referenced by id is checked against platform rules, then its stored type counts', async () => {
    await start();
    const image = await upload(PNG, 'image/png');
    const r = await create(
      tweet({
        platform: 'tiktok',
        accountId: 'acc_tt',
        postType: 'video',
        content: [{ text: 'v', media: [{ id: image }] }],
      }),
    );
    expect(r.status).toBe(422);
    expect(r.json.errors[0]).toMatchObject({ code: 'media_type', platform: 'tiktok' });
  });

  it('when media is deleted before delivery, then the post fails with media_not_found', async () => {
    await start();
    const id = await upload(PNG, 'image/png');
    const post = await create(withMedia(id, { status: 'scheduled', scheduledAt: '2030-07-01T09:00:00Z' }));
    expect(post.status).toBe(201);
    const del = await call(sb.url, 'DELETE', `${WS}/media/${id}`, { key });
    expect(del.json).toEqual({ success: true });
    expect((await call(sb.url, 'GET', `${WS}/media/${id}`, { key })).json).toMatchObject({
      status: 'expired',
      url: null,
    });
    expect(sb.mediaBytes(id)).toBeNull();
    expect((await call(sb.url, 'DELETE', `${WS}/media/${id}`, { key })).status).toBe(404);
    clock.set(Date.parse('2030-07-01T09:00:02Z'));
    await sb.tick();
    const after = (await call(sb.url, 'GET', `${WS}/posts/${post.json.id}`, { key })).json;
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(new RegExp(`^media_not_found: media ${id} was deleted before delivery`));
    expect((await create(withMedia(id))).json.errors[0].code).toBe('media_not_found');
  });

  it('refuses a wrong Content-Type, a wrong size, a bad token, an empty body and a PUT after confirm', async () => {
    await start();
    const u = await uploadUrl({ mimeType: 'image/png', sizeBytes: PNG.length });
    const wrongType = await put(u.json.uploadUrl, PNG, 'image/jpeg');
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error).toBe('content_type_mismatch');
    expect(wrongType.json.message).toContain('image/png');
    const short = await put(u.json.uploadUrl, PNG.subarray(0, 100), 'image/png');
    expect(short.json.error).toBe('size_mismatch');
    const badToken = await put(u.json.uploadUrl.replace(/token=\w+/, 'token=' + 'ab'.repeat(24)), PNG, 'image/png');
    expect(badToken.status).toBe(403);
    expect(badToken.json.error).toBe('invalid_signature');
    const noToken = await put(u.json.uploadUrl.replace(/\?.*$/, ''), PNG, 'image/png');
    expect(noToken.status).toBe(403);
    const e = await uploadUrl({ mimeType: 'image/png' });
    expect((await put(e.json.uploadUrl, Buffer.alloc(0), 'image/png')).json.error).toBe('empty_body');
    expect((await confirm(e.json.mediaId)).json.error).toBe('upload_incomplete');
    expect((await put(u.json.uploadUrl, PNG, 'image/png')).status).toBe(200);
    expect((await confirm(u.json.mediaId)).status).toBe(200);
    const late = await put(u.json.uploadUrl, PNG, 'image/png');
    expect(late.status).toBe(409);
    expect(late.json.error).toBe('already_confirmed');
    expect((await fetch(`${sb.uploadUrl}/uploads/${u.json.mediaId}`)).status).toBe(405);
    expect((await fetch(`${sb.uploadUrl}/elsewhere`)).status).toBe(404);
    const puts = sb.inspect().mediaEvents.filter((x) => x.kind === 'put');
    expect(puts.map((x) => x.status)).toEqual([400, 400, 403, 403, 400, 200, 409]);
    expect(puts.filter((x) => x.status === 200 && x.mediaId === u.json.mediaId)).toHaveLength(1);
  });

  it('refuses unsupported types and files over the size limit, at upload-url and at PUT', async () => {
    await start({ media: { maxSizeBytes: 1000 } });
    const bad = await uploadUrl({ mimeType: 'text/plain', sizeBytes: 0 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details).sort()).toEqual(['mimeType', 'sizeBytes']);
    expect((await uploadUrl({})).json.details.mimeType).toEqual(['is required, e.g. "image/jpeg"']);
    const big = await uploadUrl({ mimeType: 'video/mp4', sizeBytes: 1001 });
    expect(big.status).toBe(400);
    expect(big.json.details.sizeBytes[0]).toMatch(/1001 bytes; the largest file this workspace accepts is 1000 bytes/);
    const undeclared = await uploadUrl({ mimeType: 'application/pdf' });
    const tooLarge = await put(undeclared.json.uploadUrl, randomBytes(1001), 'application/pdf');
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error).toBe('too_large');
    expect((await call(sb.url, 'GET', `${WS}/media/${undeclared.json.mediaId}`, { key })).json.type).toBe('document');
  });

  it('when PUTs and confirms are set to fail, then they answer 503 that many times and then succeed', async () => {
    await start({ faults: { mediaPutFailNext: 2, mediaConfirmFailNext: 1 } });
    const u = await uploadUrl({ mimeType: 'image/png' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await put(u.json.uploadUrl, PNG, 'image/png')).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await confirm(u.json.mediaId)).status).toBe(503);
    expect((await confirm(u.json.mediaId)).json.status).toBe('uploaded');
    expect(sb.settings.faults.mediaPutFailNext).toBe(0);
    const events = sb.inspect().mediaEvents.map((e) => `${e.kind}:${e.status}${e.error ? `:${e.error}` : ''}`);
    expect(events).toEqual([
      'upload_url:201',
      'put:503:simulated_failure',
      'put:503:simulated_failure',
      'put:200',
      'confirm:503:simulated_failure',
      'confirm:200',
    ]);
  });

  it('when a share of PUTs fails, then the seeded generator decides which, the same way for the same seed', async () => {
    const outcomes: number[][] = [];
    for (const _run of [1, 2]) {
      await start({ seed: 7, faults: { mediaPutFailShare: 0.5 } });
      const u = await uploadUrl({ mimeType: 'image/png' });
      const run: number[] = [];
      for (let i = 0; i < 8; i++) run.push((await put(u.json.uploadUrl, PNG, 'image/png')).status);
      outcomes.push(run);
      await sb.close();
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]).toContain(503);
    expect(outcomes[0]).toContain(200);
    sb = await startPostatoSandbox({ tickIntervalMs: 0 }); // for afterEach
  });

  it('when the upload URL has expired, then the PUT is refused, the media fails and a post cannot use it', async () => {
    await start({ media: { uploadUrlTtlMs: 60_000 } });
    const natural = await uploadUrl({ mimeType: 'image/png' });
    clock.advance(60_001);
    expect((await call(sb.url, 'GET', `${WS}/media/${natural.json.mediaId}`, { key })).json.status).toBe('failed');
    const late = await put(natural.json.uploadUrl, PNG, 'image/png');
    expect(late.status).toBe(403);
    expect(late.json.error).toBe('upload_url_expired');
    expect((await confirm(natural.json.mediaId)).json.error).toBe('upload_expired');
    expect((await create(withMedia(natural.json.mediaId))).json.errors[0].code).toBe('media_not_ready');

    sb.update({ faults: { mediaUploadUrlsExpired: true } });
    const forced = await uploadUrl({ mimeType: 'image/png' });
    expect((await put(forced.json.uploadUrl, PNG, 'image/png')).json.error).toBe('upload_url_expired');
    expect((await call(sb.url, 'GET', `${WS}/media/${forced.json.mediaId}`, { key })).json.status).toBe('failed');
  });

  it('when PUT latency is added, then a client with a shorter timeout gives up and nothing is stored', async () => {
    await start({ faults: { mediaPutLatencyMs: 3000 } });
    const u = await uploadUrl({ mimeType: 'image/png' });
    await expect(put(u.json.uploadUrl, PNG, 'image/png', AbortSignal.timeout(100))).rejects.toThrow();
    expect(sb.mediaBytes(u.json.mediaId)).toBeNull();
  });

  it('lists media newest first with status, type, limit and offset; deleted only when asked', async () => {
    await start();
    const img = await upload(PNG, 'image/png');
    const vid = await upload(Buffer.from('mp4'), 'video/mp4');
    const pending = (await uploadUrl({ mimeType: 'image/jpeg' })).json.mediaId;
    const gone = await upload(PNG, 'image/png');
    await call(sb.url, 'DELETE', `${WS}/media/${gone}`, { key });
    const ids = async (q: string) => {
      const r = await call(sb.url, 'GET', `${WS}/media${q}`, { key });
      return r.json.items.map((m: { id: string }) => m.id);
    };
    expect(await ids('')).toEqual([pending, vid, img]);
    expect(await ids('?status=ready')).toEqual([vid, img]);
    expect(await ids('?status=uploaded&type=image')).toEqual([img]);
    expect(await ids('?status=pending')).toEqual([pending]);
    expect(await ids('?status=expired')).toEqual([gone]);
    expect(await ids('?limit=1&offset=1')).toEqual([vid]);
    const page = await call(sb.url, 'GET', `${WS}/media?limit=2`, { key });
    expect(page.json).toMatchObject({ limit: 2, offset: 0, total: 3 });
    const bad = await call(sb.url, 'GET', `${WS}/media?limit=101&type=gif`, { key });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details).sort()).toEqual(['limit', 'type']);
    // Media is scoped to its tenant.
    expect((await call(sb.url, 'GET', `${WS}/media/${img}`, { key: newKey() })).status).toBe(404);
    expect((await call(sb.url, 'GET', `${WS}/media`, { key: newKey() })).json.total).toBe(0);
  });

  it('counts upload-url and confirm in their own rate class', async () => {
    await start({ limits: { media: 2, windowMs: 10_000 } });
    expect((await uploadUrl({ mimeType: 'image/png' })).status).toBe(201);
    expect((await uploadUrl({ mimeType: 'image/png' })).status).toBe(201);
    const third = await uploadUrl({ mimeType: 'image/png' });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('10');
    expect((await create(tweet())).status).toBe(201);
    expect((await call(sb.url, 'GET', `${WS}/media`, { key })).status).toBe(200);
  });
});
