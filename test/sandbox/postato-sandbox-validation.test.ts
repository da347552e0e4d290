// Validation of the Postato sandbox over real HTTP: 400 INVALID_REQUEST with per-field details, 422 VALIDATION_FAILED
// for the platform rules of §10, and the same rules moved to delivery time by setting.
import { DateTime } from 'luxon';
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { checkScheduledAt } from '../../src/sandbox/postato-sandbox-validation';
import { call, newKey, tweet } from './postato-sandbox-test-helpers';

const WS = '/v1/workspaces/wks_1/posts';
const vid = { url: 'https://cdn.example.com/v.mp4', type: 'video' };
const img = (i: number) => ({ url: `https://cdn.example.com/${i}.jpg`, type: 'image' });

describe('Postato sandbox validation', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  let n = 0;
  const create = (body: unknown) => call(sb.url, 'POST', WS, { key, idem: `v-${++n}`, body });
  beforeAll(async () => {
    clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    key = newKey();
    sb = await startPostatoSandbox({ clock, tickIntervalMs: 0 });
  });
  afterAll(() => sb.close());

  it('when fields are missing or enums are wrong, then 400 INVALID_REQUEST lists each field', async () => {
    const r = await create({ platform: 'myspace', status: 'soon', content: 5 });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('INVALID_REQUEST');
    expect(Object.keys(r.json.details).sort()).toEqual(['accountId', 'content', 'platform', 'postType', 'status']);
    expect(r.json.details.accountId).toEqual(['is required']);
  });

  it('when the body is not JSON, then 400 with a message saying so', async () => {
    const r = await create('{not json');
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/not valid JSON/);
  });

  it('when the postType does not belong to the platform, then 400 on postType', async () => {
    const r = await create(tweet({ postType: 'reel' }));
    expect(r.status).toBe(400);
    expect(r.json.details.postType[0]).toMatch(/tweet, thread/);
  });

  it('when scheduledAt is missing, zone-less or not in the future, then 400 on scheduledAt', async () => {
    const missing = await create(tweet({ status: 'scheduled' }));
    expect(missing.json.details.scheduledAt[0]).toMatch(/required/);
    const local = await create(tweet({ status: 'scheduled', scheduledAt: '2030-01-02T10:00:00' }));
    expect(local.status).toBe(400);
    expect(local.json.details.scheduledAt[0]).toMatch(/zone/);
    const now = await create(tweet({ status: 'scheduled', scheduledAt: '2030-01-01T00:00:00Z' }));
    expect(now.json.details.scheduledAt[0]).toMatch(/future/);
    const garbage = await create(tweet({ status: 'scheduled', scheduledAt: '2030-13-45T10:00:00Z' }));
    expect(garbage.status).toBe(400);
  });

  it.each([
    '2030-01-02T10:00:00Z',
    '2030-01-02T10:00Z',
    '2030-01-02T10:00:00.5-05:00',
    '2030-01-02T10:00:00.1239+05:30',
    '2030-01-02T00:30:00+01:00',
    '2030-12-31T23:30:00-03:00',
    '2032-02-29T12:00:00Z',
    '2031-02-29T12:00:00Z',
    '2030-04-31T12:00:00Z',
    '2030-01-02T24:00:00Z',
    '2030-01-02T10:00:60Z',
    '2030-01-02T10:00:00+0530',
    '2030-01-02t10:00:00z',
    '2030-01-02T10:00:00+24:00',
  ])('when scheduledAt is %s, then it is read as luxon reads it (the same instant in UTC, or refused)', (value) => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const parsed = DateTime.fromISO(value, { setZone: true });
    const result = checkScheduledAt(value, now);
    if (parsed.isValid) expect(result).toEqual({ ok: true, utc: parsed.toUTC().toISO() });
    else expect(result.ok).toBe(false);
  });

  it('when media is http:// or array content has top-level media, then 400', async () => {
    const http = await create({ ...tweet(), media: [{ url: 'http://cdn.example.com/a.jpg', type: 'image' }] });
    expect(http.status).toBe(400);
    expect(http.json.details['media.0.url'][0]).toMatch(/https/);
    const both = await create({ ...tweet({ content: [{ text: 'a' }] }), media: [img(1)] });
    expect(both.json.details.media[0]).toMatch(/string content/);
  });

  it.each([
    ['a tweet over 280 characters', tweet({ content: 'x'.repeat(281) }), 'content[0].text', 'text_too_long'],
    [
      'a thread over 25 tweets',
      tweet({ postType: 'thread', content: Array.from({ length: 26 }, () => ({ text: 't' })) }),
      'content',
      'thread_too_long',
    ],
    [
      'a tweet with 5 images',
      tweet({ content: [{ text: 't', media: [1, 2, 3, 4, 5].map(img) }] }),
      'content[0].media',
      'media_count',
    ],
    [
      'an Instagram caption over 2,200',
      {
        platform: 'instagram',
        accountId: 'acc_ig',
        status: 'publish',
        postType: 'feed',
        content: 'x'.repeat(2201),
        media: [img(1)],
      },
      'content[0].text',
      'text_too_long',
    ],
    [
      'an Instagram feed post without media',
      { platform: 'instagram', accountId: 'acc_ig', status: 'publish', postType: 'feed', content: 'hi' },
      'media',
      'media_count',
    ],
    [
      'an Instagram carousel of 11',
      {
        platform: 'instagram',
        accountId: 'acc_ig',
        status: 'publish',
        postType: 'carousel',
        content: [{ text: 'c', media: Array.from({ length: 11 }, (_, i) => img(i)) }],
      },
      'media',
      'media_count',
    ],
    [
      'a LinkedIn post over 3,000',
      { platform: 'linkedin', accountId: 'acc_li', status: 'publish', postType: 'post', content: 'x'.repeat(3001) },
      'content[0].text',
      'text_too_long',
    ],
    [
      'a TikTok photo post with one image',
      { platform: 'tiktok', accountId: 'acc_tt', status: 'publish', postType: 'photo', content: 'p', media: [img(1)] },
      'media',
      'media_count',
    ],
    [
      'a YouTube video without a title',
      { platform: 'youtube', accountId: 'acc_yt', status: 'publish', postType: 'video', content: 'd', media: [vid] },
      'options.title',
      'title_required',
    ],
    [
      'a YouTube title over 100',
      {
        platform: 'youtube',
        accountId: 'acc_yt',
        status: 'publish',
        postType: 'video',
        content: 'd',
        media: [vid],
        options: { title: 't'.repeat(101) },
      },
      'options.title',
      'title_too_long',
    ],
  ])('when %s is created, then 422 VALIDATION_FAILED names the rule', async (_name, body, field, code) => {
    const r = await create(body);
    expect(r.status).toBe(422);
    expect(r.json.error).toBe('VALIDATION_FAILED');
    expect(r.json.errors).toContainEqual(
      expect.objectContaining({ field, code, platform: (body as { platform: string }).platform }),
    );
    expect(r.json.message).toEqual(expect.any(String));
  });

  it('when posts are at the limits, then they are accepted', async () => {
    // X's weighted length: an emoji counts 2, so 140 of them fill a tweet.
    expect((await create(tweet({ content: '😀'.repeat(140) }))).status).toBe(201);
    expect((await create(tweet({ content: 'x'.repeat(280) }))).status).toBe(201);
    expect(
      (await create(tweet({ postType: 'thread', content: Array.from({ length: 25 }, () => ({ text: 't' })) }))).status,
    ).toBe(201);
    const yt = {
      platform: 'youtube',
      accountId: 'acc_yt',
      status: 'draft',
      postType: 'short',
      content: 'd',
      media: [vid],
      options: { title: 't'.repeat(100) },
    };
    expect((await create(yt)).status).toBe(201);
  });

  it('when a tweet is measured, then it is counted as X counts it: every link 23, emoji and CJK 2', async () => {
    const tooLong = async (text: string) => {
      const r = await create(tweet({ content: text }));
      return r.status === 422 ? (r.json.errors as Array<{ message: string }>)[0]!.message : r.status;
    };
    // A 300-character link counts 23: with a space and 256 letters the tweet is exactly 280.
    const link = `https://example.com/${'a'.repeat(280)}`;
    expect(await tooLong(`${link} ${'x'.repeat(256)}`)).toBe(201);
    expect(await tooLong(`${link} ${'x'.repeat(257)}`)).toBe('is 281 characters; twitter allows at most 280');
    expect(await tooLong('😀'.repeat(141))).toBe('is 282 characters; twitter allows at most 280');
    expect(await tooLong('漢'.repeat(141))).toBe('is 282 characters; twitter allows at most 280');
    // Other platforms count code points: 2,200 emoji fill an Instagram caption.
    const ig = { platform: 'instagram', accountId: 'acc_ig', status: 'draft', postType: 'feed', media: [img(0)] };
    expect((await create({ ...ig, content: '😀'.repeat(2200) })).status).toBe(201);
  });

  it('when validateAt is delivery, then a rule-breaking post is accepted and ends failed with an error naming the rule', async () => {
    sb.update({ validateAt: 'delivery', deliveryStepMs: 100 });
    try {
      const r = await create(tweet({ content: 'x'.repeat(300) }));
      expect(r.status).toBe(201);
      clock.advance(200);
      await sb.tick();
      const post = await call(sb.url, 'GET', `${WS}/${r.json.id}`, { key });
      expect(post.json.status).toBe('failed');
      expect(post.json.error).toMatch(/^text_too_long: content\[0\]\.text is 300 characters/);
      expect(post.json.platformPostId).toBeUndefined();
    } finally {
      sb.update({ validateAt: 'create' });
    }
  });
});
