/**
 * The zod-free reading of a post (the publish path's hot answer) must equal what postSchema returns, and must never
 * accept a body the schema rejects: whatever it declines goes through the schema.
 */
import { postSchema, readPlainPost } from '../../src/postato/postato-schemas';

/** A create answer as the sandbox gives it. */
const sandboxPost = {
  id: 'pst_01M8PMSAGZCGPVW8FJ8EN9C9PR',
  status: 'scheduled',
  platform: 'twitter',
  accountId: 'acc_b',
  postType: 'tweet',
  content: [{ text: 'Spring launch #tag' }],
  scheduledAt: '2026-12-01T16:32:08.624Z',
  createdAt: '2026-11-30T16:32:08.735Z',
  updatedAt: '2026-11-30T16:32:08.735Z',
  items: [{ id: 'itm_1', index: 0, text: 'Spring launch #tag', status: 'scheduled' }],
};

/** Each as JSON.parse would hand it over, so both readings see a fresh copy. */
const accepted: Record<string, unknown> = {
  'the sandbox create answer': sandboxPost,
  'only id and status': { id: 'p', status: 'queued' },
  'platform x, MCP names of the published ids, nulls and unknown fields': {
    ...sandboxPost,
    platform: 'x',
    externalId: '1789',
    externalUrl: 'https://x.com/a/status/1789',
    platformPostId: null,
    platformUrl: null,
    scheduledAt: null,
    error: null,
    approval: null,
    futureField: { nested: [1, 'two'] },
  },
  'a string content, media with extra fields, options': {
    ...sandboxPost,
    content: 'Plain text',
    media: [{ id: 'med_1', url: 'https://cdn.example/a.png', type: 'image', alt: 'A', width: 10 }],
    options: { privacy: 'public', tags: ['a'] },
  },
  'content items with media and a thread of items': {
    ...sandboxPost,
    content: [
      { text: 'one', media: [{ id: 'med_1' }] },
      { text: 'two', extra: true },
    ],
    items: [{ index: 0 }, { index: 1, id: 'itm_2', extra: 'kept' }],
  },
  'platform ids under their own names win over the MCP ones': {
    ...sandboxPost,
    platformPostId: 'own',
    platformUrl: 'https://own',
    externalId: 'mcp',
    externalUrl: 'https://mcp',
  },
};

/** Bodies the schema rejects: the plain reading must decline each. */
const rejected: Record<string, unknown> = {
  'not an object': ['p'],
  null: null,
  'an empty id': { ...sandboxPost, id: '' },
  'no status': { id: 'p' },
  'a numeric platform': { ...sandboxPost, platform: 7 },
  'a numeric scheduledAt': { ...sandboxPost, scheduledAt: 1_700_000_000 },
  'a content item without text': { ...sandboxPost, content: [{ media: [] }] },
  'a content number': { ...sandboxPost, content: 3 },
  'media that is not a list': { ...sandboxPost, media: { id: 'm' } },
  'a media ref with a numeric id': { ...sandboxPost, media: [{ id: 1 }] },
  'options as a list': { ...sandboxPost, options: ['public'] },
  'a fractional item index': { ...sandboxPost, items: [{ index: 1.5 }] },
  'a null accountId': { ...sandboxPost, accountId: null },
};

const fresh = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('readPlainPost', () => {
  it.each(Object.keys(accepted))('when the answer is %s, then it reads exactly what postSchema reads', (name) => {
    const plain = readPlainPost(fresh(accepted[name]));
    expect(plain).toBeDefined();
    expect(plain).toStrictEqual(postSchema.parse(fresh(accepted[name])));
  });

  it.each(Object.keys(rejected))('when the answer has %s, then it declines and the schema refuses it', (name) => {
    expect(readPlainPost(fresh(rejected[name]))).toBeUndefined();
    expect(postSchema.safeParse(fresh(rejected[name])).success).toBe(false);
  });

  it('when a failed post carries an error or an approval, then it leaves the reading to the schema', () => {
    const failed = { ...sandboxPost, status: 'failed', error: { message: 'token expired' } };
    const reviewed = { ...sandboxPost, approval: { status: 'rejected', comment: 'off brand' } };
    expect(readPlainPost(fresh(failed))).toBeUndefined();
    expect(readPlainPost(fresh(reviewed))).toBeUndefined();
    expect(postSchema.parse(fresh(failed)).error).toBe('token expired');
  });

  it('when the body has a __proto__ key, then it declines rather than give the copy a prototype', () => {
    const hostile = JSON.parse('{"id":"p","status":"scheduled","__proto__":{"polluted":true}}') as unknown;
    expect(readPlainPost(hostile)).toBeUndefined();
  });
});
