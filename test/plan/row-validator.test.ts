import { mapHeader } from '../../src/plan/sheet-contract';
import { validateRow } from '../../src/plan/row-validator';
import { HEADER, type RowSpec } from './plan-fixtures';

const map = mapHeader(HEADER);
const validate = (spec: RowSpec) =>
  validateRow(
    2,
    HEADER.map((h) => spec[h] ?? ''),
    map,
    'America/New_York',
  );
const errors = (spec: RowSpec) => validate(spec).messages.filter((m) => m.level === 'error');
const errorText = (spec: RowSpec) =>
  errors(spec)
    .map((m) => m.message)
    .join(' | ');
const base: RowSpec = { Key: 'k1', Platform: 'x', Account: 'acc_1', Content: 'Hello' };

describe('mapHeader', () => {
  it('matches names case-insensitively, accepts aliases, reports unknown and missing columns', () => {
    const m = mapHeader(['KEY', 'network', 'Handle', 'caption', 'scheduled_at', 'Notes', 'post-id']);
    expect(m.index).toMatchObject({ Key: 0, Platform: 1, Account: 2, Content: 3, 'Scheduled at': 4, 'Post ID': 6 });
    expect(m.unknown).toEqual(['Notes']);
    expect(mapHeader(['Key', 'Content']).missing).toEqual(['Platform', 'Account']);
  });
});

describe('validateRow', () => {
  it('accepts a good tweet, normalising x to twitter and defaulting the post type', () => {
    const row = validate(base);
    expect(row.messages).toEqual([]);
    expect(row.platform).toBe('twitter');
    expect(row.postType).toBe('tweet');
  });

  it('names the column and the fix for missing required fields and unknown platforms', () => {
    expect(errorText({ ...base, Platform: '' })).toContain('Platform: is empty');
    expect(errorText({ ...base, Platform: 'myspace' })).toContain('Platform: "myspace" is not a platform');
    expect(errorText({ ...base, Account: '' })).toContain('Account: is empty');
    expect(errorText({ ...base, 'Post type': 'story' })).toContain('Post type: "story" is not a X post type');
    expect(errors({ ...base, Key: '' })[0]!.column).toBe('Key');
  });

  it('counts tweets the way X does: URLs 23, emoji and CJK 2', () => {
    const url = 'https://example.com/' + 'a'.repeat(200);
    expect(errors({ ...base, Content: `${url} ${'b'.repeat(256)}` })).toEqual([]); // 23 + 1 + 256 = 280
    expect(errorText({ ...base, Content: `${url} ${'b'.repeat(257)}` })).toContain('281 weighted characters');
    expect(errorText({ ...base, Content: '😀'.repeat(141) })).toContain('282 weighted');
    expect(errors({ ...base, Content: '你'.repeat(140) })).toEqual([]);
    expect(errorText({ ...base, Content: '你'.repeat(141) })).toContain('Content:');
    expect(errorText({ ...base, Platform: 'linkedin', Content: 'x'.repeat(3001) })).toContain('LinkedIn allows 3000');
  });

  it('splits threads on lines holding only ---, allows 25 parts and refuses 26', () => {
    const parts = (n: number) => Array.from({ length: n }, (_, i) => `part ${i}`).join('\n---\n');
    const ok = validate({ ...base, Content: parts(25) });
    expect(ok.postType).toBe('thread');
    expect(ok.parts).toHaveLength(25);
    expect(ok.messages).toEqual([]);
    expect(errorText({ ...base, Content: parts(26) })).toContain('at most 25');
    expect(errorText({ ...base, 'Post type': 'tweet', Content: parts(2) })).toContain('set Post type to thread');
    expect(validate({ ...base, Content: 'a --- b' }).parts).toEqual(['a --- b']);
  });

  it('checks media counts per post type: carousel 2-10, tweet 4 images or 1 video', () => {
    const imgs = (n: number) => Array.from({ length: n }, (_, i) => `https://cdn.example.com/${i}.jpg`).join(', ');
    const ig = { ...base, Platform: 'instagram' };
    expect(validate({ ...ig, Media: imgs(2) }).postType).toBe('carousel');
    expect(errorText({ ...ig, 'Post type': 'carousel', Media: imgs(1) })).toContain('2 to 10');
    expect(errorText({ ...ig, Media: imgs(11) })).toContain('2 to 10');
    expect(errors({ ...ig, Media: imgs(10) })).toEqual([]);
    expect(errorText({ ...ig, Media: '' })).toContain('exactly 1');
    expect(errorText({ ...base, Media: imgs(5) })).toContain('at most 4');
    expect(errorText({ ...base, Media: 'https://cdn.example.com/a.mp4\nhttps://cdn.example.com/b.jpg' })).toContain(
      '1 video',
    );
  });

  it('requires a YouTube title of at most 100 characters and puts it in options', () => {
    const yt = { ...base, Platform: 'youtube', Media: 'https://cdn.example.com/v.mp4' };
    expect(errorText(yt)).toContain('Title: is empty');
    expect(errorText({ ...yt, Title: 't'.repeat(101) })).toContain('YouTube allows 100');
    expect(validate({ ...yt, Title: 'My video' }).options).toEqual({ title: 'My video' });
  });

  it('refuses non-https, private, loopback and link-local media, and Photos links', () => {
    expect(errorText({ ...base, Media: 'http://cdn.example.com/a.jpg' })).toContain('must use https');
    for (const host of [
      '127.0.0.1',
      'localhost',
      '10.1.2.3',
      '192.168.0.4',
      '172.20.0.1',
      '169.254.169.254',
      '[::1]',
      '[fe80::1]',
      '[fd00::2]',
    ]) {
      expect(errorText({ ...base, Media: `https://${host}/a.jpg` })).toContain('private, loopback or link-local');
    }
    expect(errorText({ ...base, Media: 'https://photos.app.goo.gl/abcdef' })).toContain('Google Photos');
    expect(validate({ ...base, Media: 'med_01ABC, https://cdn.example.com/a.png' }).media).toEqual([
      { id: 'med_01ABC' },
      { url: 'https://cdn.example.com/a.png', type: 'image' },
    ]);
  });

  it('reads Drive files typed or pasted by hand as Drive references, whatever link form Drive handed out', () => {
    const id = '1AbCdEfGhIjKlMnOpQrStUvWxYz_-0123';
    for (const entry of [
      `drive:${id}`,
      `https://drive.google.com/file/d/${id}/view?usp=sharing`,
      `https://drive.google.com/file/d/${id}`,
      `https://drive.google.com/open?id=${id}`,
      `https://drive.google.com/uc?id=${id}&export=download`,
      `https://drive.usercontent.google.com/download?id=${id}`,
    ]) {
      const row = validate({ ...base, Media: entry });
      expect([entry, row.media, errors({ ...base, Media: entry })]).toEqual([entry, [{ driveFileId: id }], []]);
    }
    // Mixed with other media; a tweet with 2 Drive images and a med_ id is fine (unknown kinds until metadata is read).
    expect(
      validate({ ...base, Media: `drive:${id}, med_01A\nhttps://drive.google.com/file/d/${id}x/view` }).media,
    ).toEqual([{ driveFileId: id }, { id: 'med_01A' }, { driveFileId: `${id}x` }]);
  });

  it('names what to do with Drive links that name no file, Google Docs files and malformed drive: entries', () => {
    expect(errorText({ ...base, Media: 'https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOp' })).toContain(
      'names no file',
    );
    expect(errorText({ ...base, Media: 'https://docs.google.com/document/d/1AbCdEfGhIjKlMnOp/edit' })).toContain(
      'download it as PDF',
    );
    expect(errorText({ ...base, Media: 'drive:bad id!' })).toContain('drive:<file id>');
    expect(errorText({ ...base, Media: 'drive:short' })).toContain('drive:<file id>');
  });

  it('reports bad Options JSON with the parse problem, and a bad Time zone by column', () => {
    expect(errorText({ ...base, Options: '{"a":' })).toMatch(/Options: is not valid JSON \(.+\)/);
    expect(errorText({ ...base, Options: '[1,2]' })).toContain('Options: must be a JSON object');
    expect(validate({ ...base, Options: '{"reply_settings":"following"}' }).options).toEqual({
      reply_settings: 'following',
    });
    expect(errorText({ ...base, 'Time zone': 'Mars/Olympus' })).toContain(
      'Time zone: "Mars/Olympus" is not an IANA time zone',
    );
    expect(validate({ ...base, 'Time zone': 'Asia/Kathmandu' }).zone).toBe('Asia/Kathmandu');
  });

  it('when Options is valid JSON nested deeper than 8 levels or longer than 10,000 characters, then it is INVALID with a message saying what to write', () => {
    // 24,000 levels in under 50,000 characters: JSON.parse reads it, serialising it again would overflow the stack.
    const deep = `{"a":${'['.repeat(24_000)}${']'.repeat(24_000)}}`;
    expect(deep.length).toBeLessThan(50_000);
    expect(errorText({ ...base, Options: deep })).toBe(
      'Options: nests objects or arrays more than 8 levels deep: write a flat object such as {"privacy":"public"}.',
    );
    expect(validate({ ...base, Options: deep }).options).toBeUndefined();
    expect(errorText({ ...base, Options: JSON.stringify({ note: 'x'.repeat(10_000) }) })).toMatch(
      /^Options: is 10011 characters of JSON; at most 10000 are accepted: keep only the options Postato needs\.$/,
    );
    // Brackets inside strings are text, not nesting; eight real levels are fine.
    const eight = '{"a":[[[[[[{"b":"[[[[[[[[[[[[[[[[[[[["}]]]]]]}';
    expect(errors({ ...base, Options: eight })).toEqual([]);
    expect(errorText({ ...base, Options: '{"a":[[[[[[[{"b":1}]]]]]]]}' })).toContain('more than 8 levels deep');
  });

  it('marks rows whose input cells are all blank as blank', () => {
    expect(validate({ Key: 'k9' }).blank).toBe(true);
  });
});
