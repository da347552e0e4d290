/** Canonical JSON and idempotency keys: stable under key order, new on any content change; tenant ids from keys. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, idempotencyKeyFor, tenantIdFor } from '../../src/runs/idempotency-key';

const body = {
  platform: 'twitter',
  accountId: 'acc_1',
  status: 'scheduled',
  postType: 'post',
  content: [{ text: 'Hello', media: [{ url: 'https://e.x/a.png', type: 'image' }] }],
  scheduledAt: '2030-01-01T10:00:00.000Z',
  options: { b: 1, a: [3, 2, 1] },
};
const where = { workspaceId: 'wks_1', spreadsheetId: 'sheet-1', rowKey: 'row-abc' };

describe('canonicalJson', () => {
  test('when keys are sorted recursively, then output has no whitespace and arrays keep their order', () => {
    expect(canonicalJson({ b: { d: 1, c: [2, { z: 1, y: 2 }] }, a: 'x' })).toBe(
      '{"a":"x","b":{"c":[2,{"y":2,"z":1}],"d":1}}',
    );
  });

  test('when keys look like integers, then they are still sorted as strings', () => {
    expect(canonicalJson({ 9: 'a', 10: 'b', x: 1 })).toBe('{"10":"b","9":"a","x":1}');
  });

  test('when values are undefined, then they are dropped as JSON.stringify does; Dates become ISO strings', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: new Date(Date.UTC(2030, 0, 1)) })).toBe(
      '{"b":[null],"c":"2030-01-01T00:00:00.000Z"}',
    );
  });

  test('for any JSON value, canonical output parses back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
});

describe('idempotencyKeyFor', () => {
  test('when the same row is planned again with keys in another order, then the key is the same', () => {
    const reordered = Object.fromEntries(Object.entries(body).reverse()) as typeof body;
    reordered.options = { a: [3, 2, 1], b: 1 };
    reordered.content = [{ media: [{ type: 'image', url: 'https://e.x/a.png' }], text: 'Hello' }];
    expect(Object.keys(reordered)).not.toEqual(Object.keys(body));
    const k1 = idempotencyKeyFor({ ...where, body });
    expect(k1).toMatch(/^ps1-[0-9a-f]{40}$/);
    expect(idempotencyKeyFor({ ...where, body: reordered })).toBe(k1);
  });

  test('when any content, time, option or place changes, then the key changes', () => {
    const base = idempotencyKeyFor({ ...where, body });
    const variants = [
      { ...where, body: { ...body, content: [{ text: 'Hello!', media: body.content[0]!.media }] } },
      { ...where, body: { ...body, scheduledAt: '2030-01-01T10:00:01.000Z' } },
      { ...where, body: { ...body, options: { b: 1, a: [1, 2, 3] } } },
      { ...where, rowKey: 'row-abd', body },
      { ...where, spreadsheetId: 'sheet-2', body },
      { ...where, workspaceId: 'wks_2', body },
    ];
    const keys = variants.map((v) => idempotencyKeyFor(v));
    for (const k of keys) expect(k).not.toBe(base);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('when parts would concatenate to the same text, then the keys still differ', () => {
    expect(idempotencyKeyFor({ workspaceId: 'a:b', spreadsheetId: 'c', rowKey: 'r', body: {} })).not.toBe(
      idempotencyKeyFor({ workspaceId: 'a', spreadsheetId: 'b:c', rowKey: 'r', body: {} }),
    );
  });

  test('for any two different bodies, the keys differ', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        expect(idempotencyKeyFor({ ...where, body: a })).not.toBe(idempotencyKeyFor({ ...where, body: b }));
      }),
    );
  });
});

describe('tenantIdFor', () => {
  test('when the same API key is hashed twice, then the tenant id is stable, differs per key and hides the key', () => {
    const key = 'smcp_' + randomBytes(32).toString('hex');
    const other = 'smcp_' + randomBytes(32).toString('hex');
    const id = tenantIdFor(key);
    expect(tenantIdFor(key)).toBe(id);
    expect(tenantIdFor(other)).not.toBe(id);
    expect(id).toMatch(/^tnt_[0-9a-f]{32}$/);
    expect(id).not.toContain(key.slice(5, 17));
  });
});
