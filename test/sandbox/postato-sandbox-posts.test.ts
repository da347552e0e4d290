// Posts endpoints of the Postato sandbox (create, list, get, update, cancel) on a ManualClock, over real HTTP.
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { call, newKey, tweet } from './postato-sandbox-test-helpers';

const T0 = Date.parse('2030-03-10T12:00:00Z');
const WS = '/v1/workspaces/wks_1/posts';

describe('Postato sandbox posts', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  let n = 0;
  const create = (body: Record<string, unknown>) => call(sb.url, 'POST', WS, { key, idem: `k-${++n}`, body });

  beforeEach(async () => {
    clock = new ManualClock(T0);
    key = newKey();
    sb = await startPostatoSandbox({ clock, tickIntervalMs: 0, settings: { deliveryStepMs: 1000 } });
  });
  afterEach(() => sb.close());

  it('when a post is created, then 201 returns the §16 post object with x stored as twitter', async () => {
    const r = await create(tweet({ platform: 'x', content: 'Hello' }));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      status: 'queued',
      platform: 'twitter',
      accountId: 'acc_tw',
      postType: 'tweet',
      content: [{ text: 'Hello' }],
      scheduledAt: null,
      createdAt: new Date(T0).toISOString(),
      items: [{ index: 0, text: 'Hello', status: 'queued' }],
    });
    expect(r.json.id).toMatch(/^pst_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.json.items[0].id).toEqual(expect.any(String));
  });

  it('when scheduledAt carries an offset, then it is stored in UTC with Z and the post is scheduled', async () => {
    const r = await create(tweet({ status: 'scheduled', scheduledAt: '2030-03-10T09:30:00-04:00' }));
    expect(r.status).toBe(201);
    expect(r.json.status).toBe('scheduled');
    expect(r.json.scheduledAt).toBe('2030-03-10T13:30:00.000Z');
  });

  it('when content is a string with top-level media, then content becomes one item with that media', async () => {
    const media = [{ url: 'https://cdn.example.com/a.jpg', type: 'image' }];
    const r = await create({
      platform: 'instagram',
      accountId: 'acc_ig',
      status: 'draft',
      postType: 'feed',
      content: 'pic',
      media,
    });
    expect(r.status).toBe(201);
    expect(r.json.content).toEqual([{ text: 'pic', media }]);
    expect(r.json.media).toEqual(media);
  });

  it('when one Instagram item has two or more media, then it is promoted to a carousel', async () => {
    const media = [
      { url: 'https://cdn.example.com/1.jpg', type: 'image' },
      { url: 'https://cdn.example.com/2.jpg', type: 'image' },
    ];
    const r = await create({
      platform: 'instagram',
      accountId: 'acc_ig',
      status: 'draft',
      postType: 'feed',
      content: [{ text: 'c', media }],
    });
    expect(r.json.postType).toBe('carousel');
  });

  it('when posts are listed, then newest come first, filters apply, cancelled only when asked, pages are numbered', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(tweet({ status: 'draft', content: `t${i}` }))).json.id);
    const li = await create({
      platform: 'linkedin',
      accountId: 'acc_li',
      status: 'draft',
      postType: 'post',
      content: 'li',
    });
    expect((await call(sb.url, 'DELETE', `${WS}/${ids[0]}`, { key })).json).toEqual({ success: true });

    const all = await call(sb.url, 'GET', WS, { key });
    expect(all.json).toMatchObject({ page: 1, pageSize: 50, total: 5, totalPages: 1 });
    expect(all.json.items.map((p: { id: string }) => p.id)).toEqual([li.json.id, ids[4], ids[3], ids[2], ids[1]]);

    const page2 = await call(sb.url, 'GET', `${WS}?platform=x&pageSize=2&page=2`, { key });
    expect(page2.json).toMatchObject({ page: 2, pageSize: 2, total: 4, totalPages: 2 });
    expect(page2.json.items.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1]]);

    const cancelled = await call(sb.url, 'GET', `${WS}?status=cancelled`, { key });
    expect(cancelled.json.items.map((p: { id: string }) => p.id)).toEqual([ids[0]]);
    expect((await call(sb.url, 'GET', `${WS}?postType=post&accountId=acc_li`, { key })).json.total).toBe(1);
    expect((await call(sb.url, 'GET', `${WS}?accountId=acc_other`, { key })).json.total).toBe(0);

    const bad = await call(sb.url, 'GET', `${WS}?pageSize=101&status=nope`, { key });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details).sort()).toEqual(['pageSize', 'status']);
  });

  it('when a post is fetched, then 200 with the post, or 404 not_found', async () => {
    const c = await create(tweet());
    const r = await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key });
    expect(r.json).toEqual(c.json);
    const missing = await call(sb.url, 'GET', `${WS}/pst_missing`, { key });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('not_found');
  });

  it('when a scheduled post is patched, then content and time change and it fires at the new time', async () => {
    const c = await create(tweet({ status: 'scheduled', scheduledAt: '2030-03-10T13:00:00Z' }));
    const r = await call(sb.url, 'PATCH', `${WS}/${c.json.id}`, {
      key,
      body: { content: [{ text: 'edited' }], scheduledAt: '2030-03-10T14:00:00+00:00' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      status: 'scheduled',
      scheduledAt: '2030-03-10T14:00:00.000Z',
      content: [{ text: 'edited' }],
    });
    expect(r.json.items).toEqual([expect.objectContaining({ text: 'edited', status: 'scheduled' })]);
    clock.set(Date.parse('2030-03-10T13:30:00Z'));
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.status).toBe('scheduled');
    clock.set(Date.parse('2030-03-10T14:00:00Z'));
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.status).toBe('queued');
  });

  it('when a draft is patched to publish or scheduled, and a scheduled one back to draft, then the status follows', async () => {
    const d = await create(tweet({ status: 'draft' }));
    const toSched = await call(sb.url, 'PATCH', `${WS}/${d.json.id}`, {
      key,
      body: { status: 'scheduled', scheduledAt: '2030-03-11T00:00:00Z' },
    });
    expect(toSched.json.status).toBe('scheduled');
    const toDraft = await call(sb.url, 'PATCH', `${WS}/${d.json.id}`, { key, body: { status: 'draft' } });
    expect(toDraft.json.status).toBe('draft');
    const toPublish = await call(sb.url, 'PATCH', `${WS}/${d.json.id}`, { key, body: { status: 'publish' } });
    expect(toPublish.json.status).toBe('queued');
    const again = await call(sb.url, 'PATCH', `${WS}/${d.json.id}`, { key, body: { content: 'late' } });
    expect(again.status).toBe(409);
    expect(again.json.error).toBe('not_editable');
  });

  it('when a patch is invalid, then 400 names the field (past or zone-less time, non-editable field, scheduled without time)', async () => {
    const d = await create(tweet({ status: 'draft' }));
    const path = `${WS}/${d.json.id}`;
    const past = await call(sb.url, 'PATCH', path, { key, body: { scheduledAt: '2030-03-10T11:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.json.details.scheduledAt[0]).toMatch(/future/);
    const local = await call(sb.url, 'PATCH', path, { key, body: { scheduledAt: '2030-03-12T11:00:00' } });
    expect(local.json.details.scheduledAt[0]).toMatch(/zone/);
    const platform = await call(sb.url, 'PATCH', path, { key, body: { platform: 'linkedin' } });
    expect(platform.status).toBe(400);
    expect(platform.json.details.platform[0]).toMatch(/delete the post/);
    const noTime = await call(sb.url, 'PATCH', path, { key, body: { status: 'scheduled' } });
    expect(noTime.json.details.scheduledAt).toBeDefined();
    expect((await call(sb.url, 'PATCH', `${WS}/pst_nope`, { key, body: {} })).status).toBe(404);
  });

  it('when a post is cancelled, then it stays readable as cancelled and a second cancel is 404', async () => {
    const c = await create(tweet({ status: 'scheduled', scheduledAt: '2030-03-10T13:00:00Z' }));
    const path = `${WS}/${c.json.id}`;
    expect((await call(sb.url, 'DELETE', path, { key })).json).toEqual({ success: true });
    expect((await call(sb.url, 'GET', path, { key })).json.status).toBe('cancelled');
    const again = await call(sb.url, 'DELETE', path, { key });
    expect(again.status).toBe(404);
    expect(again.json.message).toMatch(/cancelled/);
    clock.set(Date.parse('2030-03-10T14:00:00Z'));
    await sb.tick();
    expect((await call(sb.url, 'GET', path, { key })).json.status).toBe('cancelled');
    // Its idempotency key stays used: the same key replays the original post.
    const replay = await call(sb.url, 'POST', WS, {
      key,
      idem: `k-${n}`,
      body: tweet({ status: 'scheduled', scheduledAt: '2030-03-10T13:00:00Z' }),
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json.id).toBe(c.json.id);
  });

  it('when a post is published or publishing, then it cannot be cancelled (404)', async () => {
    const c = await create(tweet());
    clock.advance(1000);
    await sb.tick();
    expect((await call(sb.url, 'GET', `${WS}/${c.json.id}`, { key })).json.status).toBe('publishing');
    expect((await call(sb.url, 'DELETE', `${WS}/${c.json.id}`, { key })).status).toBe(404);
    clock.advance(1000);
    await sb.tick();
    expect((await call(sb.url, 'DELETE', `${WS}/${c.json.id}`, { key })).status).toBe(404);
  });
});
